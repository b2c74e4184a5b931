"""`Training`: practice desks where a staff member runs a scenario with a simulated citizen.

``training_start`` reserves the practice desk, puts the staff member behind it
and starts the simulated citizen: an agent process on the protocol
(``python -m agents.training.citizen``) given a one-time session secret. The
agent joins as a citizen and claims the run with ``training_join``; it is
placed in front of the desk, a voice room opens for the two of them, and both
get a ``call`` (the desk-call message: clients connect voice with
``rtc_offer`` as in a desk call). Each line of the scenario goes to the staff
member as ``training_line`` (text and choices) and to the agent as
``training_say`` (the clip to play). On an end node the staff member gets
``training_debrief`` and the run is appended to the shared stream
``completed`` (``{type: completed, staff, scenario, score, ts}``) for the
scorecard; the agent says its last line and leaves.

The agent process is killed when the run is stopped, when either side leaves,
when it does not join in time, and when the server stops: it never outlives
its run.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from protocol.codec import Message
from protocol.errors import ProtocolError
from protocol.messages import training as wire
from server.features.training.audio import Clips
from server.features.training.scenarios import LANGS, Scenario, load_scenarios
from server.features.training.settings import TrainingSettings
from server.plug import Feature, FeatureContext, Handler, Person, Sender
from server.tasks import Timer
from server.world import PracticeDesk

E = wire.TrainingError
STREAM = "completed"
SERVED_OFFSET_M = 2.0
"""The simulated citizen stands this far in front of the practice desk (as at a desk)."""
ROOT = Path(__file__).resolve().parents[3]
# The environment variable agents/training/citizen.py reads its one-time secret from.
SESSION_ENV = "SERVICEPOINT_TRAINING_SESSION"
"""The project root: the agent process runs from here (``-m agents.training.citizen``)."""


@dataclass
class Run:
    staff: Person
    desk: PracticeDesk
    scenario: Scenario
    lang: str
    ui: str
    secret: str
    room: str
    node: str
    proc: asyncio.subprocess.Process | None = None
    citizen: Person | None = None
    earned: dict[str, int] = field(default_factory=dict)
    finished: bool = False
    timer: Timer | None = None
    away: Timer | None = None
    """Set while the staff member's connection is gone but may resume."""


