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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from devstack.layout import REPO_DIR, Layout, git_sha

# Our processes (the supervised programs that run chat4all_app); a replica's log is "<name>-2.log".
SERVICES = ("api", "router", "connector-whatsapp", "connector-instagram", "mock-whatsapp", "mock-instagram")
FIELDS = ("timestamp", "level", "service", "correlation_id", "message")


def parse(line: str) -> dict[str, Any] | None:
    try:
        record = json.loads(line)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def audit_file(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The counts of one log file, and its JSON records."""
    lines = json_lines = complete = 0
    missing: Counter[str] = Counter()
    records = []
    with path.open(errors="replace") as f:
        for line in f:
            if not line.strip():
                continue
            lines += 1
            record = parse(line)
            if record is None:
                continue
            json_lines += 1
            absent = [k for k in FIELDS if k not in record]
            missing.update(absent)
            complete += not absent
            records.append(record)
    return {"lines": lines, "json_lines": json_lines, "complete_lines": complete,
            "missing_fields": dict(missing)}, records


def follow(records: dict[str, list[dict[str, Any]]]) -> dict[str, Any] | None:
    """One correlation id the API logged for an accepted message, and the lines of every service
    that logged it (the newest such id that more than one service logged)."""
    seen: dict[str, set[str]] = {}
    for service, lines in records.items():
        for r in lines:
            if r.get("correlation_id"):
                seen.setdefault(r["correlation_id"], set()).add(service)
    for r in reversed(records.get("api", [])):
        cid = r.get("correlation_id")
        if cid and len(seen.get(cid, ())) > 1:
            hops = [line for service in sorted(seen[cid]) for line in records[service]
                    if line.get("correlation_id") == cid]
            return {"correlation_id": cid, "services": sorted(seen[cid]),
                    "lines": sorted(hops, key=lambda line: line["timestamp"])[:12]}
    return None


def audit(logs: Path) -> dict[str, Any]:
    files, records, samples = {}, {}, {}
    for path in sorted(logs.glob("*.log")):
        service = path.stem
        if service.removesuffix("-2") not in SERVICES:
            continue
        counts, lines = audit_file(path)
        if not counts["lines"]:
            continue  # a process that has not logged yet (the provider mocks log only on errors)
        files[service], records[service] = counts, lines
        with_id = [r for r in records[service] if r.get("correlation_id")]
        if with_id or records[service]:
            samples[service] = (with_id or records[service])[-1]
    total = {k: sum(f[k] for f in files.values()) for k in ("lines", "json_lines", "complete_lines")}
    return {"version": 1, "git_sha": git_sha(), "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
            "fields": list(FIELDS), "files": files, "total": total,
            "complete_share": total["complete_lines"] / total["lines"] if total["lines"] else None,
            "trace": follow(records), "samples": samples}


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
