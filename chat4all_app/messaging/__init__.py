"""The rules of conversations and messages, apart from HTTP: what may be sent, read, marked.

Services take typed requests, return typed results and refuse with chat4all_app.errors; they
reach Cassandra and Kafka only through the ports of `ports.py` (adapters: `cassandra.py`).
"""
