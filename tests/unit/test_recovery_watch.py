import asyncio
from types import SimpleNamespace

import pytest
from aiokafka.errors import KafkaConnectionError

from chat4all_app.workarounds import recovery_watch, stall_watch
from chat4all_app.workarounds.recovery_watch import NotConsuming, RecoveryWatch


def test_not_consuming_is_overdue_only_after_the_limit_without_a_break():
    state = NotConsuming(limit_s=90)
    assert not state.overdue(0, consuming=False)
    assert not state.overdue(89, consuming=False)
    assert state.overdue(90, consuming=False)
    assert not state.overdue(91, consuming=True)  # consuming again: the clock starts over
    assert not state.overdue(150, consuming=False)
    assert state.overdue(240, consuming=False)


def faust_app(rebalancing=False, in_recovery=False, flow_active=True, built=True, should_stop=False,
              app_id="recovery-watch-test"):
    consumer = SimpleNamespace(flow_active=flow_active)
    return SimpleNamespace(rebalancing=rebalancing, in_recovery=in_recovery, should_stop=should_stop,
                           conf=SimpleNamespace(id=app_id),
                           _consumer=consumer if built else None, consumer=consumer)


@pytest.mark.parametrize("app,expected", [
    (faust_app(), True),
    (faust_app(rebalancing=True), False),
    (faust_app(in_recovery=True), False),
    (faust_app(flow_active=False), False),
    (faust_app(built=False), False),
    (faust_app(rebalancing=True, should_stop=True), True),  # shutting down: nothing to restart
])
def test_consuming_means_no_rebalance_no_recovery_and_the_flow_on(app, expected):
    assert recovery_watch.consuming(app) is expected


@pytest.fixture
def restarts(monkeypatch):
    calls = []
    monkeypatch.setattr(recovery_watch, "restart_in_place", lambda app, reason: calls.append(reason))
    return calls


@pytest.fixture
def clock(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(recovery_watch.time, "monotonic", lambda: now[0])
    return now


async def test_a_recovery_that_does_not_end_restarts_the_worker_once_the_broker_answers(restarts, clock):
    async def broker_answers():
        return None

    watch = RecoveryWatch(faust_app(in_recovery=True), broker_answers, limit_s=90, interval_s=5)
    await watch.check()
    clock[0] += 89
    await watch.check()
    assert restarts == []
    clock[0] += 1
    await watch.check()
    assert len(restarts) == 1 and "in_recovery=True" in restarts[0]


async def test_a_broker_outage_is_not_counted_and_the_count_starts_afresh_after_it(restarts, clock):
    down = [False]

    async def broker_answers():
        if down[0]:
            raise KafkaConnectionError("down")

    watch = RecoveryWatch(faust_app(rebalancing=True), broker_answers, limit_s=90, interval_s=5)
    await watch.check()
    clock[0] += 60
    down[0] = True
    with pytest.raises(KafkaConnectionError):
        await watch.check()  # nobody can consume without a broker
    clock[0] += 100
    with pytest.raises(KafkaConnectionError):
        await watch.check()
    down[0] = False
    clock[0] += 2
    await watch.check()  # the broker is back: counting starts now, not from before the outage
    clock[0] += 89
    await watch.check()
    assert restarts == []
    clock[0] += 1
    await watch.check()
    assert len(restarts) == 1


async def test_a_batch_in_progress_is_consuming_even_while_a_rebalance_waits_for_it(restarts, clock):
    async def broker_answers():
        return None

    app = faust_app(rebalancing=True, app_id="busy-test")
    activity = stall_watch.BatchActivity()
    stall_watch._ACTIVITIES[app.conf.id] = [activity]
    try:
        activity.batch_started([], 1000.0)  # store-and-forward: held while the provider is down
        watch = RecoveryWatch(app, broker_answers, limit_s=90, interval_s=5)
        for _ in range(5):
            clock[0] += 60
            await watch.check()
        assert restarts == []
        activity.batch_done()
        await watch.check()
        clock[0] += 90
        await watch.check()
        assert len(restarts) == 1
    finally:
        del stall_watch._ACTIVITIES[app.conf.id]


async def test_a_consuming_worker_is_never_restarted(restarts, clock):
    async def broker_answers():
        return None

    watch = RecoveryWatch(faust_app(), broker_answers, limit_s=90, interval_s=5)
    for _ in range(10):
        clock[0] += 60
        await watch.check()
    assert restarts == []


async def test_the_watch_runs_from_start_to_stop_and_survives_a_failing_check(restarts):
    app = faust_app(in_recovery=True)
    calls = []

    async def broker_answers():
        calls.append(1)
        raise KafkaConnectionError("down")

    watch = RecoveryWatch(app, broker_answers, limit_s=0, interval_s=0.01)
    await watch.start()
    await asyncio.sleep(0.1)
    assert len(calls) >= 2  # a failed check did not end the loop
    await watch.stop()
    seen = len(calls)
    await asyncio.sleep(0.05)
    assert len(calls) == seen and restarts == []
