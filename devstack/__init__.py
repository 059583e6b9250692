"""The local stack without Docker: real Kafka, Cassandra, S3 and Prometheus under supervisord.

`python -m devstack up|down|ps` (the Makefile's `make up/down/ps`). Binaries come from the cache
that deploy/install.sh fills; data, configs, sockets and logs live in one state directory.
"""
