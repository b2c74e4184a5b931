"""Search as you type over the Q&A topics: SQLite FTS5 with our analyzer in front.

The index is derived: the store keeps the record, `SearchIndex` can always be
rebuilt from it (``clear`` + ``upsert_many`` + ``set_generation``), and the
feature compares ``generation`` with its own marker on start.

Why FTS5 (stdlib ``sqlite3``), and what we put in front of it (measured with
``python -m bench.search``): FTS5's own tokenizers cannot stem, find nothing
inside unspaced Japanese, and rank by bm25 only; tantivy-py ships no Japanese
tokenizer either. So `server.features.qa.analysis` turns every text into tokens
first (NFKC, casefold, stop words, Snowball stems for sv/da/de/en, CJK characters
plus bigrams) and FTS5 (``ascii`` tokenizer: it splits on our spaces only) just
stores and intersects them. We never build an inverted index of our own.

Layout of the database:

- ``fts`` (FTS5): columns ``title``, ``answers``, ``body``, ``replies`` hold the
  analysed text; ``tags`` holds one token per filter value (``_l_<hex lang>``,
  ``_t_`` type, ``_s_`` service, ``_u_`` status) so filters are doclist
  intersections inside FTS5 (``_`` is a token character for the tokenizer, never
  one our analyzer emits: user input cannot reach a tag). ``prefix='2 3'``:
  prefix indexes for the two- and three-letter prefixes of search as you type.
  rowid = topic id.
- ``docs``: one row per topic with the rank boost (official, accepted, votes).
- ``vocab`` (fts5vocab, row): the terms, for typo tolerance.
- ``meta``: the generation marker and the analyzer version (an index written by
  another analyzer version is emptied on open, so the feature rebuilds it).

A query (see `parse_query` and `SearchIndex._run`): every word a group, the last
one a prefix while it is being typed (no space after it yet); a word of 5+
letters that the index does not know in the language searched is widened to
index terms within edit distance 1 (2 for 8+ letters; rapidfuzz over a
length-bucketed copy of the vocabulary, kept up to date as documents are
written). Then steps, each only when the one before found fewer topics than
asked for, whose topics come after it: all groups; all groups but one (three
groups or more: a paraphrase or an extra word does not lose the answer); any
group, the rarest first. Rank: bm25 with column weights title 10 > answers 5 >
body 2 > replies 1, times a boost: x3 for an official answer, x1.5 for an
accepted one, x(1 + 0.2 ln(1 + votes)). bm25 costs about a microsecond per
matching row plus a pass over each term's doclist, so a step that matches more
than `RANK_CAP` topics (the first letters of a common word) ranks only its
title matches (the best ten are title hits anyway), and past that the newest
`BOOST_CAP` of them by boost alone.

Measured (``python -m bench.search``, 100k posts in five languages, one core):
the figures are in the benchmark's JSON. tantivy-py 0.25, fed the same tokens in
a throwaway comparison at 100k, indexed at about the same rate (analysis
included) and ran the all-words step at p50 1.4 ms / p99 2.8 ms of CPU against
FTS5's 0.16 / 4.2 ms; it ships no Japanese tokenizer either, and it is one more
native dependency where FTS5 comes with Python.
"""

from __future__ import annotations

import bisect
import math
import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from server.features.qa.analysis import Group, has_cjk, normalise, parse_query

__all__ = [
    "QueryError",
    "SearchDoc",
    "SearchHit",
    "SearchIndex",
    "normalise",
]

