"""Durable state as primitives, namespaced per feature (`Store` -> `Keyspace`).

``open_store(redis_url, data_dir)`` gives the `RedisStore` (external or
embedded Redis); `MemoryStore` is the one-process stand-in for tests.
"""

from server.store.base import Keyspace, Store, StreamEntry, Subscription
from server.store.memory import MemoryStore
from server.store.redis_store import RedisStore, open_store
from server.store.rewrite import rewrite_entries

__all__ = [
    "Keyspace",
    "MemoryStore",
    "RedisStore",
    "Store",
    "StreamEntry",
    "Subscription",
    "open_store",
    "rewrite_entries",
]
