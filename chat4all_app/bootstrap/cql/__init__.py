"""CQL migration files (data, applied by cassandra_schema)."""
