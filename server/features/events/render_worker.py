"""The slide render worker: one hostile file in, page images out, in its own process.

`server.features.events.slides` starts this file as a script (``python -I
render_worker.py JOB``), never as ``-m``: the worker imports nothing of the
server, only the standard library, pypdfium2 and Pillow. JOB is a JSON object
(`Job`); the file's bytes come on stdin. Before it reads a byte of them or
imports a decoder, the worker lowers its own resource limits (address space,
CPU seconds, file size, no core file, few fds): limits set here, after
``exec``, need no ``preexec_fn``, which is unsafe in a server that has threads.

It writes the page images into ``Job.out`` (``1.webp``, ``2.webp``, ... or
``.png`` when Pillow lacks WebP) and a `Result` as JSON to ``Job.result``,
then exits 0. A refusal it understands (too many pages, a decompression bomb)
is a result with a code; anything else (a crash, a limit) is a non-zero exit
that the parent reports as ``render_failed`` or ``render_timeout``.
"""

from __future__ import annotations

import json
import math
import os
import resource
import sys
import warnings
from pathlib import Path
from typing import Any, Final, TypedDict

BAD_FILE: Final = "bad_file"
TOO_MANY_PAGES: Final = "too_many_pages"
IMAGE_TOO_LARGE: Final = "image_too_large"
RENDER_FAILED: Final = "render_failed"

WORKER_CODES: Final = frozenset({BAD_FILE, TOO_MANY_PAGES, IMAGE_TOO_LARGE, RENDER_FAILED})
"""The codes a worker may report in a `Result`; the parent refuses any other."""

KINDS: Final = ("pdf", "png", "jpeg")
MAX_ASPECT: Final = 2.0
"""A rendered page is at most this many times as high as `Job.page_width`."""
WEBP_QUALITY: Final = 90
MAX_FDS: Final = 32


class Job(TypedDict):
    kind: str  # one of KINDS, as sniffed by the parent
    out: str  # directory for the page images (exists, empty)
    result: str  # path of the result JSON
    max_bytes: int  # stdin is read up to this many bytes
    max_pages: int
    max_image_pixels: int
    page_width: int
    memory_mb: int
    cpu_s: int
    max_file_bytes: int


class PageOut(TypedDict):
    file: str
    width: int
    height: int


class Result(TypedDict, total=False):
    ok: bool
    code: str  # when not ok: one of WORKER_CODES
    reason: str
    pages: list[PageOut]  # when ok, in page order


class Refused(Exception):
    """A refusal with one of `WORKER_CODES`."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def fit(width: float, height: float, page_width: int, *, upscale: bool) -> tuple[int, int]:
    """Pixel size for a page or image of ``width`` x ``height``: ``page_width`` wide at most
    (exactly, when ``upscale``), at most ``MAX_ASPECT * page_width`` high, aspect kept,
    at least 1 x 1. Absurd sizes (zero, negative, not finite) are refused."""
    if not (math.isfinite(width) and math.isfinite(height)) or width <= 0 or height <= 0:
        raise Refused(RENDER_FAILED, f"the page has no usable size ({width} x {height})")
    max_height = MAX_ASPECT * page_width
    scale = min(page_width / width, max_height / height)
    if not upscale:
        scale = min(scale, 1.0)
    w = min(page_width, max(1, round(width * scale)))
    h = min(int(max_height), max(1, round(height * scale)))
    return w, h


def set_limits(job: Job) -> None:
    """Lower this process's limits before touching the input (hard limits too)."""
    memory = job["memory_mb"] * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    cpu = max(1, job["cpu_s"])
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))  # SIGXCPU, then SIGKILL
    size = job["max_file_bytes"]
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))  # SIGXFSZ past it
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NOFILE, (MAX_FDS, MAX_FDS))


def read_input(limit: int) -> bytes:
    data = sys.stdin.buffer.read(limit + 1)
    if len(data) > limit:
        raise Refused(RENDER_FAILED, "more input than announced")
    return data


def save(image: Any, out: Path, number: int, webp: bool) -> PageOut:
    """Save a fresh copy of ``image`` (no metadata: no EXIF, ICC, XMP or text chunks)."""
    from PIL import Image

    mode = "RGBA" if image.mode == "RGBA" else "RGB"
    clean = Image.new(mode, image.size)
    clean.paste(image.convert(mode))
    name = f"{number}.{'webp' if webp else 'png'}"
    if webp:
        clean.save(out / name, "WEBP", quality=WEBP_QUALITY, method=4)
    else:
        clean.save(out / name, "PNG", optimize=False)
    return {"file": name, "width": clean.width, "height": clean.height}


