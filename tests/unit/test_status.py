import pytest

from chat4all_app.delivery_status import Status, Transition, can_transition, transition

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
    (S.SENT, S.READ, False),          # READ only after DELIVERED
    (S.PENDING, S.READ, False),
    (S.ACCEPTED, S.READ, False),
    (None, S.READ, True),             # unknown to the status table: stored as DELIVERED
])
def test_transitions_are_monotonic(current, new, allowed):
    assert can_transition(current, new) is allowed


T = Transition


@pytest.mark.parametrize("current, new, kind", [
    (S.SENT, S.SENT, T.STALE),               # a repeat
    (S.DELIVERED, S.SENT, T.STALE),          # a late SENT overtaken by the receipt
    (S.READ, S.DELIVERED, T.STALE),
    (S.READ, S.SENT, T.STALE),               # a late SENT never moves READ back
    (S.FAILED, S.FAILED, T.STALE),
    (S.SENT, S.READ, T.IMPOSSIBLE),          # read before it was delivered
    (S.PENDING, S.READ, T.IMPOSSIBLE),
    (S.DELIVERED, S.FAILED, T.IMPOSSIBLE),   # failed after it was delivered
    (S.READ, S.FAILED, T.IMPOSSIBLE),
    (S.FAILED, S.DELIVERED, T.IMPOSSIBLE),   # delivered after it failed for good
    (S.FAILED, S.SENT, T.IMPOSSIBLE),
    (S.DELIVERED, S.READ, T.APPLY),
    (S.SENT, S.FAILED, T.APPLY),
])
def test_a_refused_transition_is_either_stale_or_impossible(current, new, kind):
    assert transition(current, new) is kind
    assert can_transition(current, new) is (kind is T.APPLY)


def test_acceptance_time_is_read_back_from_the_time_uuid():
    import time

    from chat4all_app.ids import accepted_epoch, accepted_id

    before = time.time()
    minted = str(accepted_id())
    assert before - 0.01 <= accepted_epoch(minted) <= time.time() + 0.01
