"""Faust agents: the message flow (router, status applier, channel connectors)."""
