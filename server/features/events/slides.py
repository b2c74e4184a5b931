"""Slides for events: a host's PDF, PNG or JPEG becomes a deck of page images.

Every upload is hostile. Its type is read from its first bytes, never from a
name, and must be the type it claims. It is decoded only in a separate worker
process (`render_worker`, a script of the standard library, pypdfium2 and
Pillow) with its own address-space, CPU-time and file-size limits, in its own
session (process group), with no inherited fds, a minimal environment and a
fresh temporary directory as cwd; past ``SlideLimits.timeout_s`` of wall time
the whole group is killed. In every outcome (a deck, a refusal, a timeout, the
awaiting task cancelled) the worker is reaped and the temporary directory
removed before `ingest` returns or raises.

A deck lives in ``root/<deck id>/``: the page images ``1.webp``, ``2.webp``, ...
(``.png`` if Pillow lacks WebP) and ``deck.json``. It is built in
``root/.tmp-<random>/deck`` and renamed into place, so a deck directory is
complete or absent. The deck id is the first 16 hex digits of the SHA-256 of
the file: uploading the same bytes again returns the stored deck.

Note: the limits bound what a decoder bug costs (memory, CPU, disk); they are
not a sandbox against code execution (the worker runs as the server's user).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import math
import os
import re
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from protocol.errors import ProtocolError
from protocol.messages.events import EventError
from server.features.events import render_worker

__all__ = [
    "DECK_FILE",
    "WORKER",
    "Deck",
    "SlideError",
    "SlideLimits",
    "ingest",
    "load_deck",
    "page_path",
    "sniff",
    "sweep",
]

WORKER: Final = Path(render_worker.__file__).resolve()
"""The worker script, run as ``sys.executable -I WORKER JOB`` (not ``-m``: that would
import ``server.features`` and every feature in the worker)."""
DECK_FILE: Final = "deck.json"
TMP_PREFIX: Final = ".tmp-"
DECK_ID: Final = re.compile(r"[0-9a-f]{16}")
PAGE_FILE: Final = re.compile(r"([1-9][0-9]*)\.(webp|png)")
MAX_RESULT_BYTES: Final = 1 << 20
STDERR_TAIL: Final = 2000

log = logging.getLogger(__name__)

PNG_MAGIC: Final = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC: Final = b"\xff\xd8\xff"  # SOI, then any marker (APP0 JFIF, APP1 Exif, DQT, ...)
PDF_MAGIC: Final = b"%PDF-"
CLAIMS: Final = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpeg"}


@dataclass(frozen=True)
class SlideLimits:
    max_bytes: int = 20 * 1024 * 1024
    max_pages: int = 60
    max_image_pixels: int = 40_000_000  # input PNG/JPEG (decompression bombs)
    page_width: int = 1600  # rendered width in px (height by aspect, capped at 2x)
    timeout_s: float = 30.0
    memory_mb: int = 768


class SlideError(ProtocolError):
    """An upload refused; ``code`` is one of the slide codes of `EventError`."""


@dataclass(frozen=True)
class Deck:
    id: str  # content hash prefix
    pages: int
    width: int  # the widest page, px (a box of width x height holds every page)
    height: int  # the highest page, px
    files: tuple[str, ...]  # page file names under the deck dir, "1.webp" or "1.png"


def sniff(data: bytes) -> str | None:
    """``"pdf"``, ``"png"`` or ``"jpeg"`` from the magic bytes, else None."""
    if data.startswith(PDF_MAGIC):
        return "pdf"
    if data.startswith(PNG_MAGIC):
        return "png"
    if data.startswith(JPEG_MAGIC):
        return "jpeg"
    return None


async def ingest(data: bytes, claimed_type: str, root: Path, limits: SlideLimits) -> Deck:
    """Validate, render and store an upload; the stored deck when the bytes are known.

    Raises `SlideError` with ``bad_file``, ``file_too_large``, ``too_many_pages``,
    ``image_too_large``, ``render_failed`` or ``render_timeout``.
    """
    if len(data) > limits.max_bytes:
        raise SlideError(
            EventError.FILE_TOO_LARGE, f"{len(data)} bytes, the limit is {limits.max_bytes}"
        )
    kind = sniff(data)
    if kind is None:
        raise SlideError(EventError.BAD_FILE, "the file is not a PDF, PNG or JPEG")
    claimed = CLAIMS.get(claimed_type.split(";")[0].strip().lower())
    if claimed != kind:
        raise SlideError(EventError.BAD_FILE, f"the file is a {kind}, not {claimed_type!r}")
    digest = await asyncio.to_thread(lambda: hashlib.sha256(data).hexdigest())
    deck_id = digest[:16]
    root.mkdir(parents=True, exist_ok=True)
    known = load_deck(root, deck_id)
    if known is not None:
        return known
    staging = Path(tempfile.mkdtemp(prefix=TMP_PREFIX, dir=root)).absolute()
    try:
        out = staging / "deck"
        out.mkdir()
        pages = await _render(data, kind, staging, out, limits)
        deck = Deck(
            id=deck_id,
            pages=len(pages),
            width=max(p["width"] for p in pages),
            height=max(p["height"] for p in pages),
            files=tuple(p["file"] for p in pages),
        )
        (out / DECK_FILE).write_text(json.dumps(_deck_json(deck)), encoding="utf-8")
        try:
            out.rename(root / deck_id)
        except OSError:
            # The same bytes, ingested concurrently, were stored first.
            known = load_deck(root, deck_id)
            if known is None:
                raise
            return known
        return deck
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def load_deck(root: Path, deck: str) -> Deck | None:
    """The stored deck ``deck`` under ``root``, or None (unknown id, or not a deck)."""
    if not isinstance(deck, str) or not DECK_ID.fullmatch(deck):
        return None
    try:
        raw = json.loads((root / deck / DECK_FILE).read_text(encoding="utf-8"))
        files = tuple(str(f) for f in raw["files"])
        loaded = Deck(
            id=str(raw["id"]),
            pages=int(raw["pages"]),
            width=int(raw["width"]),
            height=int(raw["height"]),
            files=files,
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    names_ok = all(
        (m := PAGE_FILE.fullmatch(f)) is not None and int(m.group(1)) == i
        for i, f in enumerate(files, 1)
    )
    if loaded.id != deck or loaded.pages != len(files) or not files or not names_ok:
        return None
    return loaded


def page_path(root: Path, deck: str, page: int) -> Path:
    """The image file of page ``page`` (from 1) of deck ``deck``.

    Raises `SlideError` ``no_slides`` for a malformed deck id (no path can be
    smuggled through it), an unknown deck, or a page out of range.
    """
    if not isinstance(deck, str) or not DECK_ID.fullmatch(deck):
        raise SlideError(EventError.NO_SLIDES, "not a deck id")
    if isinstance(page, bool) or not isinstance(page, int):
        raise SlideError(EventError.NO_SLIDES, "a page is a number")
    stored = load_deck(root, deck)
    if stored is None:
        raise SlideError(EventError.NO_SLIDES, "no such deck")
    if not 1 <= page <= stored.pages:
        raise SlideError(EventError.NO_SLIDES, f"the deck has pages 1 to {stored.pages}")
    path = root / deck / stored.files[page - 1]
    if path.resolve().parent != (root / deck).resolve():
        raise SlideError(EventError.NO_SLIDES, "no such page")
    return path


def sweep(root: Path, older_than_s: float = 3600.0) -> int:
    """Remove temporary directories a crashed server left in ``root``; how many.

    Only those older than ``older_than_s``: another process may be ingesting.
    """
    removed = 0
    if not root.is_dir():
        return 0
    cutoff = time.time() - older_than_s
    for entry in root.iterdir():
        if entry.name.startswith(TMP_PREFIX) and entry.is_dir() and not entry.is_symlink():
            try:
                if entry.stat().st_mtime < cutoff:
                    shutil.rmtree(entry, ignore_errors=True)
                    removed += 1
            except OSError:
                continue
    return removed


def _deck_json(deck: Deck) -> dict[str, Any]:
    return {
        "id": deck.id,
        "pages": deck.pages,
        "width": deck.width,
        "height": deck.height,
        "files": list(deck.files),
    }


async def _render(
    data: bytes, kind: str, work: Path, out: Path, limits: SlideLimits
) -> list[render_worker.PageOut]:
    """Run the worker on ``data`` with ``work`` as cwd; its checked page list."""
    result_path = work / "result.json"
    max_height = int(render_worker.MAX_ASPECT * limits.page_width)
    job: render_worker.Job = {
        "kind": kind,
        "out": str(out),
        "result": str(result_path),
        "max_bytes": limits.max_bytes,
        "max_pages": limits.max_pages,
        "max_image_pixels": limits.max_image_pixels,
        "page_width": limits.page_width,
        "memory_mb": limits.memory_mb,
        "cpu_s": math.ceil(limits.timeout_s) + 1,  # a backstop: the wall clock comes first
        "max_file_bytes": limits.page_width * max_height * 4 + (1 << 20),
    }
    with open(work / "stderr.txt", "wb") as stderr:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-I",
            str(WORKER),
            json.dumps(job),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=stderr,
            cwd=work,
            env={"LC_ALL": "C.UTF-8"},
            close_fds=True,
            start_new_session=True,  # its own process group, pgid == pid: killpg reaches all
        )
    timed_out = False
    try:
        try:
            async with asyncio.timeout(limits.timeout_s):
                await _feed(proc, data)
                await proc.wait()
        except TimeoutError:
            timed_out = True
    finally:
        await _kill_and_reap(proc)
    if timed_out or proc.returncode == -signal.SIGXCPU:  # wall clock, or CPU seconds
        raise SlideError(
            EventError.RENDER_TIMEOUT, f"rendering took longer than {limits.timeout_s:g} s"
        )
    if proc.returncode != 0:
        why = _exit_reason(proc.returncode)
        log.warning("slide renderer stopped (%s): %s", why, _tail(work / "stderr.txt"))
        raise SlideError(
            EventError.RENDER_FAILED,
            f"the file could not be rendered (the renderer stopped: {why})",
        )
    return _check_result(result_path, out, limits, max_height)


async def _feed(proc: asyncio.subprocess.Process, data: bytes) -> None:
    assert proc.stdin is not None
    try:
        proc.stdin.write(data)
        await proc.stdin.drain()
        proc.stdin.close()
        await proc.stdin.wait_closed()
    except (BrokenPipeError, ConnectionResetError):
        pass  # the worker stopped early; its exit status tells why


async def _kill_and_reap(proc: asyncio.subprocess.Process) -> None:
    """Kill the worker's process group unless it has exited, and wait for it, even when
    the awaiting task is cancelled meanwhile (the cancellation is re-raised after)."""
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # not yet reaped, so pgid is still ours
    if proc.stdin is not None:
        proc.stdin.close()
    waiter = asyncio.ensure_future(proc.wait())
    cancelled = False
    while not waiter.done():
        try:
            await asyncio.shield(waiter)
        except asyncio.CancelledError:
            cancelled = True
    if cancelled:
        raise asyncio.CancelledError


def _tail(path: Path) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(max(0, path.stat().st_size - STDERR_TAIL))
            return f.read(STDERR_TAIL).decode("utf-8", "replace").strip()
    except OSError:
        return ""


def _exit_reason(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return signal.Signals(-code).name
        except ValueError:
            return f"signal {-code}"
    return f"exit status {code}"


def _check_result(
    path: Path, out: Path, limits: SlideLimits, max_height: int
) -> list[render_worker.PageOut]:
    """The worker's result, trusted no further than checked: codes, names, sizes, files."""

    def failed(why: str) -> SlideError:
        return SlideError(EventError.RENDER_FAILED, f"the renderer's result is not valid: {why}")

    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_RESULT_BYTES + 1)
        if len(raw) > MAX_RESULT_BYTES:
            raise failed("too long")
        result = json.loads(raw)
    except (OSError, ValueError) as e:
        raise failed(str(e)) from None
    if not isinstance(result, dict):
        raise failed("not an object")
    if result.get("ok") is not True:
        code = result.get("code")
        reason = result.get("reason")
        if code not in render_worker.WORKER_CODES or not isinstance(reason, str):
            raise failed(f"unknown code {code!r}")
        raise SlideError(str(code), reason[:500])
    pages = result.get("pages")
    if not isinstance(pages, list) or not 1 <= len(pages) <= limits.max_pages:
        raise failed("no pages, or too many")
    checked: list[render_worker.PageOut] = []
    for number, page in enumerate(pages, 1):
        if not isinstance(page, dict):
            raise failed("a page is not an object")
        name, width, height = page.get("file"), page.get("width"), page.get("height")
        if not isinstance(name, str) or (m := PAGE_FILE.fullmatch(name)) is None:
            raise failed(f"page {number} is named {name!r}")
        if int(m.group(1)) != number:
            raise failed(f"page {number} is named {name!r}")
        if not isinstance(width, int) or not isinstance(height, int):
            raise failed(f"page {number} has no size")
        if not (1 <= width <= limits.page_width and 1 <= height <= max_height):
            raise failed(f"page {number} is {width} x {height}")
        checked.append({"file": name, "width": width, "height": height})
    present = sorted(os.listdir(out))
    if present != sorted(p["file"] for p in checked):
        raise failed("the page files are not the pages listed")
    if any(not (out / p["file"]).is_file() or (out / p["file"]).is_symlink() for p in checked):
        raise failed("a page is not a file")
    return checked
