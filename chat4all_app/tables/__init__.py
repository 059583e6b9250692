"""RocksDB-backed Faust tables: typed facades (state.py), read from outside a worker (inspect.py)."""
