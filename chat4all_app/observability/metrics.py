"""Prometheus metrics, declared once per process (prometheus-client's default registry)."""

from __future__ import annotations

from prometheus_client import Counter

FILES_UPLOADED = Counter(
    "files_uploaded", "Files stored, streamed or resumable, by size bucket.", ["size_bucket"])
