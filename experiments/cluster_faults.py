"""The fault experiments of the replicated backbone (`make up CLUSTER=3`): one Kafka broker or one
Cassandra node killed, every node restarted in turn, and two brokers of three lost, each under a
constant k6 load. What they measure is what a user would notice: 5xx answers, the seconds in which
they came, and how long deliveries stopped."""

from __future__ import annotations

import asyncio
import collections
import itertools
import re

from aiokafka.admin import AIOKafkaAdminClient

from devstack import nodetool
from devstack.cluster import Cluster
from devstack.layout import Layout
from devstack.probes import cassandra_formed, kafka_formed
from experiments.probe import scrape_or_nothing
from experiments.run import Run, status_of
from experiments.timeline import Timeline, error_window

# Below what the cluster sustains on this 2-core machine (six JVMs next to the app): a delivery
# stall is only the fault's if the pipeline kept up before it (each result's
# delivered_per_s_before_fault says it did).
RATE = 40
FORM_TIMEOUT_S = 300  # a Cassandra node restarts in about a minute here; a broker in seconds


class NotACluster(RuntimeError):
    """A cluster case on a single-node stack."""


def cluster_of(x: Run) -> Cluster:
    brokers = x.settings.kafka_bootstrap_servers.split(",")
    if len(brokers) < 3:
        raise NotACluster("this experiment needs the replicated stack: `make up CLUSTER=3` first "
                          "(README: A replicated backbone)")
    return Cluster(len(brokers))


def leaders(x: Run, topic: str, avoid: int | None = None) -> collections.Counter[int]:
    """How many partitions of `topic` each broker leads (-1: a partition without a leader), asked of
    the brokers other than node `avoid` (a dead one would only make the question time out)."""
    brokers = [b for i, b in enumerate(x.settings.kafka_bootstrap_servers.split(","), 1) if i != avoid]

    async def ask() -> collections.Counter[int]:
        admin = AIOKafkaAdminClient(bootstrap_servers=brokers, request_timeout_ms=1000)
        try:
            await admin.start()
            [described] = await admin.describe_topics([topic])
            return collections.Counter(p["leader"] for p in described["partitions"])
        finally:
            await admin.close()

    return asyncio.run(asyncio.wait_for(ask(), 15))


def led_without(x: Run, dead: int) -> bool:
    """Leader election is over: no partition of the messages topic is led by broker `dead` or by
    nobody (-1). No answer in time counts as not yet."""
    try:
        return not ({dead, -1} & set(leaders(x, x.settings.topic_messages, avoid=dead)))
    except Exception:
        return False


def longest_delivery_stall(timeline: Timeline, start: float, end: float) -> float:
    """The longest run of consecutive readings in [start, end] that showed no new delivery, from
    the last reading before it to the first after it that did; 0.0 if every reading showed new
    deliveries. Readings come every 1-2 s, so a shorter pause is not seen, and the total over
    every channel and partition hides one partition paused while the others flow."""
    inside = [(t, r.delivered_total) for t, r in timeline.points if start <= t <= end]
    longest, stalled_since = 0.0, None
    for (ta, a), (tb, b) in itertools.pairwise(inside):
        if b > a:
            if stalled_since is not None:
                longest = max(longest, tb - stalled_since)
            stalled_since = None
        elif stalled_since is None:
            stalled_since = ta
    if stalled_since is not None and inside:  # still stalled at the end of the window
        longest = max(longest, inside[-1][0] - stalled_since)
    return round(longest, 1)


def wait_kafka_formed(x: Run, cluster: Cluster) -> float | None:
    return x.wait_for(lambda: kafka_formed(x.settings, cluster.hosts), FORM_TIMEOUT_S, every=1.0)


def wait_cassandra_formed(x: Run, cluster: Cluster) -> float | None:
    return x.wait_for(lambda: cassandra_formed(x.settings, cluster.hosts), FORM_TIMEOUT_S, every=1.0)


