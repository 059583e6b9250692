from chat4all_app.bootstrap.cassandra_schema import Migration, load_migrations


def test_migrations_are_numbered_from_one_without_gaps():
    versions = [m.version for m in load_migrations()]
    assert versions == list(range(1, len(versions) + 1))


def test_statements_are_split_and_comments_dropped():
    m = Migration(1, "x", "-- a comment; with a semicolon\nCREATE TABLE a (k int PRIMARY KEY);\n\n"
                          "CREATE TABLE b (k int PRIMARY KEY);\n")
    assert m.statements() == ["CREATE TABLE a (k int PRIMARY KEY)",
                              "CREATE TABLE b (k int PRIMARY KEY)"]


def test_every_statement_is_rerunnable():
    for m in load_migrations():
        for statement in m.statements():
            assert "IF NOT EXISTS" in statement.upper(), statement


def test_checksum_changes_with_the_text():
    assert Migration(1, "x", "a").checksum != Migration(1, "x", "b").checksum



def test_data_steps_belong_to_existing_migrations():
    from chat4all_app.bootstrap.cassandra_schema import DATA_STEPS

    assert set(DATA_STEPS) <= {m.version for m in load_migrations()}
