"""A small LRU map for facts that never change once written (membership, file metadata, where a
message is stored): a hit saves a Cassandra round trip, a stale entry is impossible."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class LruCache(Generic[V]):
    def __init__(self, size: int = 10_000):
        self.size = size
        self._items: OrderedDict[Hashable, V] = OrderedDict()

    def put(self, key: Hashable, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        if len(self._items) > self.size:
            self._items.popitem(last=False)

    def get(self, key: Hashable) -> V | None:
        found = self._items.get(key)
        if found is not None:
            self._items.move_to_end(key)
        return found

    async def get_or_load(self, key: Hashable, load: Callable[[], Awaitable[V | None]]) -> V | None:
        """The cached value, else `load()`; a miss that finds nothing is not cached (it may appear)."""
        found = self.get(key)
        if found is None:
            found = await load()
            if found is not None:
                self.put(key, found)
        return found
