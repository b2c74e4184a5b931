"""The greeter: an automated FAQ assistant at the entrance, on the protocol like any client.

    SERVICEPOINT_GREETER_TOKEN=<bot token> python -m agents.greeter --url ws://127.0.0.1:8000/ws

The token (``python -m server token --role bot --name Greeter``) comes in the
environment, never on the command line: a command line is readable by every
local user. ``servicepoint run`` starts this process itself with a fresh token
(``--no-greeter`` to not).

It joins with the ``bot`` role, walks to ``world.greeter`` from the welcome,
and answers each ``greeter_asked``:

- the first message of a conversation: it says that it is an automated
  assistant, in the citizen's language (sv, da, de, ja, en; otherwise en);
- a request for a person ("human", "människa", "Mitarbeiter", "担当者", ...):
  it proposes the handover (``greeter_handoff``, reason ``asked``);
- otherwise it searches the Q&A wall (``qa_search``) and answers only from a
  hit's official answer (first) or accepted answer, linking the topic; a
  topic that needs a case is handed over (``needs_case``), and no answer at
  all offers a person (``no_answer``);
- two answers rated unhelpful: it offers a person (``not_helpful``).

It never claims to be a person; the server marks all it says as automated
and asks the citizen's consent before any ticket is taken.

Only the protocol: agents never import the server.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import logging
import math
import os
import re
import signal
import sys
import unicodedata
from collections.abc import Coroutine, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from agents.client import AgentClient
from agents.navigation import Navigator
from protocol.codec import Message
from protocol.errors import CloseCode

log = logging.getLogger("agents.greeter")

TOKEN_ENV = "SERVICEPOINT_GREETER_TOKEN"
LANGS = ("sv", "da", "de", "ja", "en")
FALLBACK = "en"
EXIT_REPLACED = 3
"""Exit status when a newer greeter took over (``greeter_taken``, or the same bot identity
signed in on another connection: close 4009); a supervisor should not restart it."""
SEARCH_TIMEOUT_S = 5.0
WALK_SPEED = 1.2
MOVE_HZ = 10.0
MAX_TEXT = 1000
MAX_QUERY = 200

# -- what it says ---------------------------------------------------------------------

TEXTS: dict[str, dict[str, str]] = {
    "greeting": {
        "en": "Hello! I am an automated assistant, not a person. I answer from the Q&A wall, "
        "and at any time I can take a queue ticket for you to talk to a person. Just ask.",
        "sv": "Hej! Jag är en automatisk assistent, inte en människa. Jag svarar utifrån "
        "frågeväggen, och när du vill kan jag ta en kölapp åt dig så att du får prata med "
        "en person. Fråga bara.",
        "da": "Hej! Jeg er en automatisk assistent, ikke et menneske. Jeg svarer ud fra "
        "spørgsmålsvæggen, og når som helst kan jeg tage et kønummer til dig, så du kan tale "
        "med en person. Bare spørg.",
        "de": "Hallo! Ich bin ein automatischer Assistent, kein Mensch. Ich antworte aus der "
        "Fragen-Wand, und jederzeit kann ich eine Wartenummer für Sie ziehen, damit Sie mit "
        "einer Person sprechen können. Fragen Sie einfach.",
        "ja": "こんにちは。私は自動アシスタントで、人間ではありません。質問と回答の掲示板から"
        "お答えします。担当者と話したいときは、いつでも整理券をお取りします。お気軽にどうぞ。",
    },
    "welcome_back": {
        "en": "You are welcome. I am an automated assistant: ask me something else, or ask "
        "for a person at any time.",
        "sv": "Varsågod. Jag är en automatisk assistent: fråga mig något annat, eller be om "
        "en person när du vill.",
        "da": "Selv tak. Jeg er en automatisk assistent: spørg mig om noget andet, eller bed "
        "om en person når som helst.",
        "de": "Gern geschehen. Ich bin ein automatischer Assistent: Fragen Sie mich etwas "
        "anderes, oder verlangen Sie jederzeit eine Person.",
        "ja": "どういたしまして。私は自動アシスタントです。ほかにご質問があればどうぞ。"
        "担当者をご希望の場合はいつでもお申し付けください。",
    },
    "official": {
        "en": "The official answer on the Q&A wall (“{title}”): {body}",
        "sv": "Det officiella svaret på frågeväggen (”{title}”): {body}",
        "da": "Det officielle svar på spørgsmålsvæggen (“{title}”): {body}",
        "de": "Die offizielle Antwort auf der Fragen-Wand („{title}“): {body}",
        "ja": "掲示板の公式回答（「{title}」）：{body}",
    },
    "accepted": {
        "en": "An answer on the Q&A wall that the asker accepted (not official; “{title}”): {body}",
        "sv": "Ett svar på frågeväggen som frågeställaren godkände (inte officiellt; "
        "”{title}”): {body}",
        "da": "Et svar på spørgsmålsvæggen, som spørgeren godkendte (ikke officielt; "
        "“{title}”): {body}",
        "de": "Eine Antwort auf der Fragen-Wand, die der Fragende angenommen hat (nicht "
        "offiziell; „{title}“): {body}",
        "ja": "質問者が採用した掲示板の回答（公式ではありません。「{title}」）：{body}",
    },
    "no_answer": {
        "en": "I am an automated assistant and I found no answer to that on the Q&A wall.",
        "sv": "Jag är en automatisk assistent och hittade inget svar på det på frågeväggen.",
        "da": "Jeg er en automatisk assistent og fandt intet svar på det på spørgsmålsvæggen.",
        "de": "Ich bin ein automatischer Assistent und habe dazu keine Antwort auf der "
        "Fragen-Wand gefunden.",
        "ja": "私は自動アシスタントですが、掲示板にその答えは見つかりませんでした。",
    },
    "sorry": {
        "en": "Sorry that did not help. You can put the question another way, or ask for a "
        "person at any time.",
        "sv": "Förlåt att det inte hjälpte. Du kan formulera frågan på ett annat sätt, eller "
        "be om en person när du vill.",
        "da": "Beklager, at det ikke hjalp. Du kan stille spørgsmålet på en anden måde, eller "
        "bede om en person når som helst.",
        "de": "Schade, dass das nicht geholfen hat. Sie können die Frage anders stellen oder "
        "jederzeit nach einer Person fragen.",
        "ja": "お役に立てず申し訳ありません。質問を言い換えていただくか、いつでも担当者を"
        "ご希望ください。",
    },
    "glad": {
        "en": "Good. Ask me anything else; I am an automated assistant and a person is "
        "always available at the desks.",
        "sv": "Bra. Fråga gärna mer; jag är en automatisk assistent och vid diskarna finns "
        "alltid en person.",
        "da": "Godt. Spørg bare om mere; jeg er en automatisk assistent, og ved skrankerne er "
        "der altid en person.",
        "de": "Gut. Fragen Sie gern weiter; ich bin ein automatischer Assistent, und an den "
        "Schaltern ist immer eine Person für Sie da.",
        "ja": "よかったです。ほかにもどうぞ。私は自動アシスタントです。窓口にはいつでも"
        "担当者がいます。",
    },
    "declined": {
        "en": "All right, no ticket. I am still here if you have another question, and you "
        "can ask for a person at any time.",
        "sv": "Okej, ingen kölapp. Jag finns kvar om du har fler frågor, och du kan be om en "
        "person när du vill.",
        "da": "Okay, intet kønummer. Jeg er her stadig, hvis du har flere spørgsmål, og du kan "
        "bede om en person når som helst.",
        "de": "In Ordnung, keine Wartenummer. Ich bin weiter da, wenn Sie noch Fragen haben, "
        "und Sie können jederzeit nach einer Person fragen.",
        "ja": "かしこまりました。整理券はお取りしません。ほかにご質問があればどうぞ。"
        "担当者はいつでもご希望いただけます。",
    },
    "offer_asked": {
        "en": "Of course. I am an automated assistant, so I will hand you over to a person at "
        "{service}. Shall I take a queue ticket for you?",
        "sv": "Självklart. Jag är en automatisk assistent, så jag lämnar över dig till en "
        "person på {service}. Ska jag ta en kölapp åt dig?",
        "da": "Selvfølgelig. Jeg er en automatisk assistent, så jeg giver dig videre til en "
        "person hos {service}. Skal jeg tage et kønummer til dig?",
        "de": "Natürlich. Ich bin ein automatischer Assistent und gebe Sie an eine Person bei "
        "{service} weiter. Soll ich eine Wartenummer für Sie ziehen?",
        "ja": "かしこまりました。私は自動アシスタントですので、{service}の担当者にお繋ぎします。"
        "整理券をお取りしましょうか？",
    },
    "offer_no_answer": {
        "en": "A person at {service} can help with that. Shall I take a queue ticket for you?",
        "sv": "En person på {service} kan hjälpa dig med det. Ska jag ta en kölapp åt dig?",
        "da": "En person hos {service} kan hjælpe dig med det. Skal jeg tage et kønummer til dig?",
        "de": "Eine Person bei {service} kann Ihnen dabei helfen. Soll ich eine Wartenummer "
        "für Sie ziehen?",
        "ja": "{service}の担当者がお手伝いできます。整理券をお取りしましょうか？",
    },
    "offer_needs_case": {
        "en": "This matter needs a case handled by a person at {service}. Shall I take a "
        "queue ticket for you?",
        "sv": "Det här ärendet behöver handläggas av en person på {service}. Ska jag ta en "
        "kölapp åt dig?",
        "da": "Denne sag skal behandles af en person hos {service}. Skal jeg tage et kønummer "
        "til dig?",
        "de": "Dieses Anliegen muss eine Person bei {service} bearbeiten. Soll ich eine "
        "Wartenummer für Sie ziehen?",
        "ja": "この件は{service}の担当者による手続きが必要です。整理券をお取りしましょうか？",
    },
    "offer_not_helpful": {
        "en": "I am sorry my answers did not help; I am only an automated assistant. Shall I "
        "take a queue ticket for you, so a person at {service} can help?",
        "sv": "Förlåt att mina svar inte hjälpte; jag är bara en automatisk assistent. Ska "
        "jag ta en kölapp åt dig, så att en person på {service} kan hjälpa dig?",
        "da": "Beklager, at mine svar ikke hjalp; jeg er kun en automatisk assistent. Skal jeg "
        "tage et kønummer til dig, så en person hos {service} kan hjælpe?",
        "de": "Es tut mir leid, dass meine Antworten nicht geholfen haben; ich bin nur ein "
        "automatischer Assistent. Soll ich eine Wartenummer ziehen, damit Ihnen eine Person "
        "bei {service} hilft?",
        "ja": "お役に立てず申し訳ありません。私は自動アシスタントにすぎません。{service}の"
        "担当者が対応できるよう、整理券をお取りしましょうか？",
    },
}


def base_lang(lang: str) -> str:
    """The language of the texts for ``lang`` (``sv-SE`` -> ``sv``; unknown -> ``en``)."""
    base = lang.split("-")[0].split("_")[0].lower()
    return base if base in LANGS else FALLBACK


def say(key: str, lang: str, **values: str) -> str:
    table = TEXTS[key]
    return table.get(base_lang(lang), table[FALLBACK]).format(**values)[:MAX_TEXT]


# -- understanding a little ---------------------------------------------------------------


def normalise(text: str) -> str:
    """NFKC (full-width to ASCII, half-width kana to full-width), then casefold."""
    return unicodedata.normalize("NFKC", text).casefold()


def words(text: str) -> list[str]:
    return re.findall(r"\w+", normalise(text))


def wordset(text: str) -> frozenset[str]:
    """The space-separated words of ``text``."""
    return frozenset(text.split())


def _phrases(*items: str) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(words(item)) for item in items)


REQUEST_PHRASES = _phrases(
    # en
    "talk to someone",
    "speak to someone",
    "talk with someone",
    "speak with someone",
    "talk to somebody",
    "speak to somebody",
    "real person",
    "live person",
    "live agent",
    "human being",
    "customer service",
    "not a bot",
    "not a robot",
    # sv
    "prata med någon",
    "tala med någon",
    "snacka med någon",
    "riktig person",
    "riktig människa",
    "levande person",
    "någon som jobbar här",
    # da
    "tale med nogen",
    "snakke med nogen",
    "rigtig person",
    "rigtigt menneske",
    "levende person",
    "en der arbejder her",
    # de
    "mit jemandem sprechen",
    "mit jemandem reden",
    "echte person",
    "echten person",
    "echter mensch",
    "echten menschen",
    "echtem menschen",
    "persönlich sprechen",
)
"""Phrases that ask for a person wherever they appear (matched on whole words)."""

PERSON_WORDS: dict[str, frozenset[str]] = {
    "en": wordset(
        "human humans person agent operator representative staff clerk officer caseworker "
        "advisor adviser"
    ),
    "sv": wordset(
        "människa människan människor person personen handläggare handläggaren handläggarna "
        "personalen tjänsteman tjänstemannen medarbetare rådgivare kundtjänst"
    ),
    "da": wordset(
        "menneske mennesket mennesker person personen medarbejder medarbejderen medarbejdere "
        "sagsbehandler sagsbehandleren personale personalet rådgiver kundeservice"
    ),
    "de": wordset(
        "mensch menschen person mitarbeiter mitarbeiterin mitarbeitende mitarbeitenden "
        "sachbearbeiter sachbearbeiterin berater beraterin kundendienst"
    ),
}
"""Words for a person; they ask for one in a short message or next to a request word."""
AMBIGUOUS_WORDS: dict[str, frozenset[str]] = {
    "sv": frozenset({"personal"}),
    "de": frozenset({"personal"}),
}
"""Person words only in the citizen's own language ("personal data" is not staff in English)."""
REQUEST_WORDS = wordset(
    # en
    "talk speak want need connect transfer get give let please contact reach put there "
    # sv
    "prata tala snacka vill behöver få koppla snälla kontakta träffa önskar finns "
    # da
    "tale snakke vil gerne brug forbinde stille venligst kontakte møde "
    # de
    "sprechen reden möchte möchten will wollen brauche benötige bitte verbinden "
    "kontaktieren hätte"
)
NEAR = 3
"""A person word and a request word at most this many words apart ask for a person."""
SHORT = 4
"""A message of at most this many words with a person word in it asks for one ("human!")."""

