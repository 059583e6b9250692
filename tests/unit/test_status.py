import pytest

from chat4all_app.status import Status, can_transition

S = Status


@pytest.mark.parametrize("current, new, allowed", [
    (None, S.PENDING, True),
    (S.PENDING, S.SENT, True),
    (S.SENT, S.DELIVERED, True),
    (S.PENDING, S.DELIVERED, True),   # a receipt may overtake SENT
    (S.DELIVERED, S.READ, True),
    (S.DELIVERED, S.SENT, False),     # never backwards
    (S.SENT, S.SENT, False),          # repeats are ignored
    (S.READ, S.DELIVERED, False),
    (S.PENDING, S.FAILED, True),
    (S.SENT, S.FAILED, True),
    (S.DELIVERED, S.FAILED, False),   # delivered stays delivered
    (S.FAILED, S.SENT, False),        # terminal
    (S.FAILED, S.READ, False),
])
def test_transitions_are_monotonic(current, new, allowed):
    assert can_transition(current, new) is allowed


def test_acceptance_time_is_read_back_from_the_time_uuid():
    import time

    from chat4all_app.ids import accepted_epoch, accepted_id

    before = time.time()
    minted = str(accepted_id())
    assert before - 0.01 <= accepted_epoch(minted) <= time.time() + 0.01