class Training(Feature):
    name = "training"
    personal_data = ()  # staff practice records (the employer's, not citizens' data)
    protocol = wire.PROTOCOL
    Settings = TrainingSettings
    shares = (STREAM,)

    def __init__(self, ctx: FeatureContext) -> None:
        super().__init__(ctx)
        self.settings: TrainingSettings = ctx.settings
        self.scenarios: dict[str, Scenario] = {}
        self.runs: dict[str, Run] = {}  # by staff subject
        self._seq = 0
        audio_dir = self.settings.audio_dir or ((ctx.data_dir or Path(".")) / "training" / "audio")
        self.audio_dir = audio_dir.resolve()
        self.clips: Clips | None = None
        m = ctx.metrics
        self._started = m.counter("runs", "Training runs, by how they ended.", ("result",))

    def handlers(self) -> Mapping[str, Handler]:
        return {
            "training_start": self.on_start,
            "training_choice": self.on_choice,
            "training_repeat": self.on_repeat,
            "training_stop": self.on_stop,
            "training_join": self.on_join,
        }

    # -- lifecycle -----------------------------------------------------------

    async def start(self) -> None:
        self.scenarios = load_scenarios(self.settings.scenarios_dir())
        self.clips = Clips(self.audio_dir, self.settings.espeak, self.ctx.log)
        if self.settings.pregenerate and self.clips.espeak is not None:
            self.ctx.tasks.spawn(
                self.clips.pregenerate(list(self.scenarios.values())), name="training audio"
            )

    async def stop(self) -> None:
        for run in list(self.runs.values()):
            await self._end(run, None)
        if self.clips is not None:
            await self.clips.close()

    async def entered(self, person: Person, resumed: bool) -> None:
        if person.role in wire.STAFF_ROLES:
            self.ctx.notify.to(
                person.id,
                {
                    "t": "training_scenarios",
                    "scenarios": [s.wire() for s in self.scenarios.values()],
                    "desks": [d.id for d in self.ctx.world.practice_desks],
                },
            )
            run = self.runs.get(person.subject)
            if run is not None and run.away is not None:
                await self._resume(run, person)

    async def left(self, person: Person, for_good: bool) -> None:
        own = self.runs.get(person.subject)
        if own is not None and own.staff.id == person.id:
            if for_good or own.finished:
                await self._end(own, None)
            else:
                # They may come back (resume): the run waits as long as the resume window.
                own.away = self.ctx.tasks.later(
                    self.ctx.resume_s,
                    lambda: self.ctx.tasks.spawn(self._end(own, None), name="training away"),
                )
            return
        for run in list(self.runs.values()):
            if run.citizen is not None and run.citizen.id == person.id:
                await self._end(run, None if run.finished else "The citizen left.")

    # -- handlers --------------------------------------------------------------

    async def on_start(self, sender: Sender, msg: Message) -> None:
        who = sender.person
        scenario = self.scenarios.get(msg["scenario"])
        lang = msg["lang"]
        ui = msg.get("ui") or lang
        if scenario is None or lang not in LANGS or ui not in LANGS:
            raise ProtocolError(
                E.UNKNOWN_SCENARIO,
                f"There is no scenario {msg['scenario']!r} in {lang!r}; "
                f"scenarios: {', '.join(sorted(self.scenarios))}; languages: {', '.join(LANGS)}.",
            )
        desk = self.ctx.world.practice_desk(msg["desk"])
        if desk is None:
            raise ProtocolError(
                E.UNKNOWN_PRACTICE_DESK, f"There is no practice desk {msg['desk']!r}."
            )
        current = self.runs.get(who.subject)
        if current is not None:
            if not current.finished:
                raise ProtocolError(E.ALREADY_TRAINING, "Stop your current scenario first.")
            await self._end(current, None)
        for other in self.runs.values():
            if other.desk.id == desk.id:
                raise ProtocolError(
                    E.PRACTICE_DESK_TAKEN, f"{other.staff.name} is training at {desk.id}."
                )
        self._seq += 1
        run = Run(
            who,
            desk,
            scenario,
            lang,
            ui,
            secrets.token_urlsafe(24),
            f"training:{desk.id}:{self._seq}",
            scenario.start,
        )
        self.runs[who.subject] = run
        self.ctx.place(who.id, desk.position[0], desk.position[1], desk.yaw)
        try:
            if self.clips is not None:
                await self.clips.ensure_all(scenario, lang)
            run.proc = await self._spawn(run)
        except (OSError, RuntimeError) as exc:
            self.ctx.log.warning("could not start a simulated citizen: %s", exc)
            self.runs.pop(who.subject, None)
            raise ProtocolError(
                E.TRAINING_UNAVAILABLE, "The simulated citizen could not be started."
            ) from exc
        if self.runs.get(who.subject) is not run:  # stopped while starting
            await self._kill(run)
            return
        await self._trail(run, "start", {"desk": desk.id, "lang": lang})
        run.timer = self.ctx.tasks.later(
            self.settings.join_timeout_s,
            lambda: self.ctx.tasks.spawn(self._join_timeout(run), name="training join timeout"),
        )
        self.ctx.tasks.spawn(self._watch(run), name="training citizen")

    async def on_join(self, sender: Sender, msg: Message) -> None:
        run = next(
            (
                r
                for r in self.runs.values()
                if r.citizen is None and secrets.compare_digest(r.secret, msg["session"])
            ),
            None,
        )
        if run is None:
            raise ProtocolError(
                E.BAD_SESSION, "No simulated citizen is expected with that session."
            )
        self._cancel_timer(run)
        citizen = sender.person
        run.citizen = citizen
        x, z = run.desk.position
        # In front of the desk, facing it (as a citizen served at a desk).
        self.ctx.place(citizen.id, x, z + SERVED_OFFSET_M, 0.0)
        voice = self.ctx.voice
        if voice is not None:
            await voice.open_room(run.room, [run.staff.id, citizen.id])
            self._send_call(run, active=True)
        await self._say(run)

    async def on_choice(self, sender: Sender, msg: Message) -> None:
        run = self._require_run(sender.person)
        node = run.scenario.node(run.node)
        choice = node.choice(msg["choice"])
        if choice is None:
            raise ProtocolError(
                E.BAD_CHOICE,
                f"Choose one of {', '.join(c.id for c in node.choices)}.",
            )
        for criterion, points in choice.points.items():
            run.earned[criterion] = run.earned.get(criterion, 0) + points
        run.node = choice.next
        await self._say(run)

    async def on_repeat(self, sender: Sender, msg: Message) -> None:
        run = self._require_run(sender.person)
        await self._say(run, repeat=True)

    async def on_stop(self, sender: Sender, msg: Message) -> None:
        run = self.runs.get(sender.person.subject)
        if run is None:
            raise ProtocolError(E.NOT_TRAINING, "You are not running a scenario.")
        await self._end(run, None if run.finished else "Stopped.")

    # -- the run -----------------------------------------------------------------

    def _require_run(self, who: Person) -> Run:
        run = self.runs.get(who.subject)
        if run is None or run.finished or run.citizen is None:
            raise ProtocolError(E.NOT_TRAINING, "You are not in a scenario waiting for a choice.")
        return run

    async def _say(self, run: Run, repeat: bool = False) -> None:
        node = run.scenario.node(run.node)
        clip = None
        if self.clips is not None:
            clip = await self.clips.ensure(run.scenario, node.id, run.lang)
        if run.citizen is not None:
            say: dict[str, Any] = {
                "t": "training_say",
                "node": node.id,
                "text": node.line[run.lang],
                "end": node.end,
            }
            if clip is not None:
                say["clip"] = clip
            self.ctx.notify.to(run.citizen.id, say)
        if repeat:
            return
        self.ctx.notify.to(run.staff.id, self._line(run))
        if node.end:
            await self._complete(run)

    async def _complete(self, run: Run) -> None:
        run.finished = True
        score, rows = run.scenario.score(run.earned)
        ts = self.ctx.clock.time()
        await self.ctx.store.append(
            STREAM,
            {
                "type": "completed",
                "staff": run.staff.subject,
                "scenario": run.scenario.id,
                "score": f"{score:.4f}",
                "ts": repr(ts),
            },
        )
        self._started.labels("completed").inc()
        self.ctx.notify.to(
            run.staff.id,
            {
                "t": "training_debrief",
                "scenario": run.scenario.id,
                "score": round(score, 4),
                "rubric": [
                    {"criterion": c.id, "name": c.name[run.ui], "points": p, "max": c.max}
                    for c, p in rows
                ],
            },
        )
        # The citizen says its last line and leaves; if it lingers, it is stopped.
        self._cancel_timer(run)
        run.timer = self.ctx.tasks.later(
            self.settings.linger_s,
            lambda: self.ctx.tasks.spawn(self._end(run, None), name="training linger"),
        )

    async def _trail(self, run: Run, action: str, detail: dict[str, str]) -> None:
        """A run in the audit trail: the staff member, the scenario; never the choices."""
        if self.ctx.audit is not None:
            who = run.staff
            await self.ctx.audit.record(
                who.subject, who.role, "training." + action, run.scenario.id, detail
            )

    async def _join_timeout(self, run: Run) -> None:
        if self.runs.get(run.staff.subject) is run and run.citizen is None:
            await self._end(run, "The simulated citizen did not arrive.")

    async def _watch(self, run: Run) -> None:
        """When the agent process exits, the run is over."""
        if run.proc is None:
            return
        await run.proc.wait()
        if self.runs.get(run.staff.subject) is run:
            await self._end(run, None if run.finished else "The simulated citizen left.")

    async def _end(self, run: Run, reason: str | None) -> None:
        """Forget the run, close its voice room, stop its agent; ``reason``: tell the staff."""
        if self.runs.get(run.staff.subject) is not run:
            return
        del self.runs[run.staff.subject]
        self._cancel_timer(run)
        if run.away is not None:
            run.away.cancel()
            run.away = None
        if reason is not None:
            self._started.labels("stopped").inc()
            self.ctx.notify.to(
                run.staff.id,
                {"t": "training_ended", "scenario": run.scenario.id, "reason": reason},
            )
        if run.citizen is not None and self.ctx.voice is not None:
            await self.ctx.voice.close_room(run.room)
            self._send_call(run, active=False)
        await self._kill(run)
        await self._trail(run, "end", {"completed": "yes" if run.finished else "no"})

    async def _resume(self, run: Run, person: Person) -> None:
        """The staff member is back: the run goes on where it was (the line, the call)."""
        if run.away is not None:
            run.away.cancel()
            run.away = None
        run.staff = person
        if run.citizen is not None:
            self._send_call(run, active=True)  # their client offers voice again
        self.ctx.notify.to(person.id, self._line(run))

    @staticmethod
    def _line(run: Run) -> dict[str, Any]:
        """The current line for the staff member: what the citizen says, and the choices."""
        node = run.scenario.node(run.node)
        return {
            "t": "training_line",
            "scenario": run.scenario.id,
            "node": node.id,
            "text": node.line[run.lang],
            "choices": [{"id": c.id, "text": c.text[run.ui]} for c in node.choices],
        }

    def _cancel_timer(self, run: Run) -> None:
        if run.timer is not None:
            run.timer.cancel()
            run.timer = None

    def _send_call(self, run: Run, active: bool) -> None:
        members = [run.staff] + ([run.citizen] if run.citizen is not None else [])
        msg = {
            "t": "call",
            "room": run.room,
            "desk": run.desk.id,
            "members": [m.public() for m in members],
            "active": active,
        }
        self.ctx.notify.to_many([m.id for m in members], msg)

    # -- the agent process ---------------------------------------------------------

    async def _spawn(self, run: Run) -> asyncio.subprocess.Process:
        if self.ctx.server_url is None:
            raise RuntimeError("the server's URL is not known")
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "agents.training.citizen",
            "--url",
            self.ctx.server_url(),
            "--scenario",
            run.scenario.id,
            "--lang",
            run.lang,
            "--audio-dir",
            str(self.audio_dir),
            cwd=str(ROOT),
            # The secret goes in the environment: a command line is readable by
            # every local user, and a secret starting with "-" reads as an option.
            env={**os.environ, SESSION_ENV: run.secret},
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
        )

    async def _kill(self, run: Run) -> None:
        proc = run.proc
        if proc is None or proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), 3.0)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