JA_PHRASES = (
    "人と話",
    "人間と話",
    "担当者と話",
    "担当の方",
    "係の人",
    "係員",
    "窓口の人",
    "スタッフと話",
    "職員と話",
    "オペレーターと",
    "有人対応",
    "人に代わ",
    "人につな",
    "人に繋",
)
"""Japanese has no spaces: substrings (after NFKC) that ask for a person anywhere."""
JA_WORDS = ("人間", "担当者", "オペレーター", "スタッフ", "職員", "有人")
JA_REQUEST = ("話", "代わ", "かわって", "つな", "繋", "お願い", "呼", "したい", "たい", "ください")
JA_SHORT = 6
"""A Japanese message of at most this many characters with a person word asks for one."""
_JA_PUNCT = re.compile(r"[\s\W]+")

GREETINGS = frozenset(
    [
        *wordset("hi hello hey hej hejsan hallå tjena goddag hallo moin servus"),
        "good morning",
        "god morgon",
        "god dag",
        "guten tag",
        "guten morgen",
        "grüß gott",
        "こんにちは",
        "こんばんは",
        "おはよう",
        "おはようございます",
        "はじめまして",
    ]
)
THANKS = frozenset(
    [
        *wordset("thanks thx tack tak danke ありがとう"),
        "thank you",
        "thank you very much",
        "tack så mycket",
        "tusen tack",
        "mange tak",
        "tusind tak",
        "vielen dank",
        "danke schön",
        "danke sehr",
        "ありがとうございます",
        "どうもありがとう",
    ]
)


