"""Are the services' logs structured? Every line of our processes' logs, checked -> results/logs/latest.json.

    python -m monitoring.log_audit [--logs state/logs] [--out results/logs/latest.json]

Run it after traffic (a load test): for each Chat4All service's log it counts the lines, those that
are JSON objects, and those carrying every field the assignment asks for (timestamp, level, service,
correlation_id, message). It also follows one correlation id of a message accepted by the API
through every log it appears in (the hops of one message), and keeps one line per service as a
sample. Third-party processes (Kafka, Cassandra, MinIO, Prometheus, nginx) log in their own formats
and are not counted.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from devstack.layout import REPO_DIR, Layout, git_sha

# Our processes (the supervised programs that run chat4all_app); a replica's log is "<name>-2.log".
SERVICES = ("api", "router", "connector-whatsapp", "connector-instagram", "mock-whatsapp", "mock-instagram")
FIELDS = ("timestamp", "level", "service", "correlation_id", "message")
CANDIDATES = 200  # the API's newest correlation ids, among which the trace is chosen


def parse(line: str) -> dict[str, Any] | None:
    try:
        record = json.loads(line)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def rotated(path: Path) -> list[Path]:
    """`path` and the backups supervisord rotated it into (name.log.2, name.log.1, name.log), oldest
    first."""
    backups = [p for p in path.parent.glob(path.name + ".*") if p.suffix[1:].isdigit()]
    return [*sorted(backups, key=lambda p: -int(p.suffix[1:])), path]


def joined_lines(paths: list[Path]) -> Iterator[str]:
    """The lines of `paths` read as one stream: supervisord rotates at a byte count, so a file can end
    in the middle of a line that the next one finishes."""
    carry = ""
    for path in paths:
        with path.open(errors="replace") as f:
            for line in f:
                if not line.endswith("\n"):
                    carry += line
                    continue
                yield carry + line
                carry = ""
    if carry:
        yield carry


def audit_file(path: Path) -> tuple[dict[str, Any], dict[str, Any] | None, list[str]]:
    """The counts of one service's log (with its rotated backups), its newest record with a
    correlation id (else its newest record), and the correlation ids it logged, newest last."""
    lines = json_lines = complete = 0
    missing: Counter[str] = Counter()
    files = rotated(path)
    sample, ids, cut = None, [], 0
    for n, line in enumerate(joined_lines(files)):
        if not line.strip():
            continue
        record = parse(line)
        if record is None and n == 0 and len(files) > 1:
            cut = 1  # the oldest backup starts mid-line: its beginning was rotated away
            continue
        lines += 1
        if record is None:
            continue
        json_lines += 1
        absent = [k for k in FIELDS if k not in record]
        missing.update(absent)
        complete += not absent
        if record.get("correlation_id"):
            sample = record
            ids.append(record["correlation_id"])
            del ids[:-CANDIDATES]  # only the newest are candidates for the trace
        elif sample is None or not sample.get("correlation_id"):
            sample = record
    return ({"files": [p.name for p in files], "lines": lines, "json_lines": json_lines,
             "complete_lines": complete, "missing_fields": dict(missing), "cut_by_rotation": cut},
            sample, ids)


def follow(logs: dict[str, Path], candidates: list[str]) -> dict[str, Any] | None:
    """The newest of `candidates` (correlation ids the API logged) that another service logged too,
    with every line of it (its hops), in time order."""
    wanted = set(candidates)
    hops: dict[str, list[dict[str, Any]]] = {}
    for path in logs.values():
        for line in joined_lines(rotated(path)):
            if '"correlation_id"' not in line:
                continue
            record = parse(line)
            if record and record.get("correlation_id") in wanted:
                hops.setdefault(record["correlation_id"], []).append(record)
    for cid in reversed(candidates):
        services = sorted({r["service"] for r in hops.get(cid, []) if "service" in r})
        if len(services) > 1:
            return {"correlation_id": cid, "services": services,
                    "lines": sorted(hops[cid], key=lambda r: r.get("timestamp", ""))[:12]}
    return None


def audit(logs: Path) -> dict[str, Any]:
    files, samples, paths = {}, {}, {}
    api_ids: list[str] = []
    for path in sorted(logs.glob("*.log")):
        service = path.stem
        if service.removesuffix("-2") not in SERVICES:
            continue
        counts, sample, ids = audit_file(path)
        if not counts["lines"]:
            continue  # a process that has not logged yet (the provider mocks log only on errors)
        files[service], paths[service] = counts, path
        if sample:
            samples[service] = sample
        if service == "api":
            api_ids = ids
    total = {k: sum(f[k] for f in files.values()) for k in ("lines", "json_lines", "complete_lines")}
    return {"version": 1, "git_sha": git_sha(), "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
            "fields": list(FIELDS), "files": files, "total": total,
            "complete_share": total["complete_lines"] / total["lines"] if total["lines"] else None,
            "trace": follow(paths, api_ids), "samples": samples}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m monitoring.log_audit",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--logs", type=Path, help="log directory (default: the local stack's state/logs)")
    parser.add_argument("--out", type=Path, default=REPO_DIR / "results" / "logs" / "latest.json")
    args = parser.parse_args(argv)
    logs = args.logs or Layout.from_env().logs
    if not logs.is_dir() or not any(logs.glob("*.log")):
        print(f"[logs] ERROR: no logs in {logs}: start the stack (make up) and send traffic first",
              file=sys.stderr)
        return 2
    result = audit(logs)
    if not result["files"]:
        print(f"[logs] ERROR: none of {', '.join(SERVICES)} has a log in {logs}", file=sys.stderr)
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False))
    t = result["total"]
    print(f"[logs] {t['lines']} lines in {len(result['files'])} logs: {t['json_lines']} JSON, "
          f"{t['complete_lines']} with {', '.join(FIELDS)} -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
