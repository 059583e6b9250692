"""Cassandra access: an asyncio bridge over cassandra-driver and one repository per table group."""