def _contains(seq: Sequence[str], phrase: Sequence[str]) -> bool:
    n = len(phrase)
    return n > 0 and any(tuple(seq[i : i + n]) == tuple(phrase) for i in range(len(seq) - n + 1))


def wants_person(text: str, lang: str = "en") -> bool:
    """Does ``text`` ask for a person (in any of the five languages)?

    Whole words (casefolded, NFKC): a request phrase anywhere ("prata med någon"),
    or a person word ("människa", "Mitarbeiter") in a short message or within
    ``NEAR`` words of a request word ("Ich möchte einen Mitarbeiter sprechen").
    Japanese by substring. "Welche Leistungen gibt es für Menschen mit
    Behinderung?" is a question, not a request.
    """
    norm = normalise(text)
    if any(p in norm for p in JA_PHRASES):
        return True
    compact = _JA_PUNCT.sub("", norm)
    if any(w in norm for w in JA_WORDS) and (
        len(compact) <= JA_SHORT or any(c in norm for c in JA_REQUEST)
    ):
        return True
    toks = words(text)
    if any(_contains(toks, phrase) for phrase in REQUEST_PHRASES):
        return True
    person_words = frozenset().union(*PERSON_WORDS.values()) | AMBIGUOUS_WORDS.get(
        base_lang(lang), frozenset()
    )
    persons = [i for i, t in enumerate(toks) if t in person_words]
    if not persons:
        return False
    if len(toks) <= SHORT:
        return True
    requests = [i for i, t in enumerate(toks) if t in REQUEST_WORDS]
    return any(abs(p - r) <= NEAR for p in persons for r in requests)