def _load_figures(x: Run, run, fault_t: float, end: float) -> dict:
    errors = round(run.error_rate * run.requests)
    # After k6's first seconds, up to the fault.
    before = x.timeline.rate(lambda r: r.delivered_total, fault_t / 3, fault_t)
    return {"offered_rps": run.offered_rps, "delivered_per_s_before_fault": round(before, 1),
            "requests": run.requests, "api_5xx": errors,
            "api_5xx_share": round(run.error_rate, 4),
            "api_5xx_window_s_after_fault": error_window(x.timeline, fault_t),
            "longest_delivery_stall_s": longest_delivery_stall(x.timeline, fault_t, end)}


def kept_up(figures: dict) -> bool:
    """Delivered at least 90 % of the offered rate before the fault (deliveries trail acceptance by
    the pipeline's latency, so not 100 %)."""
    return figures["delivered_per_s_before_fault"] >= 0.9 * figures["offered_rps"]


def broker_kill(x: Run) -> dict:
    cluster = cluster_of(x)
    rate, before, down, after = (30, 8, 15, 20) if x.fast else (RATE, 20, 40, 40)
    load = x.load(rate, before + down + after, RECIPIENTS="mixed")
    x.until(before)
    led = leaders(x, x.settings.topic_messages)
    victim_id, led_by_victim = led.most_common(1)[0]
    victim = cluster.node_name("kafka", victim_id)
    t_kill = x.timeline.mark(f"SIGKILL {victim} (leads {led_by_victim} of {sum(led.values())} partitions)")
    x.ctl("signal", "KILL", victim)
    t_elected = x.wait_for(lambda: led_without(x, victim_id), timeout=60, every=0.25)
    if t_elected is not None:
        x.timeline.mark("new leaders for all its partitions")
    x.until(before + down)
    x.timeline.mark(f"{victim} started")
    x.ctl("start", victim)
    t_formed = wait_kafka_formed(x, cluster)
    if t_formed is not None:
        x.timeline.mark("every replica in sync again")
    run = load.result()
    figures = _load_figures(x, run, t_kill, before + down + after)
    return figures | {
        "killed": victim, "partitions_it_led": led_by_victim,
        "leader_election_s": None if t_elected is None else round(t_elected - t_kill, 1),
        "checks": {"the pipeline kept up before the fault": kept_up(figures),
                   "at most 1 % of requests 5xx": run.error_rate <= 0.01,
                   "delivery stall at most 5 s": figures["longest_delivery_stall_s"] <= 5,
                   "every partition led again after the kill": t_elected is not None,
                   "the restarted broker back in every ISR": t_formed is not None}}


