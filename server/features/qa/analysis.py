"""The analyzer in front of SQLite FTS5: text to index tokens, a query to search groups.

FTS5 sees only what this module emits: tokens of letters and digits separated by
single spaces (its ``ascii`` tokenizer then splits on the spaces and nothing else,
so a token here is exactly a term in the index). Steps, the same for a post and
for a query:

1. NFKC (full-width letters and digits become ASCII, half-width katakana become
   full-width), casefold, drop apostrophes inside words (``citizen's``).
2. Split into runs of letters and digits; everything else (punctuation, symbols,
   ``_``) separates.
3. A run of Han, hiragana or katakana (in any text, whatever its language) is cut
   where the script changes and each piece becomes its single characters plus its
   overlapping character bigrams: ``住所変更`` -> 住 住所 所 所変 変 変更 更. So
   two-character words (住所, 年金) and longer ones (マイナンバー) match inside
   unspaced text, and a one-character query still finds something.
4. Any other word: dropped if it is a stop word of the language, else stemmed
   with the Snowball stemmer of the language (sv, da, de, en; PyStemmer; for sv
   also the definite -et/-an Snowball leaves, see `SwedishStem`).

A query is parsed into *groups*, one per word (see `parse_query`): each is the
stem, or for the word being typed a prefix; a Japanese run becomes pairs of
neighbouring bigrams (住所変更 -> 住所|所変 + 変更, which also matches 住所の変更).
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass
from typing import Protocol

import Stemmer  # type: ignore[import-not-found, import-untyped, unused-ignore]

STEMMERS = {"sv": "swedish", "da": "danish", "de": "german", "en": "english"}
MAX_TOKEN = 48  # longer runs are cut (nobody searches for a 200-letter word)

# Small stop-word lists: the function words that would otherwise be the most common
# terms of each language. Content words (år, pass, ...) are never on them.
_STOP_TEXT = {
    "sv": """alla allt att av blev bli blir bara de dem den denna deras dess dessa det detta
        dig din dina ditt du där då efter eller en er era ert ett från för ha hade han hans
        har hennes hon honom hos hur här i icke in inom inte jag ju kan kunde man med mellan
        men mig min mina mitt mot mycket måste ni nu när någon något några och om oss på
        samma sedan sig sin sina sitt själv ska skall skulle som så till tills under upp ut
        utan vad var vara varför varit vart vem vi vid vill vilka vilken vilket vår våra vårt
        än är åt över""",
    "da": """ad af alle alt anden at blev blive bliver da de dem den denne der deres det dette
        dig din dit du efter eller en end er et for fra ham han hans har havde have hende
        hendes her hos hun hvad hvis hvor hvordan hvorfor i ikke ind jeg jer jo kan kunne man
        mange med meget men mig min mine mit mod må ned noget nogle nu når og også om op os
        over på sig sin sine sit skal skulle som sådan thi til ud under var vi vil ville vor
        være været""",
    "de": """aber alle als also am an auch auf aus bei beim bin bis bist da dann das dass dem
        den denn der des dich die dir doch du durch ein eine einem einen einer eines er es
        euch euer für hab habe haben hat hatte ich ihm ihn ihr ihre im in ist ja jetzt kann
        kein keine können man mein meine meinem meinen meiner mich mir mit muss müssen nach
        nicht noch nur ob oder sehr sein seine sich sie sind so soll sollte um und uns unser
        unsere vom von vor war warum was weil welche wenn wer wie wir wird wo zu zum zur""",
    "en": """a about after again all also am an and any are as at be been before being both
        but by can could did do does doing down during each few for from further had has
        have having he her here hers him his how i if in into is it its just me more most my
        no nor not now of off on once only or other our out over own same she should so some
        such than that the their them then there these they this those through to too under
        until up very was we were what when where which while who whom why will with would
        you your""",
}
STOPWORDS: dict[str, frozenset[str]] = {
    lang: frozenset(words.split()) for lang, words in _STOP_TEXT.items()
}

_HIRAGANA = "\u3041-\u3096\u309d-\u309f"
_KATAKANA = "\u30a1-\u30fa\u30fc-\u30ff\u31f0-\u31ff"
_HAN = "\u3005-\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_CJK = _HIRAGANA + _KATAKANA + _HAN
_APOSTROPHES = re.compile(r"(?<=[^\W_])['’ʼ](?=[^\W_])")
# A word: letters and digits that are not CJK, at most MAX_TOKEN of them (a longer
# run is cut into several words). A CJK run: one script, any length.
_WORD = re.compile(f"[^\\W_{_CJK}]{{1,{MAX_TOKEN}}}")
_TOKEN = re.compile(
    f"([{_HIRAGANA}]+)|([{_KATAKANA}]+)|([{_HAN}]+)|([^\\W_{_CJK}]{{1,{MAX_TOKEN}}})"
)
_HAS_CJK = re.compile(f"[{_CJK}]")
_CJK_RUN = re.compile(f"[{_HIRAGANA}]+|[{_KATAKANA}]+|[{_HAN}]+")
_BIGRAM = re.compile(r"(?=(\S\S))")  # overlapping pairs, within the space-separated runs

_local = threading.local()


class Stem(Protocol):
    def stemWord(self, word: str) -> str: ...

    def stemWords(self, words: list[str]) -> list[str]: ...  # PyStemmer spells it so


class SwedishStem:
    """Snowball Swedish, plus the definite endings it leaves: -et (passet, barnet,
    strandskyddet) and -an (bryggan, flickan, ansökan), cut and stemmed again, so
    the definite form meets the bare one (pass, barn, strandskydd -> strandskyd)."""

    def __init__(self) -> None:
        self.snowball: Stem = Stemmer.Stemmer("swedish", 20000)

    def stemWord(self, word: str) -> str:  # PyStemmer spells it so
        out = self.snowball.stemWord(word)
        if len(out) >= 5 and out.endswith(("et", "an")):
            out = self.snowball.stemWord(out[:-2])
        return out

    def stemWords(self, words: list[str]) -> list[str]:
        return [
            self.snowball.stemWord(w[:-2]) if len(w) >= 5 and w.endswith(("et", "an")) else w
            for w in self.snowball.stemWords(words)
        ]


def stemmer(lang: str) -> Stem | None:
    """The stemmer of ``lang`` for this thread (PyStemmer objects are not thread-safe)."""
    name = STEMMERS.get(lang)
    if name is None:
        return None
    cache: dict[str, Stem] | None = getattr(_local, "stemmers", None)
    if cache is None:
        cache = _local.stemmers = {}
    found = cache.get(name)
    if found is None:
        found = cache[name] = SwedishStem() if lang == "sv" else Stemmer.Stemmer(name, 20000)
    return found


def fold(text: str) -> str:
    """NFKC, casefold, apostrophes inside words dropped."""
    out = unicodedata.normalize("NFKC", text).casefold()
    if "'" in out or "’" in out or "ʼ" in out:
        out = _APOSTROPHES.sub("", out)
    return out


@dataclass(frozen=True, slots=True)
class Piece:
    """One word of folded text: ``kind`` is "w" (a word), "h", "k" or "c" (a run of
    hiragana, katakana or Han characters); ``end`` is its end offset in the folded text."""

    kind: str
    text: str
    end: int


def pieces(folded: str) -> list[Piece]:
    out: list[Piece] = []
    for m in _TOKEN.finditer(folded):
        kind = "hkcw"[(m.lastindex or 4) - 1]
        out.append(Piece(kind, m.group(), m.end()))
    return out


def cjk_tokens(runs: list[str]) -> list[str]:
    """Every character and every overlapping bigram of each one-script CJK run."""
    return [*"".join(runs), *_BIGRAM.findall(" ".join(runs))]


def tokens(text: str, lang: str) -> list[str]:
    """The index tokens of ``text`` written in ``lang`` (in no particular order)."""
    folded = fold(text)
    words = _WORD.findall(folded)
    stop = STOPWORDS.get(lang)
    if stop is not None:
        words = [w for w in words if w not in stop]
    stem = stemmer(lang)
    if stem is not None:
        words = stem.stemWords(words)
    if _HAS_CJK.search(folded) is not None:
        words += cjk_tokens(_CJK_RUN.findall(folded))
    return words


def normalise(text: str, lang: str) -> str:
    """The text FTS5 indexes for ``text`` in ``lang``: tokens separated by spaces."""
    return " ".join(tokens(text, lang))


@dataclass(frozen=True, slots=True)
class Group:
    """One thing a query asks for: a document matches it if it has ``term`` or one
    of ``alts`` (index tokens).

    ``prefix``: ``word`` is being typed (match terms starting with it); ``word`` is
    the word as typed (folded, unstemmed), for typo tolerance, "" for CJK groups
    (no typo tolerance on bigrams).
    """

    term: str
    prefix: bool = False
    word: str = ""
    alts: tuple[str, ...] = ()


def cjk_groups(run: str) -> list[Group]:
    """A one-script CJK run as a query: each pair of neighbouring bigrams is a
    group, matched by either; a one-character run is its character.

    住所変更 -> (住所 | 所変), (変更); 湖桟橋建設 -> (湖桟 | 桟橋), (橋建 | 建設).
    Most words are two characters, and whatever offset a word starts at, one of
    the two bigrams of its group is the word; the other is a seam between words
    (所変), which a text that puts a particle between them (住所の変更) lacks.
    """
    if len(run) == 1:
        return [Group(run)]
    grams = [run[i : i + 2] for i in range(len(run) - 1)]
    return [Group(grams[i], alts=tuple(grams[i + 1 : i + 2])) for i in range(0, len(grams), 2)]


def parse_query(q: str, lang: str, *, prefix: bool = True) -> tuple[list[Group], bool]:
    """The groups of query ``q`` in ``lang``, and whether it had any letter or digit.

    - Stop words are dropped; so is a hiragana run (particles, inflections) when the
      query also has kanji or katakana.
    - With ``prefix``, the last word, if the query does not end with a space or a
      punctuation mark, is still being typed: its stem becomes a prefix. A single
      letter being typed is ignored when other words are there; alone it is matched
      as a word.
    - Groups are unique, in order of the query.
    """
    folded = fold(q)
    found = pieces(folded)
    if not found:
        return [], False
    stop = STOPWORDS.get(lang, frozenset())
    stem = stemmer(lang)
    typing = prefix and found[-1].end == len(folded)
    only_hiragana = all(p.kind == "h" for p in found)
    groups: list[Group] = []
    for i, p in enumerate(found):
        last = i == len(found) - 1
        if p.kind == "w":
            if last and typing:
                if p.text in stop and len(found) > 1:
                    continue
                term = stem.stemWord(p.text) if stem is not None else p.text
                if len(p.text) == 1 or len(term) < 2:
                    if len(found) > 1:
                        continue
                    groups.append(Group(term or p.text, False, p.text))
                else:
                    groups.append(Group(term, True, p.text))
            elif p.text not in stop:
                groups.append(
                    Group(stem.stemWord(p.text) if stem is not None else p.text, False, p.text)
                )
        elif p.kind != "h" or only_hiragana:
            groups += cjk_groups(p.text)
    if not groups:  # only stop words: search them as words (they are not indexed: 0 hits)
        groups = [Group(p.text, False, p.text) for p in found if p.kind == "w"]
    unique: dict[tuple[str, bool, tuple[str, ...]], Group] = {}
    for g in groups:
        unique.setdefault((g.term, g.prefix, g.alts), g)
    return list(unique.values()), True


def has_cjk(term: str) -> bool:
    return _HAS_CJK.search(term) is not None