def render_pdf(data: bytes, job: Job, webp: bool) -> list[PageOut]:
    import pypdfium2 as pdfium  # type: ignore[import-untyped]
    import pypdfium2.raw as pdfium_c  # type: ignore[import-untyped]

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as e:
        raise Refused(RENDER_FAILED, f"the PDF cannot be opened: {e}") from None
    count = len(pdf)
    if count > job["max_pages"]:
        raise Refused(TOO_MANY_PAGES, f"{count} pages, the limit is {job['max_pages']}")
    if count < 1:
        raise Refused(RENDER_FAILED, "the PDF has no pages")
    out = Path(job["out"])
    pages: list[PageOut] = []
    for index in range(count):
        page = pdf[index]
        width, height = page.get_size()
        w, h = fit(float(width), float(height), job["page_width"], upscale=True)
        # Our own bitmap of exactly w x h: pdfium scales the page into it, so no page
        # size, user unit or rotation can make it allocate more than we decided.
        bitmap = pdfium.PdfBitmap.new_native(w, h, pdfium_c.FPDFBitmap_BGR, rev_byteorder=True)
        bitmap.fill_rect((255, 255, 255, 255), 0, 0, w, h)
        flags = pdfium_c.FPDF_ANNOT | pdfium_c.FPDF_REVERSE_BYTE_ORDER  # RGB, as declared
        pdfium_c.FPDF_RenderPageBitmap(bitmap, page, 0, 0, w, h, 0, flags)
        pages.append(save(bitmap.to_pil(), out, index + 1, webp))
        bitmap.close()
        page.close()
    pdf.close()
    return pages


def convert_image(data: bytes, job: Job, webp: bool) -> list[PageOut]:
    import io

    from PIL import Image, ImageOps, UnidentifiedImageError

    fmt = "PNG" if job["kind"] == "png" else "JPEG"
    limit = job["max_image_pixels"]
    Image.MAX_IMAGE_PIXELS = limit  # Pillow itself refuses twice that on open
    warnings.simplefilter("error", Image.DecompressionBombWarning)
    try:
        with Image.open(io.BytesIO(data), formats=[fmt]) as probe:  # reads the header only
            w, h = probe.size
            if w * h > limit:
                raise Refused(IMAGE_TOO_LARGE, f"{w} x {h} pixels, the limit is {limit}")
            probe.verify()
        with Image.open(io.BytesIO(data), formats=[fmt]) as image:
            target = fit(w, h, job["page_width"], upscale=False)
            if fmt == "JPEG":
                image.draft("RGB", target)  # decode at 1/2, 1/4, 1/8 when that is enough
            image.load()
            upright = ImageOps.exif_transpose(image)
            mode = "RGBA" if upright.has_transparency_data else "RGB"
            pixels = upright.convert(mode)
            tw, th = fit(pixels.width, pixels.height, job["page_width"], upscale=False)
            if (tw, th) != pixels.size:
                pixels = pixels.resize((tw, th), Image.Resampling.LANCZOS)
            return [save(pixels, Path(job["out"]), 1, webp)]
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise Refused(IMAGE_TOO_LARGE, str(e)) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as e:
        raise Refused(BAD_FILE, f"the image cannot be decoded: {e}") from None


def run(job: Job) -> Result:
    from PIL import features

    webp = bool(features.check("webp"))
    data = read_input(job["max_bytes"])
    try:
        if job["kind"] == "pdf":
            pages = render_pdf(data, job, webp)
        elif job["kind"] in KINDS:
            pages = convert_image(data, job, webp)
        else:
            raise Refused(BAD_FILE, f"unknown kind {job['kind']!r}")
    except Refused as r:
        return {"ok": False, "code": r.code, "reason": r.reason}
    except MemoryError:
        return {"ok": False, "code": RENDER_FAILED, "reason": "over the memory limit"}
    return {"ok": True, "pages": pages}


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: render_worker.py JOB_JSON  (file bytes on stdin)", file=sys.stderr)
        return 2
    job: Job = json.loads(argv[1])
    set_limits(job)
    result = run(job)
    path = Path(job["result"])
    part = path.with_name(path.name + ".part")
    part.write_text(json.dumps(result), encoding="utf-8")
    os.replace(part, path)  # the parent never reads half a result
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
