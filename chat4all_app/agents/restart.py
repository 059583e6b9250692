"""Restart this worker in place: the remedy when Faust's consumer loses track of a partition.

`exec` of the same command keeps the pid, so the supervisor (and its stop/kill/start commands)
sees one continuous process, whatever its restart policy. For Kafka it is a crash: the old member
expires after the session timeout, the new one rejoins, Faust seeks every partition to its
committed offset and replays in order — the path the SIGKILL tests prove loses nothing.
"""

from __future__ import annotations

import logging
import os
import sys

from chat4all_app.observability.logs import drain

log = logging.getLogger(__name__)


def restart_in_place(reason: str) -> None:
    log.error("restarting this worker in place: %s", reason)
    logging.shutdown()
    drain()
    os.execv(sys.executable, [sys.executable, *sys.orig_argv[1:]])
