"""Idempotent set-up: Kafka topics, Cassandra keyspace/tables, the S3 bucket and app key, secrets.

Run by `chat4all migrate` / `chat4all init-secrets` at `make up`, in tests, and by the compose init
jobs. Running services never import it; it uses their connection helpers (`storage.cassandra`,
`files.s3`).
"""
