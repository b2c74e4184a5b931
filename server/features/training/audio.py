"""The simulated citizens' voice clips: stored with a scenario, or synthesised with espeak-ng.

Clips live under the audio directory as ``<scenario>/<node>.<lang>.wav`` (the
name sent to the agent in ``training_say``). Synthesised audio is cached by a
hash of the synthesiser, its voice and the text (``cache/<hash>.wav``), so a
restart regenerates nothing and an edited line gets a new clip.

espeak-ng voices: sv, da, de, ja and en all exist in Debian's espeak-ng 1.51.
Its Japanese voice reads kana but names kanji ("Chinese letter"), so the
scenarios give a kana reading of each Japanese line in ``speech.ja``. Without
espeak-ng (``shutil.which`` finds none) voice is skipped with one warning and
the scenarios run in text.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import shutil
from pathlib import Path

from server.features.training.scenarios import LANGS, Scenario

VOICES = {"sv": "sv", "da": "da", "de": "de", "ja": "ja", "en": "en-gb"}
"""The espeak-ng voice for each scenario language."""
assert set(VOICES) == set(LANGS)


def clip_name(scenario: str, node: str, lang: str) -> str:
    return f"{scenario}/{node}.{lang}.wav"


class Clips:
    def __init__(self, audio_dir: Path, espeak: str, log: logging.Logger) -> None:
        self.dir = audio_dir
        self.log = log
        self.espeak = shutil.which(espeak)
        self._version: str | None = None
        self._pending: dict[str, asyncio.Future[str | None]] = {}
        self._limit = asyncio.Semaphore(2)
        self._closed = False
        if self.espeak is None:
            log.warning("%s is not installed: training runs in text only, without voice", espeak)

    async def _synth_version(self) -> str:
        if self._version is None:
            assert self.espeak is not None
            proc = await asyncio.create_subprocess_exec(
                self.espeak,
                "--version",
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.DEVNULL,
            )
            out, _ = await proc.communicate()
            self._version = out.decode("utf-8", "replace").strip()
        return self._version

    async def ensure(self, scenario: Scenario, node_id: str, lang: str) -> str | None:
        """The clip's name under the audio dir, made if needed; None when there is no voice."""
        name = clip_name(scenario.id, node_id, lang)
        if self._closed:
            return None
        running = self._pending.get(name)
        if running is None or (running.done() and running.result() is None):
            running = asyncio.ensure_future(self._make(scenario, node_id, lang, name))
            self._pending[name] = running
        return await asyncio.shield(running)

    async def close(self) -> None:
        """Stop making clips (the server is stopping): cancel and await what is running."""
        self._closed = True
        running = [f for f in self._pending.values() if not f.done()]
        for future in running:
            future.cancel()
        await asyncio.gather(*running, return_exceptions=True)

    async def ensure_all(self, scenario: Scenario, lang: str) -> None:
        await asyncio.gather(*(self.ensure(scenario, n, lang) for n in scenario.nodes))

    async def pregenerate(self, scenarios: list[Scenario]) -> None:
        for scenario in scenarios:
            for lang in LANGS:
                await self.ensure_all(scenario, lang)

    async def _make(self, scenario: Scenario, node_id: str, lang: str, name: str) -> str | None:
        node = scenario.node(node_id)
        target = self.dir / name
        stored = node.clips.get(lang)
        if stored is not None:
            source = stored
        else:
            if self.espeak is None:
                return None
            text = node.speech_text(lang)
            key = "\0".join((await self._synth_version(), VOICES[lang], text))
            source = self.dir / "cache" / (hashlib.sha256(key.encode()).hexdigest() + ".wav")
            if not source.is_file() and not await self._synthesise(VOICES[lang], text, source):
                return None
        await asyncio.to_thread(_place, source, target)
        return name

    async def _synthesise(self, voice: str, text: str, out: Path) -> bool:
        assert self.espeak is not None
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = out.with_suffix(f".{os.getpid()}.part")
        async with self._limit:
            proc = await asyncio.create_subprocess_exec(
                self.espeak,
                "-v",
                voice,
                "-w",
                str(partial),
                "--stdin",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )
            try:
                await proc.communicate(text.encode("utf-8"))
            finally:
                if proc.returncode is None:
                    with contextlib.suppress(ProcessLookupError):
                        proc.kill()
                    await proc.wait()
        if proc.returncode != 0 or not partial.is_file():
            self.log.warning("espeak-ng failed (voice %s, status %s)", voice, proc.returncode)
            partial.unlink(missing_ok=True)
            return False
        partial.replace(out)
        return True


def _place(source: Path, target: Path) -> None:
    """Put ``source`` at ``target`` (a hard link, or a copy), replacing what was there."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        if target.samefile(source):
            return
    partial = target.with_suffix(f".{os.getpid()}.part")
    partial.unlink(missing_ok=True)
    try:
        os.link(source, partial)
    except OSError:
        shutil.copyfile(source, partial)
    partial.replace(target)
