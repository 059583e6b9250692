from cassandra.query import named_tuple_factory

from chat4all_app.storage.cassandra import cached_named_tuple_factory

COLUMNS = ["[applied]", "message_id", "status"]


def test_rows_are_the_drivers_rows_with_one_class_per_column_list():
    rows = [(True, "m1", "SENT"), (False, "m2", "DELIVERED")]
    ours, drivers = cached_named_tuple_factory(COLUMNS, rows), named_tuple_factory(COLUMNS, rows)
    assert ours == drivers and ours[0]._fields == drivers[0]._fields == ("applied", "message_id", "status")
    assert ours[1].status == "DELIVERED"
    again = cached_named_tuple_factory(list(COLUMNS), [(True, "m3", "READ")])
    assert type(again[0]) is type(ours[0])  # built once, not per result like the driver's
    assert type(named_tuple_factory(COLUMNS, rows)[0]) is not type(drivers[0])


def test_an_empty_result_is_an_empty_list():
    assert cached_named_tuple_factory(COLUMNS, []) == []