ANALYZER_VERSION = "2"
MAX_QUERY_CHARS = 200  # the protocol caps queries at 200; longer ones are cut here too
MAX_GROUPS = 8  # groups of a query that count (the first 7 and the one being typed)
MAX_LIMIT = 100
MAX_OFFSET = 1000
RANK_CAP = 1000  # at most this many matching rows are ranked by bm25 (see `_rank`)
ANY_CAP = 300  # the same for the last step (any word), which only fills the list
BOOST_CAP = 1000  # past the caps: this many newest title matches, ordered by boost
TYPO_MIN = 5  # words shorter than this are never corrected
TYPO_TWO = 8  # from this length, two edits
TYPO_CANDIDATES = 6  # corrections kept per word
MEMO_SIZE = 4096  # remembered counts of single words (see `SearchIndex._memo`)
VOCAB_STALE_REMOVALS = 2000  # removals before the typo vocabulary is reloaded
OFFICIAL = 3.0  # rank boosts: an official answer, an accepted one, votes (x 1 + 0.2 ln(1+v))
ACCEPTED = 1.5
VOTES = 0.2
WEIGHTS = (10.0, 5.0, 2.0, 1.0, 0.0)  # title, answers, body, replies, tags
BM25 = f"bm25(fts, {', '.join(str(w) for w in WEIGHTS)})"

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS docs(
    topic INTEGER PRIMARY KEY, lang TEXT NOT NULL, type TEXT NOT NULL, service TEXT,
    status TEXT NOT NULL, official INTEGER NOT NULL, accepted INTEGER NOT NULL,
    votes INTEGER NOT NULL, created REAL NOT NULL, boost REAL NOT NULL);
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(
    title, answers, body, replies, tags, tokenize="ascii tokenchars '_'", prefix='2 3');
