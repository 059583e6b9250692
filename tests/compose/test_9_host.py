"""Last: after `docker compose down`, the host's firewall, forwarding, routes and /etc/docker are as
they were before the engine started (the bridges compose made are gone with their networks)."""

from tests.compose.deployment import host_network_state


def test_the_host_network_is_as_it_was_once_the_deployment_is_down(deployment, engine, host_before):
    deployment.compose("down", "--volumes", "--remove-orphans", "--timeout", "20")
    after = host_network_state(engine)
    assert {k: v for k, v in after.items() if v != host_before[k]} == {}, (host_before, after)