def _only(text: str, table: frozenset[str]) -> bool:
    norm = normalise(text)
    return " ".join(words(norm)) in table or _JA_PUNCT.sub("", norm) in table


def is_greeting(text: str) -> bool:
    """Only a hello ("Hej!", "Guten Tag", "こんにちは")."""
    return _only(text, GREETINGS)


def is_thanks(text: str) -> bool:
    return _only(text, THANKS)


_PLACEHOLDER = re.compile(r"\[[^\[\]]{1,40}\]")


def query_of(text: str) -> str:
    """What to search for: the text without the server's redaction placeholders."""
    return " ".join(_PLACEHOLDER.sub(" ", text).split())[:MAX_QUERY]


STOP_WORDS = wordset(
    # en
    "the and for you your are how what where when who why which can could does did have "
    "has with from this that there about into want need please get got one some any way "
    # sv
    "hur vad var när vem varför kan jag mig min mitt mina det den och att för med som har "
    "ska vill behöver till från inte eller ett man sig dig oss ni gör göra "
    # da
    "hvordan hvad hvor hvornår hvem hvorfor jeg mig min mit mine det den og at for med som "
    "har skal vil til fra ikke eller gør gøre kan man sig dig jer "
    # de
    "wie was wo wann wer warum welche welcher ich mich mir mein meine meinen meinem meiner "
    "der die das dem den des und für mit von nach ist sind kann muss will bei nicht oder "
    "eine einen einem einer sie wir ihr ihre man"
)
PREFIX = 5
"""Words match on their first letters (a cheap stand-in for stemming and typos)."""
RELEVANT = 0.6
"""The share of the question's words a hit must contain to be answered from."""
_CJK_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u30a0-\u30ff]+")
_HIRAGANA = re.compile(r"[\u3040-\u309f]")


