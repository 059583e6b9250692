"""Where Cassandra's CPU goes: Java Flight Recorder on the running node (`jcmd`, `jfr`, from the
JDK that runs it), summarised by thread pool and by what the samples were doing.

Used by `make profile`: py-spy sees the Python services, this sees the JVM. A sample "in Paxos"
has a Paxos frame on its stack (lightweight transactions: the API's message-id claim).
"""

from __future__ import annotations

import re
import subprocess
import time
from collections import Counter
from concurrent.futures import Future
from pathlib import Path

_EVENT = "jdk.ExecutionSample"
_THREAD = re.compile(r'sampledThread = "([^"]+)"')
_FRAME = re.compile(r"^\s+([\w.$<>]+)\(", re.M)


def jdk_tool(pid: int, name: str) -> str:
    """`jcmd`/`jfr` next to the `java` the process runs."""
    return str(Path(f"/proc/{pid}/exe").resolve().parent / name)


def record(pid: int, seconds: float, out: Path) -> str:
    """Record `seconds` of samples (JFR's "profile" settings) and return them as text."""
    subprocess.run([jdk_tool(pid, "jcmd"), str(pid), "JFR.start", "name=chat4all-profile",
                    f"duration={int(seconds)}s", f"filename={out}", "settings=profile"],
                   check=True, capture_output=True, timeout=30)
    time.sleep(seconds + 1)
    deadline = time.monotonic() + 30
    while not (out.exists() and out.stat().st_size) and time.monotonic() < deadline:
        time.sleep(0.5)  # JFR writes the file once the recording has ended
    return subprocess.run([jdk_tool(pid, "jfr"), "print", "--events", _EVENT, "--stack-depth", "64",
                           str(out)], check=True, capture_output=True, text=True, timeout=120).stdout


def pool_of(thread: str) -> str:
    """"MutationStage-3" -> "MutationStage-N": one row per thread pool."""
    return re.sub(r"\d+", "N", thread)


def short(frame: str) -> str:
    return ".".join(frame.split(".")[-2:])


def summarize(text: str, top: int = 8) -> dict:
    samples = text.split(_EVENT)[1:]
    pools, steps, in_paxos = Counter(), Counter(), 0
    for sample in samples:
        thread = _THREAD.search(sample)
        pools[pool_of(thread.group(1)) if thread else "?"] += 1
        paxos = [f for f in _FRAME.findall(sample) if "Paxos" in f or ".paxos." in f]
        if paxos:  # innermost first: name the outermost Paxos step and the innermost one
            in_paxos += 1
            steps[f"{short(paxos[-1])} > {short(paxos[0])}"] += 1
    n = len(samples)
    share = lambda c: [(k, round(v * 100 / n, 1)) for k, v in c.most_common(top)]  # noqa: E731
    return {"samples": n, "in_paxos_pct": round(in_paxos * 100 / n, 1) if n else 0.0,
            "pools": share(pools), "paxos_steps": share(steps)}


def summary_of(recording: Future[str]) -> dict:
    """The summary of a recording, or why there is none (no jcmd in that JDK, attach refused...):
    the Python profile of the same run is still written."""
    try:
        return summarize(recording.result())
    except (OSError, subprocess.SubprocessError) as exc:
        return {"error": f"{type(exc).__name__}: {exc}"[:300]}


def markdown(name: str, summary: dict) -> list[str]:
    if "error" in summary:
        return ["", f"## {name} (JFR)", "", f"No recording: {summary['error']}"]
    lines = ["", f"## {name} (JFR, {summary['samples']} samples)", "",
             f"Samples with a Paxos frame on the stack (lightweight transactions): "
             f"**{summary['in_paxos_pct']} %**.", "",
             "| Thread pool | % | Paxos step (outermost > innermost) | % |", "| --- | --- | --- | --- |"]
    pools, steps = summary["pools"], summary["paxos_steps"]
    cell = lambda col, i: col[i] if i < len(col) else ("", "")  # noqa: E731
    for i in range(max(len(pools), len(steps))):
        (p, pp), (s, sp) = cell(pools, i), cell(steps, i)
        lines.append(f"| {p} | {pp} | {s} | {sp} |")
    return lines
