"""A worker starts while any one broker is down: its topic requests go to a broker that answers.

Before it creates a topic it is not sure exists (at every start: its leader-assignor topic), Faust
asks the *first* broker of its metadata which node is the controller and sends the CreateTopics
request there. With that broker down the question fails and the worker exits
(`NodeNotReadyError`), although the cluster has a quorum: seen in the min-isr experiment, a router
restarting in place while one broker of three was still down never came back. Asking another
broker does not help either: until the dead one is fenced, they still name it as the controller.
Kafka 4 runs KRaft only, where every broker forwards CreateTopics to the active controller
(KIP-590), so the request goes to the first broker that is reachable instead.
"""

from __future__ import annotations

from typing import Any

from faust.exceptions import NotReady
from faust.transport.drivers.aiokafka import Transport

from chat4all_app.workarounds.pins import Private

PRIVATE = (Private("faust.transport.drivers.aiokafka:Transport", "_get_controller_node"),)

FAUSTS_OWN = Transport._get_controller_node  # kept for the test that shows the bug is still there


async def _first_reachable_broker(self: Transport, owner: Any, client: Any, timeout: int = 30000) -> int:
    brokers = [b.nodeId for b in client.cluster.brokers()]
    for node_id in brokers:
        if await client.ready(node_id):
            return node_id
    raise NotReady(f"no broker of {brokers} is reachable to create a topic")


def install() -> None:
    """Idempotent; every Faust worker calls it when its app is made (chat4all_app.faust_app)."""
    Transport._get_controller_node = _first_reachable_broker  # type: ignore[method-assign]
