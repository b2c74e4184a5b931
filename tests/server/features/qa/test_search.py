"""The Q&A search index: the analyzer, search as you type, ranking, filters, erasure.

Real SQLite FTS5 throughout (in memory, or a file in tmp_path); no timings asserted.
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.features.qa.analysis import parse_query, tokens
from server.features.qa.search import QueryError, SearchDoc, SearchIndex, normalise


def doc(
    topic: int,
    title: str,
    body: str = "",
    *,
    lang: str = "en",
    type: str = "question",
    service: str | None = None,
    status: str = "open",
    answers: str = "",
    replies: str = "",
    official: bool = False,
    accepted: bool = False,
    votes: int = 0,
) -> SearchDoc:
    return SearchDoc(
        topic=topic,
        lang=lang,
        type=type,
        service=service,
        status=status,
        title=title,
        body=body,
        answers=answers,
        replies=replies,
        official=official,
        accepted=accepted,
        votes=votes,
        created=1_700_000_000.0 + topic,
    )


def topics(index: SearchIndex, q: str, **kw: object) -> list[int]:
    hits, _total = index.search(q, **kw)  # type: ignore[arg-type]
    return [h.topic for h in hits]


@pytest.fixture
def index() -> SearchIndex:
    ix = SearchIndex(None)
    ix.upsert_many(
        [
            doc(1, "Jag flyttade till Malmö, hur ändrar jag adressen?", lang="sv"),
            doc(2, "How do I change my address after moving?", service="registration"),
            doc(3, "Zwei Anträge für die Baugenehmigung", "Das Bauamt hat geantwortet.", lang="de"),
            doc(4, "Hvordan søger jeg om barselsdagpenge?", lang="da", service="benefits"),
            doc(
                5,
                "マイナンバーカードの住所変更の手続き",
                "年金の受け取りについても知りたいです",
                lang="ja",
            ),
            doc(6, "Renewing a passport for a child", type="idea", status="closed"),
            doc(7, "Parental benefit when self-employed", lang="en", service="benefits"),
            doc(8, "Tax return deadline", "Filing the tax return online.", status="answered"),
        ]
    )
    return ix


# -- the analyzer -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "a", "b"),
    [
        ("sv", "flyttade", "flytta"),
        ("sv", "adressen", "adresser"),
        ("de", "Anträge", "Antrag"),
        ("de", "Baugenehmigungen", "Baugenehmigung"),
        ("da", "ansøgte", "ansøge"),
        ("da", "adressen", "adresse"),
        ("en", "moving", "moved"),
        ("en", "passports", "passport"),
    ],
)
def test_inflections_share_a_stem(lang: str, a: str, b: str) -> None:
    assert normalise(a, lang) == normalise(b, lang) != ""


def test_nfkc_casefold_punctuation_and_stop_words() -> None:
    assert normalise("ＡＢＣ１２３!", "en") == "abc123"  # full-width to ASCII
    assert normalise("STRASSE, straße.", "de") == normalise("strasse strasse", "de")
    assert normalise("The citizen's address?!", "en") == normalise("citizens address", "en")
    assert normalise("och i att", "sv") == ""  # only stop words
    assert normalise("¡¿…—!!", "en") == ""


def test_japanese_becomes_characters_and_bigrams() -> None:
    got = tokens("住所変更", "ja")
    assert {"住", "所", "変", "更", "住所", "所変", "変更"} == set(got)
    got = tokens("マイナンバー", "ja")
    assert {"マイ", "イナ", "ナン", "ンバ", "バー", "マ", "ー"} <= set(got)
    # Han in any text is cut the same way; half-width katakana become full-width
    assert "住所" in tokens("Mitt 住所 är", "sv")
    assert normalise("ﾏｲﾅﾝﾊﾞｰ", "ja") == normalise("マイナンバー", "ja")


def test_query_groups() -> None:
    groups, searchable = parse_query("hur ändrar jag adr", "sv")
    assert searchable
    assert [(g.term, g.prefix) for g in groups] == [("ändr", False), ("adr", True)]
    groups, _ = parse_query("住所変更の手続き", "ja")  # the particle の is dropped
    assert [(g.term, g.alts) for g in groups] == [("住所", ("所変",)), ("変更", ()), ("手続", ())]
    groups, _ = parse_query("adress ", "en")  # a trailing space: the word is complete
    assert [g.prefix for g in groups] == [False]
    assert parse_query("?!  ...", "en") == ([], False)


# -- searching ----------------------------------------------------------------------


def test_stemmed_search_in_each_language(index: SearchIndex) -> None:
    assert topics(index, "flytta", query_lang="sv") == [1]
    assert topics(index, "Antrag", query_lang="de") == [3]
    assert topics(index, "ansøgning barselsdagpengene", query_lang="da", prefix=False) == [4]
    assert topics(index, "moved address", query_lang="en", prefix=False) == [2]


@pytest.mark.parametrize(
    "q", ["住所", "年金", "マイナンバー", "住", "住所変更", "マイナンバー住所"]
)
def test_japanese_words_inside_unspaced_text(index: SearchIndex, q: str) -> None:
    assert topics(index, q, query_lang="ja") == [5]


def test_plain_fts5_finds_nothing_inside_japanese() -> None:
    """Why the analyzer exists: the default tokenizer makes one token of a run."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE t USING fts5(x)")
    db.execute("INSERT INTO t VALUES ('マイナンバーカードの住所変更の手続き')")
    assert db.execute("SELECT count(*) FROM t WHERE t MATCH '\"住所\"'").fetchone()[0] == 0


