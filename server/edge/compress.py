"""gzip for the web client's text files (scripts, styles, pages, JSON, SVG).

The client is plain ES modules with no bundler, three.js among them (about 2 MB
of JavaScript unminified): gzip makes that a fifth. `HttpRoutes.static` asks
`compressible` whether a file's type and size are worth it, `accepts_gzip`
whether the request takes gzip, and `GzipCache.packed` for the bytes, which it
compresses once per file version (path, modification time, size) in a worker
thread, so the tick loop never waits on zlib, and keeps in memory up to a bound
(least recently used first out).
"""

from __future__ import annotations

import asyncio
import gzip
from collections import OrderedDict

MIN_BYTES = 1024
"""Smaller bodies are sent as they are: gzip's header and a round trip cost more."""
LEVEL = 6
MAX_CACHE_BYTES = 64 * 1024 * 1024

_TEXT_TYPES = ("text/", "application/json", "application/wasm", "image/svg+xml")

FileKey = tuple[str, int, int]
"""(path, st_mtime_ns, size): a new version of a file is a new key."""


def compressible(content_type: str, size: int) -> bool:
    """Whether a static file of this type and size is sent gzip-compressed when asked."""
    return size >= MIN_BYTES and content_type.startswith(_TEXT_TYPES)


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether an ``Accept-Encoding`` header allows gzip (``gzip``, ``x-gzip`` or ``*``
    with a q-value above 0; an explicit ``gzip;q=0`` refuses it)."""
    if not accept_encoding:
        return False
    weights: dict[str, float] = {}
    for part in accept_encoding.split(","):
        coding, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if coding:
            weights[coding.lower()] = q
    for coding in ("gzip", "x-gzip"):
        if coding in weights:
            return weights[coding] > 0
    return weights.get("*", 0.0) > 0


class GzipCache:
    """Compressed bodies by file version, at most ``max_bytes`` of them in memory."""

    def __init__(self, max_bytes: int = MAX_CACHE_BYTES) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self.compressed = 0
        """How many times a body was compressed (a cache miss)."""
        self._entries: OrderedDict[FileKey, bytes | None] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    async def packed(self, key: FileKey, body: bytes) -> bytes | None:
        """``body`` gzip-compressed, or None when that is not smaller (send it as it is)."""
        if key in self._entries:
            self._entries.move_to_end(key)
            return self._entries[key]
        packed: bytes | None = await asyncio.to_thread(gzip.compress, body, LEVEL, mtime=0)
        self.compressed += 1
        if packed is not None and len(packed) >= len(body):
            packed = None
        size = len(packed) if packed is not None else 0
        if size <= self.max_bytes:
            if key in self._entries:  # another request compressed it meanwhile
                old = self._entries.pop(key)
                self.bytes -= len(old) if old is not None else 0
            self._entries[key] = packed
            self.bytes += size
            while self.bytes > self.max_bytes:
                _, dropped = self._entries.popitem(last=False)
                self.bytes -= len(dropped) if dropped is not None else 0
        return packed