def keys(text: str) -> set[str]:
    """The words of ``text`` that carry meaning: word prefixes, and for Japanese the
    bigrams of each kanji/katakana run (particles and okurigana left out)."""
    norm = normalise(text)
    found: set[str] = set()
    for run in _CJK_RUN.findall(norm):
        found |= {run[i : i + 2] for i in range(len(run) - 1)} if len(run) > 1 else {run}
    for word in re.findall(r"\w+", _CJK_RUN.sub(" ", norm)):
        if (
            len(word) >= 3
            and not word.isdigit()
            and word not in STOP_WORDS
            and not _HIRAGANA.search(word)  # what is left of Japanese: particles, okurigana
        ):
            found.add(word[:PREFIX])
    return found


def relevant(question: str, hit: dict[str, Any]) -> bool:
    """Does ``hit`` (its title, body and answer) contain enough of the question's words?

    The search widens a query until something matches; the greeter answers only
    when the topic is really about what was asked.
    """
    wanted = keys(question)
    if not wanted:
        return False
    answer = hit.get("answer")
    if not isinstance(answer, dict):
        answer = {}
    text = " ".join(str(v) for v in (hit.get("title"), hit.get("body"), answer.get("body")) if v)
    have = keys(text)
    return len(wanted & have) >= max(1, math.ceil(RELEVANT * len(wanted)))


