"""benchmarks/backlog.py: the drain rate leaves out the groups' rejoin and says when it cannot tell."""

from benchmarks.backlog import markdown, rate_between


def test_the_drain_rate_is_taken_between_ten_and_ninety_percent_of_the_backlog():
    # 20 s of rejoin with nothing delivered, then 100 msg/s.
    series = [(float(t), 0.0) for t in range(21)] + [(20.0 + t, 100.0 * t) for t in range(1, 11)]
    assert rate_between(series, 1000) == 100.0


def test_no_rate_when_the_drain_never_reached_ninety_percent():
    assert rate_between([(0.0, 0.0), (5.0, 500.0), (10.0, 800.0)], 1000) is None


def test_the_report_names_each_process_and_the_medians():
    run = {"quiet": True, "accepted": 10, "lost": 0, "first_delivery_s": 1.0, "all_delivered_s": 3.0,
           "drain_per_s": 5.0, "cpu_ms_per_message": 2.0,
           "cpu_ms_per_message_by_process": {"router": 1.5, "kafka": 0.5},
           "cpu_pct_by_process": {"router": 40.0, "kafka": 10.0}}
    text = markdown({"timestamp": "t", "git_sha": "abcdef0123456", "command": "python -m benchmarks.backlog",
                     "messages": 10, "fill_rate": 5.0, "runs": [run],
                     "median_drain_per_s": 5.0, "median_cpu_ms_per_message": 2.0})
    assert "| router | 1.500 | 40.0 |" in text and "**5.0 msg/s**" in text and "abcdef0123" in text
