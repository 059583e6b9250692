"""Metrics and their HTTP exposition."""
