"""Durable state behind a small interface (`Store`), with a Redis implementation."""

from server.store.base import Store
from server.store.redis_store import RedisStore, open_store

__all__ = ["RedisStore", "Store", "open_store"]
