"""Metrics, /health probes and reports, JSON logs, correlation ids, heartbeats and their monitor."""
