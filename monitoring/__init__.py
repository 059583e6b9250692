"""Monitoring as code: Grafana dashboards generated from Python, and helpers that read them back."""