def test_search_as_you_type_prefix(index: SearchIndex) -> None:
    typed = "How do I change my address"
    found = {i: topics(index, typed[:i]) for i in range(5, len(typed) + 1)}
    assert set(found[len("How do I ch")]) == {2, 6}  # change, child
    assert found[len("How do I cha")] == [2]
    assert 2 in found[len(typed)]
    assert topics(index, "baugeneh", query_lang="de") == [3]
    assert topics(index, "renew", query_lang="en") == [6]
    assert topics(index, "renew", query_lang="en", prefix=False) == [6]  # a stem, whole
    assert topics(index, "rene", query_lang="en", prefix=False) == []


def test_typo_tolerance(index: SearchIndex) -> None:
    # an English query typed the Swedish way finds the English topic (and the Swedish one)
    assert topics(index, "adress", query_lang="en", lang="en", prefix=False) == [2]
    assert set(topics(index, "adress", query_lang="en", prefix=False)) == {1, 2}
    assert topics(index, "adresen", query_lang="sv", prefix=False) == [1]  # one letter off
    assert topics(index, "Baugenemigung", query_lang="de") == [3]  # 8+ letters: two edits
    assert topics(index, "pasport", query_lang="en") == [6]  # while typing too
    assert topics(index, "txa", query_lang="en") == []  # short words: never corrected


def test_official_answers_rank_first() -> None:
    ix = SearchIndex(None)
    text = "How do I renew my driving licence?"
    ix.upsert_many(
        [
            doc(1, text, "I need it for work.", votes=3),
            doc(2, text, "I need it for work.", answers="Renew it online.", official=True),
            doc(3, text, "I need it for work.", accepted=True, answers="I did it online."),
            doc(4, "Driving licence renewal in a hurry", "Any advice?"),
        ]
    )
    hits, total = ix.search("renew driving licence", prefix=False)
    assert total == 4
    assert [h.topic for h in hits][:3] == [2, 3, 1]
    assert hits[0].score > hits[1].score > hits[2].score


def test_filters(index: SearchIndex) -> None:
    assert topics(index, "benefit", lang="en") == [7]
    assert topics(index, "benefit", service="benefits") == [7]
    assert topics(index, "passport", type="idea") == [6]
    assert topics(index, "passport", type="question") == []
    assert topics(index, "tax", status="answered") == [8]
    assert topics(index, "tax", status="open") == []
    assert topics(index, "address", service="registration", lang="en") == [2]


def test_limit_offset_and_total() -> None:
    ix = SearchIndex(None)
    ix.upsert_many(doc(i, f"Parking permit question number {i}") for i in range(1, 31))
    first, total = ix.search("parking permit", limit=10)
    second, total2 = ix.search("parking permit", limit=10, offset=10)
    assert total == total2 == 30
    assert len(first) == len(second) == 10
    assert not {h.topic for h in first} & {h.topic for h in second}
    assert ix.search("parking", limit=0) == ([], 30)


def test_more_words_than_a_topic_has_still_find_it(index: SearchIndex) -> None:
    # all but one group must match, then any: one extra word does not lose the answer
    assert topics(index, "renewing passport child urgently", prefix=False)[0] == 6
    assert topics(index, "tax wombat", prefix=False) == [8]


@pytest.mark.parametrize("q", ["", "   ", "?!", "...", "—", "\"'()*"])
def test_nothing_searchable_is_a_query_error(index: SearchIndex, q: str) -> None:
    with pytest.raises(QueryError):
        index.search(q)


@pytest.mark.parametrize(
    "q",
    [
        '"AND OR NEAR( *',
        "tax AND",
        "NOT tax",
        "tax OR OR",
        "NEAR(tax return, 2)",
        "title: tax",
        "{title} : tax",
        "tags : _l_656e",
        '" tax "*"',
        "^tax",
        "tax -return +deadline",
        "a" * 5000,
        "tax " * 3000,
        "\x00tax\x00",
    ],
)
def test_query_syntax_never_leaks(index: SearchIndex, q: str) -> None:
    index.search(q)  # no sqlite3.OperationalError, whatever it finds