CREATE VIRTUAL TABLE IF NOT EXISTS vocab USING fts5vocab(fts, row);
"""


@dataclass(frozen=True)
class SearchDoc:
    topic: int
    lang: str
    type: str
    service: str | None
    status: str
    title: str
    body: str
    answers: str  # official + accepted answer texts (ranked higher than body)
    replies: str  # other visible replies (ranked lowest)
    official: bool
    accepted: bool
    votes: int
    created: float


@dataclass(frozen=True)
class SearchHit:
    topic: int
    score: float  # higher is better; comparable within one result list only


class QueryError(ValueError):
    """A query with nothing to search for: no letter or digit at all."""


def boost(doc: SearchDoc) -> float:
    """How much more a topic counts than its text alone says."""
    return (
        (OFFICIAL if doc.official else 1.0)
        * (ACCEPTED if doc.accepted else 1.0)
        * (1.0 + VOTES * math.log1p(max(doc.votes, 0)))
    )


def tag(kind: str, value: str) -> str:
    return f"_{kind}_{value.encode().hex()}"


def tags(doc: SearchDoc) -> str:
    out = [tag("l", doc.lang), tag("t", doc.type), tag("u", doc.status)]
    if doc.service is not None:
        out.append(tag("s", doc.service))
    return " ".join(out)


def quote(term: str, prefix: bool = False) -> str:
    """An FTS5 string for one index token: always quoted, so no input is syntax."""
    return '"' + term.replace('"', '""') + '"' + ("*" if prefix else "")


def at_least(k: int, parts: Sequence[str]) -> str:
    """An FTS5 expression true when at least ``k`` of ``parts`` match (1 <= k <=
    len(parts)), naming the first part once, the second at most twice, ...: put
    the most costly first. (p1 AND at_least(k-1, rest)) OR at_least(k, rest)."""
    if k == len(parts):
        return "(" + " AND ".join(parts) + ")"
    if k == 1:
        return "(" + " OR ".join(parts) + ")"
    head, rest = parts[0], parts[1:]
    return f"(({head} AND {at_least(k - 1, rest)}) OR {at_least(k, rest)})"


def either(alternatives: Sequence[str]) -> str:
    return alternatives[0] if len(alternatives) == 1 else "(" + " OR ".join(alternatives) + ")"


class Vocabulary:
    """The index's terms (not the CJK ones, not tags) bucketed by length, for typo
    candidates. Loaded from fts5vocab; new documents' terms are added as they are
    written; reloaded after purge/clear or many removals (stale terms only cost a
    useless alternative)."""

    def __init__(self) -> None:
        self.terms: set[str] = set()
        self.by_len: dict[int, list[str]] = {}
        self.prefix_sets: dict[int, set[str]] = {}
        self.prefix_lists: dict[int, list[str]] = {}
        self.sorted: list[str] | None = None
        self.loaded = False
        self.removals = 0

    def reset(self) -> None:
        """Empty, and complete: the vocabulary of an empty index."""
        self.terms = set()
        self.by_len = {}
        self.prefix_sets = {}
        self.prefix_lists = {}
        self.sorted = None
        self.loaded = True
        self.removals = 0

    def load(self, db: sqlite3.Connection) -> None:
        self.reset()
        for (term,) in db.execute("SELECT term FROM vocab"):
            self._add(term)

    def invalidate(self) -> None:
        self.loaded = False

    def _add(self, term: str) -> None:
        if term in self.terms or term.startswith("_") or has_cjk(term):
            return
        self.terms.add(term)
        self.sorted = None
        self.by_len.setdefault(len(term), []).append(term)
        for n, known in self.prefix_sets.items():
            if len(term) >= n and term[:n] not in known:
                known.add(term[:n])
                self.prefix_lists.pop(n, None)

    def completes(self, prefix: str) -> bool:
        """Whether some term starts with ``prefix``."""
        if self.sorted is None:
            self.sorted = sorted(self.terms)
        i = bisect.bisect_left(self.sorted, prefix)
        return i < len(self.sorted) and self.sorted[i].startswith(prefix)

    def add_text(self, text: str) -> None:
        if self.loaded:
            for term in text.split():
                self._add(term)

    def near(self, term: str, k: int, limit: int) -> list[str]:
        """Whole terms within ``k`` edits of ``term``, closest first."""
        choices: list[str] = []
        for n in range(len(term) - k, len(term) + k + 1):
            choices += self.by_len.get(n, [])
        found = process.extract(
            term, choices, scorer=Levenshtein.distance, score_cutoff=k, limit=limit + 1
        )
        return [c for c, _d, _i in found if c != term][:limit]

    def _prefixes(self, n: int) -> list[str]:
        items = self.prefix_lists.get(n)
        if items is None:
            known = self.prefix_sets.get(n)
            if known is None:
                known = self.prefix_sets[n] = {t[:n] for t in self.terms if len(t) >= n}
            items = self.prefix_lists[n] = sorted(known)
        return items

    def near_prefix(self, prefix: str, k: int, limit: int) -> list[str]:
        """Prefixes of index terms within ``k`` edits of ``prefix``, closest first."""
        choices: list[str] = []
        for n in range(max(2, len(prefix) - k), len(prefix) + k + 1):
            choices += self._prefixes(n)
        found = process.extract(
            prefix, choices, scorer=Levenshtein.distance, score_cutoff=k, limit=limit + 1
        )
        return [c for c, _d, _i in found if c != prefix][:limit]


class SearchIndex:
    """The topics' search index, in memory (``path`` None) or in a SQLite file.

    Thread-safe (one lock); every write is its own transaction, ``upsert_many`` one
    for all its documents.
    """

    def __init__(self, path: Path | None) -> None:
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.RLock()
        self._db = sqlite3.connect(
            ":memory:" if path is None else str(path),
            isolation_level=None,
            check_same_thread=False,
        )
        self._vocab = Vocabulary()
        self._memos: dict[str, int] = {}
        if path is not None:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        if self._meta("analyzer") != ANALYZER_VERSION:
            self._reset()

    # -- the marker -------------------------------------------------------------------

    def _meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    @property
    def generation(self) -> str | None:
        with self._lock:
            return self._meta("generation")

    def set_generation(self, generation: str) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO meta(key, value) VALUES ('generation', ?)", (generation,)
            )

    # -- writing ----------------------------------------------------------------------

    def _write(self, doc: SearchDoc) -> None:
        self._memos.clear()
        db = self._db
        db.execute("DELETE FROM fts WHERE rowid = ?", (doc.topic,))
        title = normalise(doc.title, doc.lang)
        answers = normalise(doc.answers, doc.lang)
        body = normalise(doc.body, doc.lang)
        replies = normalise(doc.replies, doc.lang)
        db.execute(
            "INSERT INTO fts(rowid, title, answers, body, replies, tags) VALUES (?, ?, ?, ?, ?, ?)",
            (doc.topic, title, answers, body, replies, tags(doc)),
        )
        db.execute(
            "INSERT OR REPLACE INTO docs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                doc.topic,
                doc.lang,
                doc.type,
                doc.service,
                doc.status,
                int(doc.official),
                int(doc.accepted),
                doc.votes,
                doc.created,
                boost(doc),
            ),
        )
        for text in (title, answers, body, replies):
            self._vocab.add_text(text)

    def upsert(self, doc: SearchDoc) -> None:
        with self._lock, self._db:
            self._db.execute("BEGIN")
            self._write(doc)

    def upsert_many(self, docs: Iterable[SearchDoc]) -> None:
        with self._lock, self._db:
            self._db.execute("BEGIN")
            for doc in docs:
                self._write(doc)

    def remove(self, topic: int) -> None:
        with self._lock, self._db:
            self._db.execute("BEGIN")
            self._db.execute("DELETE FROM fts WHERE rowid = ?", (topic,))
            self._db.execute("DELETE FROM docs WHERE topic = ?", (topic,))
            self._memos.clear()
            self._vocab.removals += 1
            if self._vocab.removals >= VOCAB_STALE_REMOVALS:
                self._vocab.invalidate()

    def _reset(self) -> None:
        db = self._db
        with db:
            db.execute("BEGIN")
            for name in ("vocab", "fts", "docs", "meta"):
                db.execute(f"DROP TABLE IF EXISTS {name}")
        db.executescript(SCHEMA)
        db.execute(
            "INSERT OR REPLACE INTO meta(key, value) VALUES ('analyzer', ?)", (ANALYZER_VERSION,)
        )
        self._vocab.reset()
        self._memos.clear()

    def clear(self) -> None:
        """Remove every document; the generation marker goes too (a half-done rebuild
        must not look fresh)."""
        with self._lock:
            self._reset()

    def purge(self) -> None:
        """Make removed text physically leave the file: merge the FTS5 segments (which
        drops deleted entries), rewrite the file (VACUUM), empty the WAL."""
        with self._lock:
            db = self._db
            db.execute("INSERT INTO fts(fts) VALUES ('optimize')")
            db.execute("VACUUM")
            if self.path is not None:
                db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._vocab.invalidate()

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM docs").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- searching --------------------------------------------------------------------

    def _exists(self, expr: str) -> bool:
        return (
            self._db.execute("SELECT 1 FROM fts WHERE fts MATCH ? LIMIT 1", (expr,)).fetchone()
            is not None
        )

    def _memo(self, key: str, compute: Callable[[], int]) -> int:
        """``compute()``, remembered until the next write: while a person types, the
        words already typed are asked about again at every keystroke."""
        found = self._memos.get(key)
        if found is None:
            if len(self._memos) >= MEMO_SIZE:
                self._memos.clear()
            found = self._memos[key] = compute()
        return found

    def _alternatives(self, group: Group, scope: str) -> tuple[list[str], list[str]]:
        """The FTS5 strings a group may match (itself, plus corrections of a typo) in
        the strict first search step, and in the looser ones.

        A word being typed matches as typed, as a prefix, or its stem as a whole
        word: stemming half a word cuts it short (sv "kanad" -> "kan", en "adres" ->
        "adr") and ``kan*`` would match half the language; ``flyttade`` still
        finds ``flytt`` through its stem. In the looser steps, if it is shorter
        than `TYPO_MIN`, it matches only as a whole word (typed or stemmed): two
        or three letters are not a word yet, and such a prefix costs a pass over
        thousands of topics per step."""
        k = 2 if len(group.word) >= TYPO_TWO else 1
        if not group.prefix:
            own = [quote(group.term), *(quote(a) for a in group.alts)]
            if min(len(group.word), len(group.term)) < TYPO_MIN or not self._unknown(
                group.term, scope
            ):
                return own, own
            vocab = self._vocabulary()
            near = [quote(t) for t in vocab.near(group.term, k, TYPO_CANDIDATES)]
            return [*own, *near], [*own, *near]
        exact = [quote(group.word)]
        if group.term != group.word:
            exact.append(quote(group.term))
        own = [quote(group.word, True), *exact[1:]]
        if len(group.word) < TYPO_MIN:
            return own, exact
        vocab = self._vocabulary()
        if group.term in vocab.terms or vocab.completes(group.word):
            return own, own
        # a typo in a word being typed: in what is there so far, or the word is whole
        near = [quote(t, True) for t in vocab.near_prefix(group.word, k, TYPO_CANDIDATES // 2)]
        whole = []  # the stem of half a word can be short (kanda -> kand): not below 5
        if len(group.term) >= TYPO_MIN:
            whole = [quote(t) for t in vocab.near(group.term, k, TYPO_CANDIDATES // 2)]
        return [*own, *near, *whole], [*own, *near, *whole]

    def _vocabulary(self) -> Vocabulary:
        if not self._vocab.loaded:
            self._vocab.load(self._db)
        return self._vocab

    def _unknown(self, term: str, scope: str) -> bool:
        """Whether no topic in ``scope`` (the language searched) has ``term``."""
        if term not in self._vocabulary().terms:
            return True
        expr = quote(term) + scope
        return not self._memo("?" + expr, lambda: int(self._exists(expr)))

    def search(
        self,
        q: str,
        *,
        query_lang: str = "en",
        prefix: bool = True,
        lang: str | None = None,
        type: str | None = None,
        service: str | None = None,
        status: str | None = None,
        limit: int = 10,
        offset: int = 0,
    ) -> tuple[list[SearchHit], int]:
        """Topics matching ``q`` (written in ``query_lang``), best first, and how many
        match. ``prefix``: the last word may be unfinished. Raises `QueryError` when
        ``q`` has no letter or digit."""
        groups, searchable = parse_query(q[:MAX_QUERY_CHARS], query_lang, prefix=prefix)
        if not searchable:
            raise QueryError("Type a word to search for: letters or digits.")
        limit = max(0, min(limit, MAX_LIMIT))
        offset = max(0, min(offset, MAX_OFFSET))
        if len(groups) > MAX_GROUPS:
            groups = [*groups[: MAX_GROUPS - 1], groups[-1]]
        filters = [tag("l", lang) if lang is not None else None]
        filters += [tag("t", type) if type is not None else None]
        filters += [tag("s", service) if service is not None else None]
        filters += [tag("u", status) if status is not None else None]
        scope = "".join(f' AND tags : "{t}"' for t in filters if t is not None)
        typo_scope = scope if lang is not None else scope + f' AND tags : "{tag("l", query_lang)}"'
        with self._lock:
            alternatives = [self._alternatives(g, typo_scope) for g in groups]
            strict = [either(a) for a, _ in alternatives]
            loose = [either(b) for _, b in alternatives]
            return self._run(strict, loose, scope, limit, offset)

    def _run(
        self, strict: list[str], parts: list[str], scope: str, limit: int, offset: int
    ) -> tuple[list[SearchHit], int]:
        """Steps from strict to loose, until ``offset + limit`` topics are found; the
        topics of a stricter step come first. ``total`` counts the last step run.

        1. every group (``strict``: the word being typed as a prefix); then with
        ``parts`` (the same, whole words only): 2. (three groups or more) all groups
        but one; 3. any group: the rarest groups (as few as hold at most `ANY_CAP`
        topics, ranked by bm25: a rare word is the one that tells), or when that
        finds nothing at all, every group (only the best title matches of common
        words: they fill an empty list, they do not push better ones down)."""
        n = len(parts)
        need = offset + limit
        seen: dict[int, float] = {}

        def rank(text: str, total: int, cap: int) -> None:
            for topic, score in self._rank(text, scope, total, need + len(seen), cap):
                seen.setdefault(topic, score)

        text = " AND ".join(strict)
        total = self._count(f"({text}){scope}")
        if total and need:
            rank(text, total, RANK_CAP)
        if len(seen) >= need or n == 1:
            return [SearchHit(t, s) for t, s in list(seen.items())[offset:need]], total
        # how many topics each group matches: the common ones are written once in
        # the all-but-one expression (bm25 reads every doclist it names), and the
        # rare ones are the first asked for in the last step
        sizes = {p: self._memo(p + scope, partial(self._count, p + scope)) for p in parts}
        by_size = sorted(parts, key=lambda p: -sizes[p])
        if n >= 3:
            text = at_least(n - 1, by_size)
            total = self._count(f"({text}){scope}")
            if total and need:
                rank(text, total, RANK_CAP)
        if len(seen) < need:
            total = self._count(f"({' OR '.join(parts)}){scope}")
            if total and need:
                rare: list[str] = []
                held = 0
                for p in reversed(by_size):
                    if sizes[p] and (not rare or held + sizes[p] <= ANY_CAP):
                        rare.append(p)
                        held += sizes[p]
                rank(" OR ".join(rare), held, ANY_CAP)
                if not seen and len(rare) < n:  # only common words: the best of those
                    rank(" OR ".join(parts), total, ANY_CAP)
        return [SearchHit(t, s) for t, s in list(seen.items())[offset:need]], total

    def _count(self, expr: str) -> int:
        row = self._db.execute("SELECT count(*) FROM fts WHERE fts MATCH ?", (expr,)).fetchone()
        return int(row[0])

    def _rank(
        self, text: str, scope: str, total: int, want: int, cap: int
    ) -> list[tuple[int, float]]:
        """The best ``want`` of the ``total`` topics matching ``text`` and ``scope``.

        bm25 costs about a microsecond a row, so when more than ``cap`` topics match
        (the first letters of a common word), only those whose *title* matches are
        ranked (a title hit weighs 10, a body hit 2: the best ten are title hits);
        when even those are more than ``cap``, they are ordered by the boost alone
        (official, accepted, votes; newest first among equals), which costs a
        fraction of bm25; when the titles are too few, the newest ``cap`` matches
        are ranked."""
        db = self._db
        expr = f"({text}){scope}"
        if total > cap:
            titled = f"{{title}} : ({text}){scope}"
            count = self._count(titled)
            if count >= want:
                expr, total = titled, count
                if count > cap:
                    rows = db.execute(
                        "SELECT c.rowid, d.boost FROM (SELECT rowid FROM fts WHERE fts MATCH ? "
                        "ORDER BY rowid DESC LIMIT ?) c JOIN docs d ON d.topic = c.rowid "
                        "ORDER BY d.boost DESC, c.rowid DESC LIMIT ?",
                        (expr, BOOST_CAP, want),
                    ).fetchall()
                    return [(int(t), float(b) * 1e-3) for t, b in rows]
        if total <= cap:
            sql = (
                f"SELECT f.rowid, {BM25} * d.boost AS s FROM fts f "
                "JOIN docs d ON d.topic = f.rowid WHERE fts MATCH ? "
                "ORDER BY s, f.rowid DESC LIMIT ?"
            )
            rows = db.execute(sql, (expr, want)).fetchall()
        else:
            sql = (
                f"SELECT c.rowid, c.s * d.boost AS s FROM (SELECT rowid, {BM25} AS s FROM fts "
                "WHERE fts MATCH ? ORDER BY rowid DESC LIMIT ?) c "
                "JOIN docs d ON d.topic = c.rowid ORDER BY s, c.rowid DESC LIMIT ?"
            )
            rows = db.execute(sql, (expr, cap, want)).fetchall()
        return [(int(t), -float(s)) for t, s in rows]