def cassandra_node_kill(x: Run) -> dict:
    """Node 1: the first contact point of every client, and the seed."""
    cluster = cluster_of(x)
    rate, before, down, after = (30, 8, 15, 20) if x.fast else (RATE, 20, 40, 40)
    victim_index = 1
    victim = cluster.node_name("cassandra", victim_index)
    load = x.load(rate, before + down + after, RECIPIENTS="mixed")
    x.until(before)
    t_kill = x.timeline.mark(f"SIGKILL {victim}")
    x.ctl("signal", "KILL", victim)
    x.until(before + down)
    t_start = x.timeline.mark(f"{victim} started")
    x.ctl("start", victim)
    t_formed = wait_cassandra_formed(x, cluster)
    if t_formed is not None:
        x.timeline.mark(f"{victim} UN again")
    run = load.result()
    figures = _load_figures(x, run, t_kill, before + down + after)
    x.wait_drained(300)
    # The writes it missed reach it as hints from the others. A preview repair then compares the
    # replicas' Merkle trees without streaming: what hints did not bring back (what the SIGKILL
    # took from its unsynced commit log, LWT commits re-proposed under later ballots) shows as
    # mismatching ranges. A full repair, what an operator runs after a crash, must leave none.
    others = [i for i in range(1, cluster.nodes + 1) if i != victim_index]
    t_hints = x.wait_for(lambda: all(no_pending_hints(i) for i in others), timeout=300, every=2.0)
    if t_hints is not None:
        x.timeline.mark("hints replayed")
    keyspace = x.settings.cassandra_keyspace
    before_repair = out_of_sync(victim_index, keyspace)
    x.timeline.mark(f"preview repair: {before_repair or 'in sync'}")
    repair = nodetool.run(Layout.from_env(), victim_index, "repair", "--full", keyspace, timeout=600)
    x.timeline.mark(f"nodetool repair --full: exit {repair.returncode}")
    after_repair = out_of_sync(victim_index, keyspace)
    x.timeline.mark(f"preview repair: {after_repair or 'in sync'}")
    return figures | {
        "killed": victim,
        "node_back_after_start_s": None if t_formed is None else round(t_formed - t_start, 1),
        "hints_replayed_after_start_s": None if t_hints is None else round(t_hints - t_start, 1),
        "out_of_sync_after_hints": before_repair, "out_of_sync_after_repair": after_repair,
        "checks": {"the pipeline kept up before the fault": kept_up(figures),
                   "no 5xx": figures["api_5xx"] == 0,
                   "delivery stall at most 5 s": figures["longest_delivery_stall_s"] <= 5,
                   "the node rejoined (all UN)": t_formed is not None,
                   "hints replayed to it": t_hints is not None,
                   "after nodetool repair its data is in sync with the others":
                       repair.returncode == 0 and after_repair == {}}}


def out_of_sync(node: int, keyspace: str) -> dict[str, int] | None:
    """{table: mismatching ranges} by `nodetool repair --preview --full` on `node` ({}: all in sync;
    None: the preview did not complete)."""
    out = nodetool.run(Layout.from_env(), node, "repair", "--preview", "--full", keyspace, timeout=600)
    if out.returncode != 0 or "Repair preview completed successfully" not in out.stdout:
        return None
    tables = re.findall(rf"^{re.escape(keyspace)}\.(\w+) - (\d+) ranges", out.stdout, re.MULTILINE)
    return {table: int(n) for table, n in tables if int(n) > 0}


def no_pending_hints(node: int) -> bool:
    """`nodetool listpendinghints` on `node` lists no target."""
    out = nodetool.run(Layout.from_env(), node, "listpendinghints", timeout=60)
    return out.returncode == 0 and "This node does not have any pending hints" in out.stdout


def rolling_restart(x: Run) -> dict:
    """Each broker, then each Cassandra node, restarted (SIGTERM: a clean shutdown, as an operator
    rolls a cluster) one at a time, the next only once the cluster is whole again."""
    cluster = cluster_of(x)
    rate, settle, budget = (30, 8, 300) if x.fast else (RATE, 20, 420)
    load = x.load(rate, budget, RECIPIENTS="mixed")
    x.until(settle)
    t_roll = x.timeline.now()
    steps: list[dict] = []
    plan = [(cluster.node_name(component, index), formed)
            for component, formed in (("kafka", wait_kafka_formed), ("cassandra", wait_cassandra_formed))
            for index in range(1, cluster.nodes + 1)]
    for node, formed in plan:
        t = x.timeline.mark(f"restart {node}")
        x.ctl("restart", node)
        t_whole = formed(x, cluster)
        x.timeline.mark(f"{node}: cluster whole again" if t_whole else f"{node}: NOT whole again")
        steps.append({"node": node, "whole_again_s": None if t_whole is None else round(t_whole - t, 1)})
        if t_whole is None:  # never restart a second node of a cluster that is not whole
            break
    t_done = x.timeline.mark("roll done")
    run = load.result()
    # Over the whole load, not only the roll: what the roll left behind counts too.
    figures = _load_figures(x, run, t_roll, x.timeline.now())
    figures["max_router_group_lag"] = max((r.router_group_lag or 0 for _, r in x.timeline.points), default=0)
    return figures | {
        "roll_s": round(t_done - t_roll, 1), "steps": steps, "load_s": budget,
        "checks": {"the pipeline kept up before the roll": kept_up(figures),
                   "at most 1 % of requests 5xx over the roll": run.error_rate <= 0.01,
                   "every node restarted and the cluster whole after each":
                       len(steps) == 2 * cluster.nodes and all(s["whole_again_s"] is not None for s in steps),
                   "the roll ended while the load still ran": t_done < budget}}