def best_answer(
    hits: Iterable[dict[str, Any]], question: str | None = None
) -> dict[str, Any] | None:
    """The first hit with an official answer, else the first with an accepted one (of the
    hits `relevant` to ``question``, when given)."""
    usable = [
        h
        for h in hits
        if isinstance(h.get("answer"), dict)
        and h["answer"].get("body")
        and not h.get("hidden")
        and not h.get("pending")
        and (question is None or relevant(question, h))
    ]
    for wanted in ("official", "accepted"):
        for hit in usable:
            if hit["answer"].get(wanted):
                return hit
    return None


# -- the bot -------------------------------------------------------------------------------


@dataclass
class Conv:
    lang: str
    service: str | None = None
    """The service of the last topic it answered from (where a handover goes)."""
    offered_at: int = 0
    """How many unhelpful ratings there were when it last offered a person."""


class GreeterBot:
    def __init__(self, client: AgentClient, default_service: str = "general") -> None:
        self.client = client
        self.default_service = default_service
        self.convs: dict[int, Conv] = {}
        self.searches: dict[int, asyncio.Future[list[dict[str, Any]] | None]] = {}
        self._refs = itertools.count(1)
        self._locks: dict[int, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.stopping = asyncio.Event()
        self.replaced = False
        self.services: dict[str, dict[str, str]] = {}

    # -- running -------------------------------------------------------------

    async def run(self) -> int:
        """Serve until stopped (0), replaced by a newer greeter (3) or disconnected (1)."""
        c = self.client
        if c.ws is None:
            await c.connect()
        assert c.welcome is not None
        world = c.welcome.get("world", {})
        self.services = {
            s["id"]: dict(s.get("name") or {}) for s in world.get("services", []) if "id" in s
        }
        walk = asyncio.create_task(self._walk(world), name="greeter walk")
        try:
            while not self.stopping.is_set():
                batch = await self._next_batch()
                if batch is None:
                    if self.stopping.is_set():
                        return 0
                    return EXIT_REPLACED if self._closed_code() == CloseCode.REPLACED else 1
                for msg in batch:
                    self._dispatch(msg)
                if self.replaced:
                    return EXIT_REPLACED
            return 0
        finally:
            walk.cancel()
            for task in [walk, *self._tasks]:
                task.cancel()
            await asyncio.gather(walk, *self._tasks, return_exceptions=True)

    def _closed_code(self) -> int | None:
        closed = self.client.closed
        return closed.result()[0] if closed is not None and closed.done() else None

    async def _next_batch(self) -> list[Message] | None:
        """The messages received since the last batch; None once closed or stopping."""
        c = self.client
        if not c.messages and c.closed is not None and c.closed.done():
            return None
        waiting = asyncio.ensure_future(c.wait_for(lambda: bool(c.messages), timeout=3600))
        stop = asyncio.ensure_future(self.stopping.wait())
        try:
            await asyncio.wait({waiting, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for f in (waiting, stop):
                f.cancel()
            await asyncio.gather(waiting, stop, return_exceptions=True)
        if c.messages:
            batch, c.messages[:] = list(c.messages), []
            return batch
        if c.closed is not None and c.closed.done():
            return None
        return [] if not self.stopping.is_set() else None

    async def _walk(self, world: dict[str, Any]) -> None:
        """Walk from the spawn point to the greeter's spot at the entrance."""
        spot = world.get("greeter")
        if not spot:
            return
        c = self.client
        gx, gz = (float(v) for v in spot["position"])
        nav = Navigator(world)
        x, z = c.x, c.z
        for wx, wz in nav.route(x, z, gx, gz):
            while True:
                dx, dz = wx - x, wz - z
                d = math.hypot(dx, dz)
                if d < 0.05:
                    break
                step = min(d, WALK_SPEED / MOVE_HZ)
                x, z = x + dx / d * step, z + dz / d * step
                await c.move(x, z, math.atan2(-dx, -dz))
                await asyncio.sleep(1 / MOVE_HZ)
        await c.move(gx, gz, float(spot.get("yaw", 0.0)))

    def _dispatch(self, msg: Message) -> None:
        t = msg["t"]
        if t == "qa_results":
            future = self.searches.pop(int(msg.get("ref", -1)), None)
            if future is not None and not future.done():
                future.set_result(list(msg.get("hits", [])))
        elif t == "greeter_asked":
            self._spawn(msg["conv"], self.on_asked(msg))
        elif t == "greeter_rated":
            self._spawn(msg["conv"], self.on_rated(msg))
        elif t == "greeter_outcome":
            self._spawn(msg["conv"], self.on_outcome(msg))
        elif t == "error":
            self._on_error(msg)

    def _on_error(self, msg: Message) -> None:
        if msg.get("code") == "greeter_taken":
            log.warning("a newer greeter took over; this one stops")
            self.replaced = True
        elif msg.get("ref") == "qa_search":
            # The search refused (bad query, or no Q&A wall): the oldest search gets nothing.
            for ref in sorted(self.searches):
                future = self.searches.pop(ref)
                if not future.done():
                    future.set_result(None)
                break
        else:
            log.info("refused %s: %s %s", msg.get("ref"), msg.get("code"), msg.get("msg"))

    def _spawn(self, conv: int, coro: Coroutine[Any, Any, None]) -> None:
        """Handle a conversation's messages one at a time, in order; others in parallel."""
        lock = self._locks.setdefault(conv, asyncio.Lock())

        async def run() -> None:
            async with lock:
                try:
                    await coro
                except (ConnectionError, OSError):
                    raise
                except Exception:
                    log.exception("greeter failed on conversation %d", conv)

        task = asyncio.create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- conversations ------------------------------------------------------------

    async def reply(
        self,
        conv: int,
        kind: str,
        text: str,
        topic: int | None = None,
        official: bool | None = None,
    ) -> None:
        msg: dict[str, Any] = {"t": "greeter_reply", "conv": conv, "kind": kind, "text": text}
        if topic is not None:
            msg["topic"] = topic
        if official is not None:
            msg["official"] = official
        await self.client.send(msg)

    async def handoff(self, conv: int, state: Conv, reason: str, key: str) -> None:
        service = state.service or self.default_service
        text = say(key, state.lang, service=self._service_name(service, state.lang))
        await self.client.send(
            {
                "t": "greeter_handoff",
                "conv": conv,
                "reason": reason,
                "service": service,
                "text": text,
            }
        )

    def _service_name(self, service: str, lang: str) -> str:
        names = self.services.get(service, {})
        return names.get(base_lang(lang)) or names.get(FALLBACK) or service

    async def on_asked(self, msg: Message) -> None:
        conv_id: int = msg["conv"]
        lang = base_lang(msg["lang"])
        state = self.convs.setdefault(conv_id, Conv(lang))
        state.lang = lang
        text: str = msg["text"]
        if msg["new"]:
            await self.reply(conv_id, "greeting", say("greeting", lang))
            if is_greeting(text):
                return
        if wants_person(text, lang):
            await self.handoff(conv_id, state, "asked", "offer_asked")
            return
        if is_thanks(text):
            await self.reply(conv_id, "greeting", say("welcome_back", lang))
            return
        if is_greeting(text):
            await self.reply(conv_id, "greeting", say("greeting", lang))
            return
        query = query_of(text)
        hits = [h for h in await self.search(query, lang) or [] if relevant(query, h)]
        hit = best_answer(hits)
        if hit is not None:
            answer = hit["answer"]
            topic = int(hit.get("topic") or hit["id"])
            official = bool(answer.get("official"))
            body = say(
                "official" if official else "accepted",
                lang,
                title=str(hit.get("title", "")),
                body=str(answer["body"]),
            )
            await self.reply(conv_id, "answer", body, topic=topic, official=official)
            state.service = hit.get("service") or answer.get("service") or state.service
            if hit.get("needs_case"):
                await self.handoff(conv_id, state, "needs_case", "offer_needs_case")
            return
        case = next((h for h in hits if h.get("needs_case")), None)
        if case is not None:
            state.service = case.get("service") or state.service
            await self.handoff(conv_id, state, "needs_case", "offer_needs_case")
            return
        await self.reply(conv_id, "no_answer", say("no_answer", lang))
        await self.handoff(conv_id, state, "no_answer", "offer_no_answer")

    async def on_rated(self, msg: Message) -> None:
        conv_id: int = msg["conv"]
        state = self.convs.setdefault(conv_id, Conv(FALLBACK))
        if msg["helpful"]:
            await self.reply(conv_id, "greeting", say("glad", state.lang))
            return
        unhelpful = int(msg["unhelpful"])
        if unhelpful >= 2 and unhelpful - state.offered_at >= 2:
            state.offered_at = unhelpful
            await self.handoff(conv_id, state, "not_helpful", "offer_not_helpful")
        else:
            await self.reply(conv_id, "no_answer", say("sorry", state.lang))

    async def on_outcome(self, msg: Message) -> None:
        conv_id: int = msg["conv"]
        if msg["handed_over"]:
            self.convs.pop(conv_id, None)
            self._locks.pop(conv_id, None)
            return
        state = self.convs.get(conv_id)
        if state is not None:
            await self.reply(conv_id, "declined", say("declined", state.lang))

    async def search(self, q: str, lang: str) -> list[dict[str, Any]] | None:
        """Hits for ``q`` on the Q&A wall, best first; None if the search failed."""
        if not any(ch.isalnum() for ch in q):
            return []
        ref = next(self._refs) % 2**31
        future: asyncio.Future[list[dict[str, Any]] | None] = (
            asyncio.get_running_loop().create_future()
        )
        self.searches[ref] = future
        await self.client.send({"t": "qa_search", "q": q, "lang": lang, "ref": ref, "limit": 5})
        try:
            return await asyncio.wait_for(future, SEARCH_TIMEOUT_S)
        except TimeoutError:
            log.warning("the Q&A search did not answer in time")
            return None
        finally:
            self.searches.pop(ref, None)


# -- the command ---------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="agents.greeter", description=__doc__.splitlines()[0])
    p.add_argument("--url", default="ws://127.0.0.1:8000/ws", help="the server's WebSocket URL")
    p.add_argument("--name", default="Greeter", help="display name (the token's wins)")
    p.add_argument(
        "--service", default="general", help="where handovers go when no topic names one"
    )
    p.add_argument("--log-level", default="INFO")
    return p


async def _main(args: argparse.Namespace, token: str) -> int:
    client = AgentClient(args.url, name=args.name, token=token)
    bot = GreeterBot(client, default_service=args.service)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, bot.stopping.set)
    try:
        await client.connect()
    except (OSError, ConnectionError) as exc:
        log.error("cannot connect to %s: %s", args.url, exc)
        return 1
    log.info("greeter joined as %s", client.name)
    try:
        return await bot.run()
    finally:
        with contextlib.suppress(Exception):
            await client.send({"t": "bye", "reason": "the greeter stops"})
        await client.close()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    token = os.environ.get(TOKEN_ENV, "")
    if not token:
        print(f"agents.greeter: set {TOKEN_ENV} to a bot role token", file=sys.stderr)
        return 2
    return asyncio.run(_main(args, token))


if __name__ == "__main__":
    sys.exit(main())