@given(st.text(max_size=300))
def test_any_text_is_a_result_or_a_query_error(q: str) -> None:
    ix = SearchIndex(None)
    ix.upsert(doc(1, "Tax return deadline"))
    try:
        hits, total = ix.search(q, query_lang="sv")
    except QueryError:
        return
    assert total >= len(hits)


def test_tags_cannot_be_reached_from_a_query(index: SearchIndex) -> None:
    assert topics(index, "_l_656e") == []  # the tag of lang "en": _ is not a letter
    assert topics(index, "l 656e") == []


# -- writing, erasing, persisting ---------------------------------------------------


def test_upsert_replaces_and_remove_removes(index: SearchIndex) -> None:
    assert index.count() == 8
    assert topics(index, "wombats", prefix=False) == []  # remembered as unknown until a write
    index.upsert(replace(doc(8, "Tax return deadline"), title="Wombat sightings"))
    assert topics(index, "wombats", prefix=False) == [8]
    assert topics(index, "tax") == []
    assert topics(index, "wombat") == [8]
    assert index.count() == 8
    index.remove(8)
    assert topics(index, "wombat") == []
    assert index.count() == 7
    index.remove(8)  # twice: nothing happens


def test_clear_empties_and_forgets_the_generation(index: SearchIndex) -> None:
    index.set_generation("epoch-1:42")
    index.clear()
    assert index.count() == 0
    assert index.generation is None
    assert topics(index, "tax") == []
    index.upsert(doc(1, "Tax return deadline"))
    assert topics(index, "tax") == [1]
    assert topics(index, "deadlin", prefix=False) == [1]  # the vocabulary is kept up


def test_generation_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "qa" / "search.sqlite"
    ix = SearchIndex(path)
    assert ix.generation is None
    ix.set_generation("abc:1")
    assert ix.generation == "abc:1"
    ix.set_generation("abc:2")
    ix.close()
    again = SearchIndex(path)
    assert again.generation == "abc:2"
    again.close()


def test_a_file_reopened_keeps_its_documents(tmp_path: Path) -> None:
    path = tmp_path / "search.sqlite"
    ix = SearchIndex(path)
    ix.upsert_many([doc(1, "Tax return deadline"), doc(2, "住所変更", lang="ja")])
    ix.close()
    again = SearchIndex(path)
    assert again.count() == 2
    assert topics(again, "tax") == [1]
    assert topics(again, "住所", query_lang="ja") == [2]
    assert topics(again, "deadlin", prefix=False) == [1]  # vocabulary loaded from fts5vocab
    assert topics(again, "deadlnie", prefix=False) == [1]  # a typo, two edits
    again.close()


def test_an_index_of_another_analyzer_version_is_emptied(tmp_path: Path) -> None:
    path = tmp_path / "search.sqlite"
    ix = SearchIndex(path)
    ix.upsert(doc(1, "Tax return deadline"))
    ix.set_generation("g")
    ix.close()
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value = 'old' WHERE key = 'analyzer'")
    db.commit()
    db.close()
    again = SearchIndex(path)
    assert again.count() == 0 and again.generation is None  # so the feature rebuilds it
    again.close()


def file_bytes(path: Path) -> bytes:
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def test_purge_removes_erased_text_from_the_file(tmp_path: Path) -> None:
    path = tmp_path / "search.sqlite"
    ix = SearchIndex(path)
    secret = "Zebrafinchquartz"  # unique, and its own stem
    ix.upsert_many(doc(i, f"Parking permit {i}", "Where do I park?") for i in range(1, 200))
    ix.upsert(doc(500, f"My neighbour {secret} and the parking permit", f"{secret} again"))
    word = normalise(secret, "en").encode()
    assert word == b"zebrafinchquartz"
    assert word in file_bytes(path)
    ix.remove(500)
    ix.purge()
    assert word not in file_bytes(path)
    assert secret.encode() not in file_bytes(path)
    assert ix.count() == 199
    assert topics(ix, secret) == []
    assert len(topics(ix, "parking permit", limit=5)) == 5
    ix.close()
    again = SearchIndex(path)  # still a good index
    assert again.count() == 199
    again.close()


def test_purge_in_memory_and_search_after_it(index: SearchIndex) -> None:
    index.remove(6)
    index.purge()
    assert topics(index, "passport") == []
    assert topics(index, "pasport", prefix=False) == []  # vocabulary reloaded: no stale term
    assert topics(index, "tax") == [8]
