"""`make profile` (python -m benchmarks.profile): where the CPU goes under a fixed load.

Holds a constant arrival rate with k6 (loadtests/bench.js) on the running stack and, meanwhile,
samples every Python service with py-spy (`record --format raw --nonblocking`: the target is not
paused). Writes results/profile/latest.md: CPU % per process (from /proc) and, per Python
process, the share of samples by package of the frame on top of the stack (own time), the top
functions by own time, and our own functions by inclusive time.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import e2e, jfr, k6, pipeline, users
from benchmarks.processes import Sampler, pids
from devstack.layout import REPO_DIR, Layout, git_sha
from devstack.probes import http_answers
from devstack.topology import local

PYTHON_SERVICES = ("api", "router", "connector-whatsapp", "connector-instagram",
                   "mock-whatsapp", "mock-instagram")
_FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^():]*)(?::\d+)?\)$")


def package_of(file: str) -> str:
    """faust, aiokafka, ... for installed packages; ours by sub-package; stdlib by module."""
    if "site-packages/" in file:
        return file.split("site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
    if "chat4all_app/" in file:
        return "chat4all_app." + file.split("chat4all_app/", 1)[1].split("/", 1)[0].removesuffix(".py")
    if "/lib/python3" in file:
        return "stdlib." + file.rsplit("/lib/python3", 1)[1].split("/", 2)[1].removesuffix(".py")
    return file or "?"


def parse(raw: str) -> list[tuple[list[tuple[str, str]], int]]:
    """py-spy raw (collapsed) lines "frame;frame;... count" -> [(frames root-first, count)]."""
    stacks = []
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = []
        for frame in stack.split(";"):
            m = _FRAME.match(frame)
            frames.append((m["func"], m["file"]) if m else (frame, ""))
        stacks.append((frames, int(count)))
    return stacks


def summarize(stacks: list[tuple[list[tuple[str, str]], int]], top: int = 12) -> dict:
    total = sum(n for _, n in stacks) or 1
    by_package, own, ours = Counter(), Counter(), Counter()
    for frames, n in stacks:
        func, file = frames[-1]
        by_package[package_of(file)] += n
        own[f"{func} ({package_of(file)})"] += n
        for name in {f"{f} ({package_of(p)})" for f, p in frames if "chat4all_app/" in p}:
            ours[name] += n
    pct = lambda c: [(k, round(v / total * 100, 1)) for k, v in c.most_common(top)]  # noqa: E731
    return {"samples": total, "packages": pct(by_package), "own": pct(own), "ours_inclusive": pct(ours)}


def machine_ticks() -> tuple[int, int, int]:
    """(busy, steal, total) jiffies of all cores, from /proc/stat."""
    with open("/proc/stat") as f:
        user, nice, system, idle, iowait, irq, softirq, steal = map(int, f.readline().split()[1:9])
    busy = user + nice + system + irq + softirq
    return busy, steal, busy + idle + iowait + steal


def record(pid: int, seconds: float, rate: int, out: Path) -> str:
    if rate <= 0:  # no profile, just the load (CPU figures without py-spy's own cost)
        time.sleep(seconds)
        return ""
    spy = Layout.from_env().venv_bin / "py-spy"
    subprocess.run([str(spy), "record", "--pid", str(pid), "--duration", str(int(seconds)),
                    "--rate", str(rate), "--format", "raw", "--nonblocking", "--output", str(out)],
                   capture_output=True, text=True, check=True)
    return out.read_text()


def markdown(result: dict) -> str:
    lines = [f"# Profile {result['timestamp']} ({result['git_sha'][:10]})", "",
             f"{result['rate']:g} msg/s offered for {result['seconds']:g} s (py-spy sampled "
             f"{result['profile_seconds']:g} s of it at {result['sample_rate']} Hz, own time = the frame on "
             "top of the stack). `make profile RATE=… SECONDS=…` reproduces it.", "",
             f"During the sampling: accepted {result['accepted_per_s']:g}/s, delivered "
             f"{result['delivered_per_s']:g}/s, consumer lag at the end {result['lag_after']:g}; all cores "
             f"{result['machine_busy_pct']:g} % busy (k6 and py-spy included), "
             f"{result['machine_steal_pct']:g} % stolen by other tenants.", "",
             "| Process | CPU % | CPU ms per delivered message |", "| --- | --- | --- |"]
    procs = result["processes"]
    lines += [f"| {n} | {p['cpu_pct']} | {p['cpu_ms_per_msg']} |" for n, p in sorted(procs.items())]
    lines.append(f"| total | {sum(p['cpu_pct'] for p in procs.values()):.1f} | "
                 f"{sum(p['cpu_ms_per_msg'] for p in procs.values()):.3f} |")
    for name, prof in result["profiles"].items():
        lines += ["", f"## {name} ({prof['samples']} samples)", "",
                  "| Package (own) | % | Function (own) | % | Ours (inclusive) | % |",
                  "| --- | --- | --- | --- | --- | --- |"]
        rows = max(len(prof["packages"]), len(prof["own"]), len(prof["ours_inclusive"]))
        cell = lambda col, i: col[i] if i < len(col) else ("", "")  # noqa: E731
        for i in range(rows):
            (p, pp), (f, fp), (o, op) = (cell(prof[k], i) for k in ("packages", "own", "ours_inclusive"))
            lines.append(f"| {p} | {pp} | `{f}` | {fp} | `{o}` | {op} |".replace("``", ""))
    for name, summary in result.get("jvm_profiles", {}).items():
        lines += jfr.markdown(name, summary)
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Profile the running stack under load (needs `make up`).")
    parser.add_argument("--rate", type=float, default=400)
    parser.add_argument("--seconds", type=float, default=40)
    parser.add_argument("--sample-rate", type=int, default=50,
                        help="py-spy samples per second (0: no profile, CPU figures only)")
    parser.add_argument("--out", type=Path, default=REPO_DIR / "results" / "profile")
    args = parser.parse_args(argv)
    topology = local()
    if not http_answers(topology.apis[0].port, "/health"):
        parser.error(f"the API does not answer at {topology.apis[0].url}: run `make up` first")
    running = pids()
    targets = {n: p for n, p in running.items() if n in PYTHON_SERVICES}
    cassandra = running.get("cassandra")  # its JVM is sampled with JFR (benchmarks.jfr)
    profile_s = max(5.0, args.seconds - 15)  # skip k6's ramp-up, end before it stops
    with tempfile.TemporaryDirectory() as tmp:
        users_file = Path(tmp) / "users.json"
        users_file.write_text(json.dumps(users.create(topology.api_url, 50)))
        e2e.wait_drained(topology, 600)
        with ThreadPoolExecutor(len(targets) + 1) as pool:
            load = pool.submit(k6.run, topology.api_url, args.rate, args.seconds, users_file)
            time.sleep(8)
            before, t0, ticks0 = pipeline.snapshot(topology), time.monotonic(), machine_ticks()
            with Sampler() as processes:
                raws = {n: pool.submit(record, p, profile_s, args.sample_rate, Path(tmp) / f"{n}.txt")
                        for n, p in targets.items()}
                java = ({"cassandra": pool.submit(jfr.record, cassandra, profile_s, Path(tmp) / "c.jfr")}
                        if args.sample_rate and cassandra else {})
                raw = {n: f.result() for n, f in raws.items()}  # every recording (or wait) is over
                jvm_profiles = {n: jfr.summary_of(f) for n, f in java.items()}
                # Without py-spy (rate 0) there are no samples to summarise.
                profiles = {n: summarize(parse(text)) for n, text in raw.items()} if args.sample_rate else {}
            after, window = pipeline.snapshot(topology), time.monotonic() - t0
            busy, steal, total = (b - a for a, b in zip(ticks0, machine_ticks(), strict=True))
            run = load.result()
    delivered_per_s = (after.delivered - before.delivered) / window
    for p in processes.result.values():  # CPU cost of one delivered message, per process
        p["cpu_ms_per_msg"] = round(p["cpu_pct"] * 10 / max(delivered_per_s, 1e-9), 3)
    result = {"rate": args.rate, "seconds": args.seconds, "profile_seconds": profile_s,
              "accepted_per_s": round((after.accepted - before.accepted) / window, 1),
              "delivered_per_s": round(delivered_per_s, 1), "lag_after": after.lag,
              "machine_busy_pct": round(busy / total * 100, 1),
              "machine_steal_pct": round(steal / total * 100, 1),
              "sample_rate": args.sample_rate, "k6": run.__dict__, "processes": processes.result,
              "profiles": profiles, "jvm_profiles": jvm_profiles, "git_sha": git_sha(),
              "timestamp": datetime.now(UTC).isoformat(timespec="seconds")}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "latest.json").write_text(json.dumps(result, indent=2) + "\n")
    (args.out / "latest.md").write_text(markdown(result))
    print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
