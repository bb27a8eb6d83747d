"""A small thread-safe least-recently-used map: values worked out once per process and reused."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable


class LRU:
    """At most ``size`` entries; reading one makes it the most recently used, adding one past the size
    drops the least recently used. Keys must name everything their value depends on: nothing is
    invalidated by hand."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[Hashable, object] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, default=None):
        with self._lock:
            value = self._entries.get(key, _MISSING)
            if value is _MISSING:
                return default
            self._entries.move_to_end(key)
            return value

    def put(self, key: Hashable, value) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            if len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


_MISSING = object()