def accepted_now(x: Run) -> float:
    """202s answered so far, summed over every API process, read this instant."""
    return sum(s.value for api in x.topology.apis for s in scrape_or_nothing(api.url)
               if s.name == "messages_accepted_total")


def min_isr(x: Run) -> dict:
    """Two brokers of three SIGKILLed: no write can reach min.insync.replicas (2), so nothing may
    be accepted; k6 resends each refused message (same message_id) until a second broker returns."""
    cluster = cluster_of(x)
    rate, before, down, after = (20, 8, 15, 30) if x.fast else (RATE, 20, 30, 40)
    health = f"{x.topology.api_url}/health"
    victims = [cluster.node_name("kafka", i) for i in (2, 3)]
    load = x.load(rate, before + down + after, RECIPIENTS="mixed")
    x.until(before)
    t_kill = x.timeline.mark(f"SIGKILL {' and '.join(victims)}")
    for victim in victims:
        x.ctl("signal", "KILL", victim)
    t_503 = x.wait_for(lambda: status_of(health)[0] == 503, timeout=60)
    if t_503 is not None:
        x.timeline.mark("/health 503")
    # Requests the brokers acknowledged before the kill may still be answered 202 just after it. The
    # API's counter is read directly at both ends (a timeline reading completes seconds after it
    # read the API when the machine is busy).
    x.until(t_kill + 2)
    accepted_at_settle = accepted_now(x)
    x.until(before + down)
    accepted_while_down = accepted_now(x) - accepted_at_settle
    t_back = x.timeline.mark(f"{victims[0]} started (2 of 3 brokers)")
    x.ctl("start", victims[0])
    t_accepting = x.wait_for(lambda: x.timeline.rate(lambda r: r.accepted, x.timeline.now() - 3,
                                                     x.timeline.now()) > 0.5 * rate, timeout=120)
    if t_accepting is not None:
        x.timeline.mark("accepting again")
    run = load.result()
    x.timeline.mark(f"{victims[1]} started")
    x.ctl("start", victims[1])
    t_formed = wait_kafka_formed(x, cluster)
    return {"offered_rps": rate, "killed": victims, "requests": run.requests,
            "api_5xx": round(run.error_rate * run.requests),
            "accepted_while_two_down": accepted_while_down,
            "health_503_after_s": None if t_503 is None else round(t_503 - t_kill, 1),
            "accepting_again_after_s": None if t_accepting is None else round(t_accepting - t_back, 1),
            "checks": {"nothing accepted while two brokers are down": accepted_while_down == 0,
                       "/health 503 without a quorum": t_503 is not None,
                       "accepts resume once a second broker is back": t_accepting is not None,
                       "the cluster whole again": t_formed is not None}}


CLUSTER_CASES = {"broker-kill": broker_kill, "cassandra-node-kill": cassandra_node_kill,
                 "rolling-restart": rolling_restart, "min-isr": min_isr}
# One line each, for `python -m experiments` without a name (and an unknown one).
CLUSTER_DESCRIPTIONS = {
    "broker-kill": "the broker leading most partitions SIGKILLed: new leaders, 5xx, delivery stall",
    "cassandra-node-kill": "Cassandra node 1 (the seed) SIGKILLed: rejoins, hints replayed, in sync",
    "rolling-restart": "each broker, then each Cassandra node, restarted in turn under load",
    "min-isr": "two brokers of three SIGKILLed: nothing accepted until a second one is back",
}
