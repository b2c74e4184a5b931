"""Slides: hostile uploads become decks of page images, rendered in a confined worker.

Every file is made here: real PDFs (pypdfium2 or a minimal PDF writer), real PNG
and JPEG (Pillow), and hostile ones (a page bomb, a decompression bomb, a page
that takes minutes to render, a page that needs more memory than allowed).
After every case: no temporary directory left in the root, no child process.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import math
import os
import resource
import struct
import zlib
from collections.abc import AsyncIterator
from pathlib import Path

import psutil  # type: ignore[import-untyped]
import pypdfium2 as pdfium  # type: ignore[import-untyped]
import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from protocol.messages.events import EventError
from server.features.events.render_worker import MAX_FDS
from server.features.events.slides import (
    DECK_FILE,
    Deck,
    SlideError,
    SlideLimits,
    ingest,
    load_deck,
    page_path,
    sniff,
    sweep,
)

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
SMALL = SlideLimits(page_width=400)

# --- making files -----------------------------------------------------------------------


def build_pdf(objects: list[bytes]) -> bytes:
    """A PDF of these objects (numbered from 1; object 1 is the catalog), with its xref."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def stream(entries: bytes, data: bytes) -> bytes:
    packed = zlib.compress(data, 9)
    return b"<< %s /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream" % (
        entries,
        len(packed),
        packed,
    )


def pages_pdf(
    boxes: list[tuple[float, float]],
    content: bytes,
    resources: bytes = b"<< >>",
    extra: tuple[bytes, ...] = (),
) -> bytes:
    """One page per (width, height) box, all drawing the same content stream; objects 1-4
    are the catalog, the page tree, the content and the resources, then the pages (from 5),
    then ``extra``."""
    first_page = 5
    kids = b" ".join(b"%d 0 R" % (first_page + i) for i in range(len(boxes)))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(boxes)),
        stream(b"", content),
        resources,
    ]
    objects += [
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %g %g] /Resources 4 0 R /Contents 3 0 R >>"
        % box
        for box in boxes
    ]
    return build_pdf([*objects, *extra])


def red_pdf(pages: int) -> bytes:
    """Letter pages with a red square in the middle."""
    return pages_pdf([(612, 792)] * pages, b"1 0 0 rg 206 296 200 200 re f")


def slow_pdf(pages: int = 1) -> bytes:
    """Pages that take minutes to render in about 1 KiB: a function-based shading whose
    PostScript function (100,000 operators) pdfium evaluates once per pixel."""
    program = b"{ add " + b"sqrt " * 100_000 + b"dup dup }"
    resources = (
        b"<< /Shading << /Sh0 << /ShadingType 1 /ColorSpace /DeviceRGB /Domain [0 612 0 792]"
        b" /Function %d 0 R >> >> >>" % (5 + pages)
    )
    function = stream(b"/FunctionType 4 /Domain [0 612 0 792] /Range [0 1 0 1 0 1]", program)
    return pages_pdf([(612, 792)] * pages, b"/Sh0 sh", resources, (function,))


