"""`make bench` (python -m benchmarks): the benchmark protocol, on the running local stack.

Per repeat (`--repeats`, default 3), with the machine watched (benchmarks/quiet.py: a repeat during
which other processes used more than 5 % of a core is flagged invalid):
1. side-by-side ratio (benchmarks/pairs.py): `--pairs` pairs of capacity searches, hello then the
   API with the workers running then the API with them paused; 25 s steps, the first 5 s discarded;
   a step passes with errors < 0.1 %, dropped < 0.1 %, P95 < 50 ms. Then the API's P95 at 1,000/s;
2. end to end (benchmarks/steps.py): constant arrival rates in ascending steps (`--e2e-steps`), each
   warmed up then held; sustained = every group's broker-side lag flat over the hold, DELIVERED
   slope >= 99 % of the offered rate, drained within 10 s (benchmarks/sustained.py); the ascent
   stops at the first step that is not; per step the proof of delivery per message id
   (benchmarks/proof.py), CPU ms per message per process with k6, the broker's produce requests vs
   records (benchmarks/broker.py).
Writes results/bench/latest.json (+ a dated copy, every repeat included), latest.md and
latest-e2e.png (benchmarks/summary.py, report.py, chart.py).

    python -m benchmarks                       the full protocol (about 1.5 h, printed at start)
    python -m benchmarks --quick               every part once, small and short: the machinery works
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from benchmarks import chart, e2e, k6, users
from benchmarks.broker import BrokerCounters
from benchmarks.pairs import run_pair
from benchmarks.plan import QUICK, Plan, estimate_s
from benchmarks.processes import niceness, pids
from benchmarks.quiet import LoadWatch
from benchmarks.report import markdown
from benchmarks.steps import highest_sustained, run_steps
from benchmarks.summary import summary
from devstack.layout import REPO_DIR
from devstack.probes import http_answers
from devstack.topology import Topology, local

__all__ = ["main", "summary"]


def say(text: str) -> None:
    print(f"[bench] {text}", flush=True)


def one_repeat(topology: Topology, users_file: Path, plan: Plan, broker: BrokerCounters,
               earlier_pairs: list[dict]) -> dict:
    pairs: list[dict] = []
    for k in range(plan.pairs):
        say(f"capacity pair {k + 1}/{plan.pairs}: hello, API (workers running), API (workers paused)")
        pair = run_pair(topology, users_file, plan.timing, earlier_pairs + pairs, say)
        say(f"pair: hello {pair['hello']['max_rps']:g}/s, API {pair['api']['max_rps']:g}/s (ratio "
            f"{pair['ratio']}), API workers paused {pair['api_isolated']['max_rps']:g}/s (ratio "
            f"{pair['ratio_isolated']})")
        pairs.append(pair)
    e2e.wait_idle(topology, 900)
    at_1000 = k6.run(topology.api_url, 1000, plan.timing.measured_s, users_file, warmup_s=plan.discard_s)
    say(f"API at 1000/s: p95 {at_1000.p95_ms:.1f} ms, errors {at_1000.error_rate:.2%}")
    steps = run_steps(topology, plan.steps(), broker, say)
    return {"pairs": pairs, "api_at_1000": at_1000.__dict__, "e2e_steps": steps,
            "e2e_sustained_per_s": highest_sustained(steps)}


def parse_plan(argv: list[str] | None) -> tuple[Plan, Path]:
    parser = argparse.ArgumentParser(description="Chat4All benchmark protocol (needs `make up`).")
    parser.add_argument("--quick", action="store_true",
                        help=f"smoke run: {QUICK.repeats} repeat, {QUICK.pairs} pair, {QUICK.step_s:g} s "
                             f"capacity steps, e2e steps {','.join(f'{r:g}' for r in QUICK.e2e_rates)} "
                             f"held {QUICK.hold_s:g} s (any option below still applies)")
    parser.add_argument("--repeats", type=int)
    parser.add_argument("--pairs", type=int, help="capacity pairs per repeat (default 1)")
    parser.add_argument("--e2e-steps", dest="e2e_rates", type=lambda s: tuple(float(x) for x in s.split(",")),
                        help="comma-separated arrival rates, msg/s (default 600,1000,1333,1667)")
    parser.add_argument("--e2e-rate", type=float, help="one end-to-end step at this rate (older interface)")
    parser.add_argument("--warmup-seconds", dest="warmup_s", type=float, help="e2e warm-up (default 15)")
    parser.add_argument("--hold-seconds", "--e2e-seconds", dest="hold_s", type=float,
                        help="e2e hold after the warm-up (default 120)")
    parser.add_argument("--step-seconds", dest="step_s", type=float,
                        help="capacity step, discarded start included (default 25)")
    parser.add_argument("--discard-seconds", dest="discard_s", type=float, help="default 5")
    parser.add_argument("--users", type=int, help="senders of the capacity steps (default 50)")
    parser.add_argument("--senders", type=int, help="fresh senders per e2e step (default 50)")
    parser.add_argument("--out", type=Path, help="default results/bench (--quick: results/bench/quick, "
                        "so a smoke run never replaces the figures the README and report quote)")
    args = parser.parse_args(argv)
    if args.e2e_rate is not None:
        args.e2e_rates = args.e2e_rates or (args.e2e_rate,)
    plan = QUICK if args.quick else Plan()
    plan = replace(plan, **{f.name: getattr(args, f.name) for f in fields(Plan)
                            if getattr(args, f.name, None) is not None})
    if plan.discard_s >= plan.step_s or plan.repeats < 1 or plan.pairs < 0 or not plan.e2e_rates:
        parser.error("need discard < step, repeats >= 1, pairs >= 0 and at least one e2e step")
    return plan, args.out or REPO_DIR / "results" / "bench" / ("quick" if args.quick else "")


def finite(value: Any) -> Any:
    """Strict JSON: an infinite P95 (a step where nothing was answered) is written as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


