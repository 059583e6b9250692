"""monitoring.log_audit: every line of our services' logs is checked for the structured fields."""

from __future__ import annotations

import json
from pathlib import Path

from monitoring import log_audit


def line(service: str, cid: str | None, message: str, ts: str) -> str:
    return json.dumps({"timestamp": ts, "level": "info", "service": service, "correlation_id": cid,
                       "message": message})


def test_counts_complete_lines_and_follows_one_message_across_services(tmp_path: Path):
    (tmp_path / "api.log").write_text("\n".join([
        line("api", None, "started", "2026-01-01T00:00:00Z"),
        line("api", "c1", "message accepted", "2026-01-01T00:00:01Z"),
        "Traceback (most recent call last):",  # not JSON: counted, not complete
        json.dumps({"timestamp": "x", "message": "no service"}),
    ]) + "\n")
    routed = line("router", "c1", "message routed", "2026-01-01T00:00:02Z")
    (tmp_path / "router.log").write_text(routed + "\n")
    (tmp_path / "kafka.log").write_text("[2026-01-01] INFO not ours\n")
    (tmp_path / "mock-whatsapp.log").write_text("")
    result = log_audit.audit(tmp_path)
    assert set(result["files"]) == {"api", "router"}  # third-party and empty logs are not counted
    assert result["files"]["api"] == {"files": ["api.log"], "lines": 4, "json_lines": 3, "complete_lines": 2,
                                      "missing_fields": {"level": 1, "service": 1, "correlation_id": 1},
                                      "cut_by_rotation": 0}
    assert result["total"] == {"lines": 5, "json_lines": 4, "complete_lines": 3}
    assert result["complete_share"] == 0.6
    assert result["trace"]["correlation_id"] == "c1"
    assert [r["message"] for r in result["trace"]["lines"]] == ["message accepted", "message routed"]


def test_no_logs_is_a_clear_error(tmp_path: Path, capsys):
    assert log_audit.main(["--logs", str(tmp_path), "--out", str(tmp_path / "o.json")]) == 2
    assert "no logs in" in capsys.readouterr().err


def test_a_line_cut_by_supervisords_rotation_is_joined_again(tmp_path: Path):
    whole = [line("router", f"c{i}", "message routed", f"2026-01-01T00:00:0{i}Z") for i in range(3)]
    cut = len(whole[1]) // 2
    (tmp_path / "router.log.2").write_text(whole[0] + "\n" + whole[1][:cut])  # rotated mid-line
    (tmp_path / "router.log.1").write_text(whole[1][cut:] + "\n")
    (tmp_path / "router.log").write_text(whole[2] + "\n")
    counts = log_audit.audit(tmp_path)["files"]["router"]
    assert counts["files"] == ["router.log.2", "router.log.1", "router.log"]
    assert counts["lines"] == counts["complete_lines"] == 3


def test_the_oldest_backup_may_start_mid_line_and_that_line_is_not_counted(tmp_path: Path):
    whole = line("api", "c1", "message accepted", "2026-01-01T00:00:00Z")
    (tmp_path / "api.log.1").write_text(whole[20:] + "\n" + whole + "\n")  # its head was rotated away
    (tmp_path / "api.log").write_text(whole + "\n")
    counts = log_audit.audit(tmp_path)["files"]["api"]
    assert counts["cut_by_rotation"] == 1 and counts["lines"] == counts["complete_lines"] == 2
    (tmp_path / "api.log.1").unlink()
    (tmp_path / "api.log").write_text(whole[20:] + "\n")  # without backups a broken line counts
    counts = log_audit.audit(tmp_path)["files"]["api"]
    assert counts["cut_by_rotation"] == 0 and counts["lines"] == 1 and counts["complete_lines"] == 0
