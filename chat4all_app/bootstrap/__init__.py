"""Idempotent schema bootstrap: Kafka topics, Cassandra keyspace/tables, the S3 bucket.

Run by `chat4all migrate` at `make up`, in tests, and by the compose init jobs.
"""
