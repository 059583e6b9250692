"""The people-facing command line client of the HTTP API."""