def write(result: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    text = json.dumps(finite(result), indent=2, allow_nan=False) + "\n"
    stamp = result["timestamp"].replace(":", "").replace("+0000", "Z")
    for name in ("latest.json", f"{stamp}.json"):
        (out / name).write_text(text)
    (out / "latest.md").write_text(markdown(result))
    chart.draw([r["e2e_steps"] for r in result["runs"]], out / "latest-e2e.png",
               f"make bench {result['timestamp']} ({result['git_sha'][:10]})")


def main(argv: list[str] | None = None) -> int:
    plan, out = parse_plan(argv)
    topology = local()
    if not http_answers(topology.apis[0].port, "/health"):
        print(f"the API does not answer at {topology.apis[0].url}: run `make up` first", file=sys.stderr)
        return 2
    say(f"plan: {plan}")
    say(f"expected duration: about {estimate_s(plan) / 60:.0f} min if every end-to-end step runs "
        "(the ascent stops at the first step that is not sustained)")
    broker = BrokerCounters(lambda: pids().get("kafka"))
    repeats: list[dict] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            users_file = Path(tmp) / "users.json"
            users_file.write_text(json.dumps(users.create(topology.api_url, plan.users)))
            for i in range(plan.repeats):
                say(f"repeat {i + 1}/{plan.repeats}")
                # The stack's processes and ours are the run; anything else using CPU makes it noisy.
                with LoadWatch(roots=pids().values()) as watch:
                    repeat = one_repeat(topology, users_file, plan, broker,
                                        [p for r in repeats for p in r["pairs"]])
                repeat["machine"] = watch.result.as_dict()
                repeat["valid"] = watch.result.quiet
                say(f"machine {'quiet' if watch.result.quiet else 'NOT quiet: repeat flagged invalid'}: "
                    f"others {watch.result.others_cores:.3f} cores, steal {watch.result.steal_pct:.2f} %")
                repeats.append(repeat)
    finally:
        if broker.problem:
            say(f"Kafka produce-request counters unavailable: {broker.problem}")
        broker.close()
    result = summary(repeats, plan) | {"nice_by_process": niceness()}
    write(result, out)
    print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