def hungry_pdf(paths: int) -> bytes:
    """One page of ``paths`` tiny filled squares: pdfium keeps an object for each
    (a few hundred bytes apiece) while the file stays a few KiB."""
    return pages_pdf([(612, 792)], b"0 0 1 1 re f\n" * paths)


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bomb_png(width: int, height: int) -> bytes:
    """A PNG header claiming ``width`` x ``height`` grey pixels, with a few bytes of them."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", zlib.compress(b"\x00" * 1000))
        + png_chunk(b"IEND", b"")
    )


def image_bytes(image: Image.Image, fmt: str, **params: object) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **params)
    return buf.getvalue()


def with_exif(orientation: int | None = None) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x013B] = "Ada Lovelace"  # Artist
    if orientation is not None:
        exif[0x0112] = orientation
    return exif


# --- the invariants after every case -----------------------------------------------------


def children() -> list[psutil.Process]:
    found: list[psutil.Process] = psutil.Process().children(recursive=True)
    return found


def leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.name.startswith(".")) if root.exists() else []


@pytest.fixture
async def root(tmp_path: Path) -> AsyncIterator[Path]:
    # Other tests of the session may keep helper processes (multiprocessing's resource
    # tracker, a forkserver): only processes started during this test count.
    before = {p.pid for p in children()}
    path = tmp_path / "slides"
    yield path
    assert [p for p in children() if p.pid not in before] == [], "a worker outlived ingest"
    assert leftovers(path) == [], "a temporary directory outlived ingest"


async def refused(code: str, data: bytes, claimed: str, root: Path, limits: SlideLimits) -> None:
    with pytest.raises(SlideError) as info:
        await ingest(data, claimed, root, limits)
    assert info.value.code == code, info.value.reason
    assert not root.exists() or list(root.iterdir()) == [], "nothing stored"


def opened(root: Path, deck: Deck, page: int) -> Image.Image:
    image = Image.open(page_path(root, deck.id, page))
    image.load()
    return image


# --- accepted ------------------------------------------------------------------------------


async def test_a_three_page_pdf_becomes_three_images_of_the_page_width(root: Path) -> None:
    data = red_pdf(3)
    deck = await ingest(data, PDF, root, SMALL)
    height = round(792 * 400 / 612)
    assert (deck.pages, deck.width, deck.height) == (3, 400, height)
    assert deck.id == hashlib.sha256(data).hexdigest()[:16]
    ext = deck.files[0].rsplit(".", 1)[1]
    assert deck.files == tuple(f"{n}.{ext}" for n in (1, 2, 3))
    assert sorted(os.listdir(root / deck.id)) == sorted([*deck.files, DECK_FILE])
    for page in (1, 2, 3):
        image = opened(root, deck, page)
        assert image.size == (400, height)
        assert image.format == ("WEBP" if ext == "webp" else "PNG")
        r, g, b = image.convert("RGB").getpixel((200, height // 2))  # type: ignore[misc]
        assert r > 200 and g < 60 and b < 60, "the red square was rendered"
        assert image.convert("RGB").getpixel((5, 5)) == (255, 255, 255)
    assert load_deck(root, deck.id) == deck


async def test_the_same_bytes_again_return_the_stored_deck_without_rendering(root: Path) -> None:
    pdf = pdfium.PdfDocument.new()
    for _ in range(2):
        pdf.new_page(400, 300)
    buf = io.BytesIO()
    pdf.save(buf)
    data = buf.getvalue()
    first = await ingest(data, PDF, root, SMALL)
    stamp = (root / first.id / first.files[0]).stat().st_mtime_ns
    again = await ingest(data, PDF, root, SlideLimits(page_width=999))
    assert again == first
    assert (root / first.id / first.files[0]).stat().st_mtime_ns == stamp
    assert [p.name for p in root.iterdir()] == [first.id]


async def test_two_concurrent_uploads_of_the_same_bytes_store_one_deck(root: Path) -> None:
    data = red_pdf(2)
    a, b = await asyncio.gather(ingest(data, PDF, root, SMALL), ingest(data, PDF, root, SMALL))
    assert a == b
    assert [p.name for p in root.iterdir()] == [a.id]


async def test_pages_of_absurd_size_are_scaled_into_the_bounds(root: Path) -> None:
    boxes = [(100, 20_000), (14_400, 3), (0.5, 0.5), (612, 792)]
    deck = await ingest(pages_pdf(boxes, b"0 0 1 rg 0 0 10 10 re f"), PDF, root, SMALL)
    assert deck.pages == 4
    sizes = [opened(root, deck, n).size for n in range(1, 5)]
    for w, h in sizes:
        assert 1 <= w <= 400 and 1 <= h <= 800
    assert sizes[0] == (4, 800)  # height capped at twice the width, aspect kept
    assert sizes[1] == (400, 1)
    assert sizes[2] == (400, 400)  # tiny pages are scaled up to the page width
    assert (deck.width, deck.height) == (400, 800)


async def test_a_png_is_re_encoded_without_its_metadata(root: Path) -> None:
    image = Image.new("RGBA", (300, 200), (0, 128, 255, 255))
    image.putpixel((0, 0), (0, 0, 0, 0))
    info = PngInfo()
    info.add_text("Author", "Ada Lovelace")
    info.add_text("Comment", "confidential", zip=True)
    data = image_bytes(image, "PNG", pnginfo=info, exif=with_exif())
    assert b"Ada Lovelace" in data and b"SecretCam" in data
    deck = await ingest(data, PNG, root, SMALL)
    assert (deck.pages, deck.width, deck.height) == (1, 300, 200)  # not scaled up
    stored = (root / deck.id / deck.files[0]).read_bytes()
    assert b"Ada Lovelace" not in stored and b"SecretCam" not in stored
    assert b"confidential" not in stored and b"Exif" not in stored and b"EXIF" not in stored
    out = opened(root, deck, 1)
    assert len(out.getexif()) == 0 and "exif" not in out.info and "Author" not in out.info
    assert out.mode == "RGBA" and out.getpixel((0, 0))[3] == 0  # type: ignore[index]
    r, g, b, _ = out.getpixel((150, 100))  # type: ignore[misc]
    assert abs(r - 0) + abs(g - 128) + abs(b - 255) < 24


async def test_a_jpeg_is_turned_upright_re_encoded_and_loses_its_exif(root: Path) -> None:
    image = Image.new("RGB", (600, 200), (200, 30, 30))
    data = image_bytes(image, "JPEG", quality=95, exif=with_exif(orientation=6))
    assert b"SecretCam" in data and sniff(data) == "jpeg"
    deck = await ingest(data, JPEG, root, SMALL)
    out = opened(root, deck, 1)
    # Orientation 6: stored landscape, shown rotated to portrait, 200 x 600, capped at 800 high.
    assert out.size == (200, 600) == (deck.width, deck.height)
    stored = (root / deck.id / deck.files[0]).read_bytes()
    assert b"SecretCam" not in stored and b"Ada Lovelace" not in stored
    assert b"Exif" not in stored and b"EXIF" not in stored
    assert len(out.getexif()) == 0


async def test_a_wide_image_is_scaled_down_to_the_page_width(root: Path) -> None:
    data = image_bytes(Image.new("RGB", (1000, 500), (10, 200, 10)), "PNG")
    deck = await ingest(data, "image/png; charset=binary", root, SMALL)
    assert opened(root, deck, 1).size == (400, 200) == (deck.width, deck.height)


# --- refused ------------------------------------------------------------------------------


def a_png() -> bytes:
    return image_bytes(Image.new("RGB", (20, 10), (1, 2, 3)), "PNG")


def a_jpeg() -> bytes:
    return image_bytes(Image.new("RGB", (20, 10), (1, 2, 3)), "JPEG")


@pytest.mark.parametrize(
    ("label", "claimed"),
    [
        ("png", PDF),  # a PNG named and claimed as a PDF
        ("text", PDF),
        ("empty", PDF),
        ("pdf", PNG),
        ("jpeg", PNG),
        ("png", JPEG),
        ("pdf", "text/plain"),
        ("pdf later", PDF),  # %PDF- not at the start
        ("broken png", PNG),  # PNG magic, then garbage: the worker cannot decode it
    ],
)
async def test_content_that_is_not_what_it_claims_is_a_bad_file(
    root: Path, label: str, claimed: str
) -> None:
    data = {
        "png": a_png(),
        "jpeg": a_jpeg(),
        "pdf": red_pdf(1),
        "text": b"Slide 1: Welcome to the town hall\n",
        "empty": b"",
        "pdf later": b"\n\n" + red_pdf(1),
        "broken png": a_png()[:8] + b"\x00" * 200,
    }[label]
    await refused(EventError.BAD_FILE, data, claimed, root, SMALL)


async def test_a_file_over_the_byte_limit_is_refused_before_anything_else(root: Path) -> None:
    data = red_pdf(1)
    await refused(EventError.FILE_TOO_LARGE, data, PDF, root, SlideLimits(max_bytes=len(data) - 1))
    assert not root.exists()
    await refused(EventError.FILE_TOO_LARGE, b"x" * 2000, PDF, root, SlideLimits(max_bytes=1000))


async def test_a_page_bomb_is_refused_by_its_page_count_without_rendering(root: Path) -> None:
    # 10,000 pages, each one minutes of rendering: a render of any page would end in
    # render_timeout, so too_many_pages shows the count was checked first.
    data = slow_pdf(pages=10_000)
    assert len(data) < 2 * 1024 * 1024
    limits = SlideLimits(page_width=400, max_pages=60, timeout_s=60)
    await refused(EventError.TOO_MANY_PAGES, data, PDF, root, limits)


@pytest.mark.parametrize(
    ("width", "height", "limit"),
    [
        (100_000, 100_000, 40_000_000),  # over twice the limit: Pillow's error
        (7_000, 7_000, 40_000_000),  # between once and twice: Pillow's warning, an error
        (2_000, 1_001, 2_000_000),
    ],
)
async def test_a_decompression_bomb_png_is_refused_before_decoding(
    root: Path, width: int, height: int, limit: int
) -> None:
    # The pixel data is 1000 bytes, far short of the claim: decoding would fail as
    # a bad_file, so image_too_large shows the check came before decoding.
    data = bomb_png(width, height)
    assert len(data) < 200
    limits = SlideLimits(page_width=400, max_image_pixels=limit)
    await refused(EventError.IMAGE_TOO_LARGE, data, PNG, root, limits)


async def test_a_jpeg_claiming_huge_dimensions_is_refused(root: Path) -> None:
    data = bytearray(a_jpeg())
    sof = data.index(b"\xff\xc0")  # SOF0: length(2) precision(1) height(2) width(2)
    data[sof + 5 : sof + 9] = struct.pack(">HH", 60_000, 60_000)
    await refused(EventError.IMAGE_TOO_LARGE, bytes(data), JPEG, root, SMALL)


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.7\n" + bytes(range(256)) * 40,
        b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\ntrailer << /Root 1 0 R >>",
        pages_pdf([], b""),  # a well-formed PDF of no pages
    ],
    ids=["garbage", "no page tree", "no pages"],
)
async def test_a_corrupt_pdf_fails_to_render(root: Path, data: bytes) -> None:
    await refused(EventError.RENDER_FAILED, data, PDF, root, SMALL)


async def test_a_render_that_takes_too_long_is_killed(root: Path) -> None:
    limits = SlideLimits(page_width=400, timeout_s=1.0)
    await refused(EventError.RENDER_TIMEOUT, slow_pdf(), PDF, root, limits)


async def test_a_render_over_the_memory_limit_fails_and_fits_under_a_larger_one(
    root: Path,
) -> None:
    data = hungry_pdf(400_000)
    assert len(data) < 64 * 1024
    await refused(EventError.RENDER_FAILED, data, PDF, root, SlideLimits(memory_mb=120))
    deck = await ingest(data, PDF, root, SlideLimits(page_width=400, memory_mb=768))
    assert deck.pages == 1


async def test_the_worker_is_confined_and_cancelling_the_upload_kills_it(root: Path) -> None:
    inherited_r, inherited_w = os.pipe()
    os.set_inheritable(inherited_r, True)
    leaked = os.readlink(f"/proc/self/fd/{inherited_r}")
    limits = SlideLimits(page_width=400, timeout_s=300, memory_mb=300)
    task = asyncio.create_task(ingest(slow_pdf(), PDF, root, limits))
    try:
        worker = await _worker_started(limits)  # it has set its limits: checked there
        assert leaked not in _open_fds(worker.pid), "an inheritable fd reached the worker"
        assert os.getsid(worker.pid) == worker.pid, "the worker leads its own session"
        assert os.getpgid(worker.pid) == worker.pid
        cwd = Path(worker.cwd())
        assert cwd.parent == root and cwd.name.startswith(".tmp-")
        assert worker.environ() == {"LC_ALL": "C.UTF-8"}
        assert task.done() is False
    finally:
        os.close(inherited_r)
        os.close(inherited_w)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert not worker.is_running()


def _open_fds(pid: int) -> list[str]:
    found = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            found.append(os.readlink(f"/proc/{pid}/fd/{fd}"))
        except FileNotFoundError:
            continue  # closed meanwhile
    return found


async def _worker_started(limits: SlideLimits) -> psutil.Process:
    """The worker, once it has lowered all its limits (no wall-clock bound: pytest's)."""
    memory = limits.memory_mb * 1024 * 1024
    cpu = math.ceil(limits.timeout_s) + 1
    expected = {
        resource.RLIMIT_AS: (memory, memory),
        resource.RLIMIT_CPU: (cpu, cpu + 1),
        resource.RLIMIT_CORE: (0, 0),
        resource.RLIMIT_NOFILE: (MAX_FDS, MAX_FDS),
    }
    while True:
        for child in children():
            try:
                if any(a.endswith("render_worker.py") for a in child.cmdline()) and all(
                    child.rlimit(r) == v for r, v in expected.items()
                ):
                    return child
            except psutil.NoSuchProcess:
                pass
        await asyncio.sleep(0.01)


# --- page_path ---------------------------------------------------------------------------


async def test_page_path_refuses_traversal_bad_ids_and_pages_out_of_range(root: Path) -> None:
    deck = await ingest(red_pdf(2), PDF, root, SMALL)
    assert page_path(root, deck.id, 2) == root / deck.id / deck.files[1]
    bad = [
        (deck.id, 0),
        (deck.id, 3),
        (deck.id, -1),
        (deck.id, True),
        (deck.id, "1"),
        ("..", 1),
        ("../" + deck.id, 1),
        (deck.id + "/..", 1),
        (f"{deck.id}/../{deck.id}", 1),
        ("/etc/passwd", 1),
        ("", 1),
        (deck.id.upper(), 1),
        (deck.id[:15], 1),
        (deck.id + "0", 1),
        (deck.id[:15] + "\x00", 1),
        ("0123456789abcdef", 1),  # well formed, unknown
    ]
    for deck_id, page in bad:
        with pytest.raises(SlideError) as info:
            page_path(root, deck_id, page)  # type: ignore[arg-type]
        assert info.value.code == EventError.NO_SLIDES, (deck_id, page)


async def test_a_tampered_deck_file_names_no_path_outside_the_deck(root: Path) -> None:
    deck = await ingest(red_pdf(1), PDF, root, SMALL)
    meta = root / deck.id / DECK_FILE
    for files in (["../../../etc/passwd"], ["/etc/passwd"], ["1.webp/../../x"], ["2.png"]):
        raw = json.loads(meta.read_text())
        raw["files"] = files
        meta.write_text(json.dumps(raw))
        assert load_deck(root, deck.id) is None
        with pytest.raises(SlideError):
            page_path(root, deck.id, 1)


async def test_sweep_removes_only_stale_temporary_directories(root: Path) -> None:
    deck = await ingest(red_pdf(1), PDF, root, SMALL)
    stale, fresh = root / ".tmp-stale", root / ".tmp-fresh"
    for d in (stale, fresh):
        (d / "deck").mkdir(parents=True)
    os.utime(stale, (0, 0))
    assert sweep(root) == 1
    assert sorted(p.name for p in root.iterdir()) == [".tmp-fresh", deck.id]
    assert sweep(root, older_than_s=-1) == 1
    assert [p.name for p in root.iterdir()] == [deck.id]
