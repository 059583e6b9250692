"""python -m devstack.heartbeats [--once] ...: the heartbeat monitor, told the local stack's
program states.

chat4all_app.observability.heartbeat_monitor follows the logs but does not know supervisord (the
layering keeps devstack out of chat4all_app); this entry point gives it the states, so a program
stopped on purpose (a spare) is reported STOPPED instead of alerting. Same options as the monitor.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping

from chat4all_app.observability import heartbeat_monitor
from devstack.layout import Layout
from devstack.supervisor import Supervisor


def program_states(sup: Supervisor) -> Mapping[str, str] | None:
    """{program: STATE}; None (unknown) while supervisord is not running."""
    return sup.states() if sup.pid() is not None else None


def main(argv: list[str] | None = None) -> int:
    layout = Layout.from_env()
    sup = Supervisor(layout)
    supervised = heartbeat_monitor.Supervised(layout.logs, lambda: program_states(sup))
    return heartbeat_monitor.main(argv, supervised)


if __name__ == "__main__":
    sys.exit(main())
