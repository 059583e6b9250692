"""Faust web views: the HTTP API, /health and /metrics."""
