"""Run a program with a coarser timer slack: `python devstack/timer_slack.py NS PROGRAM [ARGS...]`.

The local stack starts Cassandra through this (devstack.components.cassandra). Cassandra's shared
thread pool keeps an idle worker "spinning" after each task: sleeps of 10 µs (`parkNanos`) for up
to 10 ms, so that the next request finds a thread awake. At the tens to hundreds of requests per
second of this stack the spinner never stops: with the kernel's default slack (50 µs) it is woken
tens of thousands of times a second, a large share of Cassandra's CPU on a 2-core machine. With a
1 ms slack the kernel may defer each of those wake-ups by up to 1 ms: the same protocol, far fewer
wake-ups, up to about a millisecond more before a request is picked up. `python -m
benchmarks.timer_slack` measures both on the running stack (results/timer-slack/latest.md); Kafka
showed no such difference (results/timer-slack/kafka.md), so only Cassandra gets it.

prctl(PR_SET_TIMERSLACK) is per thread, inherited by every thread and process the program starts,
and kept across exec, so this sets it and becomes the program (same pid, signals unchanged).
"""

from __future__ import annotations

import ctypes
import os
import sys

PR_SET_TIMERSLACK = 29


def set_timer_slack(nanoseconds: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_TIMERSLACK, nanoseconds, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_TIMERSLACK) failed")


def main(argv: list[str]) -> None:
    if len(argv) < 2 or not argv[0].isdigit():
        sys.exit("usage: timer_slack.py NANOSECONDS PROGRAM [ARGS...]")
    set_timer_slack(int(argv[0]))
    os.execvp(argv[1], argv[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
