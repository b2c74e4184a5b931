"""UI strings: per-feature ICU message catalogues, complete in five languages,
really translated, and switchable in the page.

The catalogues are JSON files, flat key -> ICU MessageFormat:
``clients/web/src/core/messages/<lang>.json``,
``clients/web/src/features/<feature>/messages/<lang>.json`` and the dashboard
page's ``clients/web/src/dashboard/messages/<lang>.json`` (which the dashboard
loads with the core's and the insight feature's, never the hall). Python reads them
directly; node parses every message with intl-messageformat's parser (the one
the page uses) and loads them through the page's own loader.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.web.conftest import ROOT, WEB, join, node_json

LANGS = ["sv", "da", "de", "ja", "en"]
SRC = WEB / "src"
# Words that are the same in several languages (product name, loan words).
SAME_AS_ENGLISH_OK = {
    "app.title",
    "chat.heading",
    "chat.send",
    "zone.auditorium",
    "role.admin",
    "chat.tag.zone",
}
# Error codes of protocol version 2, which the regenerated catalogue will list.
V2_ERRORS = {"too_short", "bad_citizen_key", "closed"}
# Errors only a broken client can cause: the page shows the generic sentence.
WIRE_ERRORS = {
    "bad_msgpack",
    "not_a_message",
    "unknown_type",
    "missing_field",
    "unknown_field",
    "bad_field",
    "out_of_range",
    "not_finite",
    "bad_state",
}

Catalogues = dict[str, dict[str, dict[str, str]]]  # feature -> lang -> key -> message


# Catalogues of pages other than the hall (not features; the hall never loads them).
PAGES = {"dashboard": SRC / "dashboard" / "messages"}


def _catalogue_dirs() -> dict[str, Path]:
    dirs = {"core": SRC / "core" / "messages"}
    for folder in sorted((SRC / "features").iterdir()):
        if (folder / "index.js").is_file():
            dirs[folder.name] = folder / "messages"
    return {**dirs, **PAGES}


@pytest.fixture(scope="module")
def catalogues() -> Catalogues:
    out: Catalogues = {}
    for feature, folder in _catalogue_dirs().items():
        out[feature] = {}
        for lang in LANGS:
            path = folder / f"{lang}.json"
            assert path.is_file(), f"{feature}: {path.relative_to(ROOT)} is missing"
            data = json.loads(path.read_text(encoding="utf-8"))
            assert isinstance(data, dict) and all(
                isinstance(k, str) and isinstance(v, str) for k, v in data.items()
            ), f"{path}: not a flat object of strings"
            out[feature][lang] = data
    return out


@pytest.fixture(scope="module")
def strings(catalogues: Catalogues) -> dict[str, dict[str, str]]:
    """Every feature's messages merged, per language (what t() sees)."""
    merged: dict[str, dict[str, str]] = {lang: {} for lang in LANGS}
    for by_lang in catalogues.values():
        for lang in LANGS:
            merged[lang].update(by_lang[lang])
    return merged


ANALYSE = """
import { parse, TYPE } from '@formatjs/icu-messageformat-parser';
const chunks = []; for await (const c of process.stdin) chunks.push(c);
const input = JSON.parse(chunks.join(''));
const KIND = { [TYPE.argument]: 'argument', [TYPE.number]: 'number', [TYPE.date]: 'date',
               [TYPE.time]: 'time', [TYPE.select]: 'select', [TYPE.plural]: 'plural' };
function walk(els, args, plurals) {
  for (const el of els) {
    if (el.type in KIND) args[el.value] = KIND[el.type];
    if (el.type === TYPE.plural) plurals.push({ arg: el.value, options: Object.keys(el.options) });
    if (el.type === TYPE.select || el.type === TYPE.plural) {
      for (const opt of Object.values(el.options)) walk(opt.value, args, plurals);
    }
    if (el.type === TYPE.tag) walk(el.children, args, plurals);
  }
}
const out = {};
for (const [feature, byLang] of Object.entries(input)) {
  out[feature] = {};
  for (const [lang, messages] of Object.entries(byLang)) {
    out[feature][lang] = {};
    for (const [key, message] of Object.entries(messages)) {
      const args = {}, plurals = [];
      let error = null;
      try { walk(parse(message, { ignoreTag: true }), args, plurals); }
      catch (e) { error = String(e.message ?? e); }
      out[feature][lang][key] = { args, plurals, error };
    }
  }
}
const categories = Object.fromEntries(Object.keys(input.core).map(
  (lang) => [lang, new Intl.PluralRules(lang).resolvedOptions().pluralCategories]));
console.log(JSON.stringify({ messages: out, categories }));
"""


@pytest.fixture(scope="module")
def icu(catalogues: Catalogues) -> dict[str, Any]:
    data: dict[str, Any] = node_json(ANALYSE, catalogues)
    return data


def test_catalogues_are_complete_per_feature(catalogues: Catalogues) -> None:
    assert {"core", "chat", "moderation", "desks", "voice"} <= set(catalogues)
    for feature, by_lang in catalogues.items():
        keys = set(by_lang["en"])
        assert keys, f"{feature}: no messages"
        for lang in LANGS:
            got = set(by_lang[lang])
            assert got == keys, (
                f"{feature}/{lang}: missing {sorted(keys - got)}, extra {sorted(got - keys)}"
            )
            for key, text in by_lang[lang].items():
                assert text.strip(), f"{feature}/{lang}: {key} is empty"


def test_no_key_is_in_two_features(catalogues: Catalogues) -> None:
    seen: dict[str, str] = {}
    for feature, by_lang in catalogues.items():
        for key in by_lang["en"]:
            assert key not in seen, f"{key} is in both {seen[key]} and {feature}"
            seen[key] = feature


def test_every_message_is_icu_with_the_arguments_of_english(icu: dict[str, Any]) -> None:
    for feature, by_lang in icu["messages"].items():
        for lang, messages in by_lang.items():
            for key, info in messages.items():
                assert info["error"] is None, f"{feature}/{lang}: {key}: {info['error']}"
                english = by_lang["en"][key]["args"]
                assert set(info["args"]) == set(english), (
                    f"{feature}/{lang}: {key} has arguments {sorted(info['args'])}, "
                    f"English {sorted(english)}"
                )


def test_plurals_cover_each_languages_categories(icu: dict[str, Any]) -> None:
    plurals = 0
    for feature, by_lang in icu["messages"].items():
        for lang, messages in by_lang.items():
            needed = set(icu["categories"][lang])
            for key, info in messages.items():
                for plural in info["plurals"]:
                    plurals += 1
                    missing = needed - set(plural["options"])
                    assert not missing, f"{feature}/{lang}: {key} lacks plural forms {missing}"
    assert plurals >= 5 * 3


def test_ascii_apostrophes_are_doubled(strings: dict[str, dict[str, str]]) -> None:
    """In ICU a lone ' before { } # quotes text; '' is always one apostrophe.
    The catalogues write ’ (or '') so nothing is quoted by accident."""
    for lang, messages in strings.items():
        for key, text in messages.items():
            assert not re.search(r"(?<!')'(?!')", text), f"{lang}: {key}: lone ' in {text!r}"


def test_translations_are_not_english_copies(strings: dict[str, dict[str, str]]) -> None:
    en = strings["en"]
    for lang in ["sv", "da", "de", "ja"]:
        copies = [k for k, v in strings[lang].items() if v == en[k] and k not in SAME_AS_ENGLISH_OK]
        assert not copies, f"{lang} keeps English for {copies}"
    japanese = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
    assert all(japanese.search(v) for v in strings["ja"].values())


FORMAT = """
import { allMessages, loadMessages, t } from './src/core/i18n.js';
import { FEATURES } from './src/features/index.js';
const chunks = []; for await (const c of process.stdin) chunks.push(c);
const cases = JSON.parse(chunks.join(''));
const core = new URL('./src/core/messages/', import.meta.url);
const folders = [core, ...FEATURES.map((f) => f.messages)];
await Promise.all(folders.map(loadMessages));
console.log(JSON.stringify({
  features: FEATURES.map((f) => ({ name: f.name, install: typeof f.install,
                                    messages: new URL(f.messages).pathname })),
  loaded: allMessages(),
  formatted: cases.map(([key, values, lang]) => t(key, values, lang)),
}));
"""


def test_the_page_loader_and_plurals_and_selects(
    strings: dict[str, dict[str, str]], catalogues: Catalogues
) -> None:
    cases: list[tuple[str, dict[str, Any], str]] = []
    for lang in ["en", "sv"]:
        for s in (1, 2):
            cases.append(("called.countdown", {"s": s}, lang))
        for ahead in (0, 1, 2):
            cases.append(("ticket.place", {"position": ahead + 1, "ahead": ahead}, lang))
        for staffed in ("yes", "no"):
            values = {"ticket": "A-007", "position": 3, "staffed": staffed, "wait": "WAIT"}
            cases.append(("ticket.summary_waiting", values, lang))
    got = node_json(FORMAT, cases)

    # Every feature folder is listed in features/index.js, exports install and its messages.
    names = [f["name"] for f in got["features"]]
    assert sorted(names) == sorted(k for k in catalogues if k != "core" and k not in PAGES), names
    for f in got["features"]:
        assert f["install"] == "function", f
        assert f["messages"].endswith(f"/features/{f['name']}/messages/"), f
    # The page's loader sees exactly the files (of the hall: core and features).
    hall = {
        lang: {k: v for f, by in catalogues.items() if f not in PAGES for k, v in by[lang].items()}
        for lang in LANGS
    }
    assert got["loaded"] == hall

    out = {
        (key, json.dumps(values, sort_keys=True), lang): text
        for (key, values, lang), text in zip(cases, got["formatted"], strict=True)
    }

    def fmt(key: str, lang: str, **values: Any) -> str:
        return out[(key, json.dumps(values, sort_keys=True), lang)]

    def words(text: str) -> str:
        return re.sub(r"\d+", "N", text)

    for lang in ["en", "sv"]:
        one, two = fmt("called.countdown", lang, s=1), fmt("called.countdown", lang, s=2)
        assert "1" in one and "2" in two
        # A real plural: the words differ, not only the number.
        assert words(one) != words(two), (one, two)
        places = [fmt("ticket.place", lang, position=a + 1, ahead=a) for a in (0, 1, 2)]
        assert places[0].startswith("1") and places[1].startswith("2")
        assert len({words(p) for p in places}) == 3, places
        staffed = fmt(
            "ticket.summary_waiting", lang, ticket="A-007", position=3, staffed="yes", wait="WAIT"
        )
        unstaffed = fmt(
            "ticket.summary_waiting", lang, ticket="A-007", position=3, staffed="no", wait="WAIT"
        )
        assert "A-007" in staffed and "WAIT" in staffed
        assert "A-007" in unstaffed and "WAIT" not in unstaffed
    assert fmt("called.countdown", "en", s=1) == "Please answer within 1 second."
    assert fmt("called.countdown", "sv", s=2) == "Svara inom 2 sekunder."


@pytest.fixture(scope="module")
def catalogue() -> dict[str, Any]:
    data: dict[str, Any] = node_json(
        "import { CATALOGUE } from './src/protocol/catalogue.js';"
        "console.log(JSON.stringify(CATALOGUE));"
    )
    return data


def test_every_close_code_and_zone_has_a_sentence(
    strings: dict[str, dict[str, str]], catalogue: dict[str, Any]
) -> None:
    for name in catalogue["close"]:
        assert f"close.{name}" in strings["en"], name
    assert "close.REPLACED" in strings["en"] and "close.unknown" in strings["en"]
    import tomllib

    world = tomllib.loads((ROOT / "server/data/world.toml").read_text(encoding="utf-8"))
    for zone in world["zones"]:
        assert f"zone.{zone['id']}" in strings["en"], zone["id"]
    for service in world["services"]:
        assert set(LANGS) <= set(service["name"]), service["id"]


def test_every_desk_state_and_error_has_a_sentence(
    strings: dict[str, dict[str, str]], catalogue: dict[str, Any]
) -> None:
    """Keys the panels build from protocol values (t(`ticket.status.${s}`) ...)."""
    en = strings["en"]
    server = catalogue["server"]
    for status in server["ticket"]["fields"]["status"]["values"]:
        assert f"ticket.status.{status}" in en, status
        assert f"staff.case.{status}" in en, status
    for outcome in server["ticket"]["fields"]["outcome"]["values"]:
        assert f"ticket.outcome.{outcome}" in en, outcome
    for outcome in catalogue["client"]["close_case"]["fields"]["outcome"]["values"]:
        assert f"staff.outcome.{outcome}" in en, outcome
    for duty in [*server["duty"]["fields"]["status"]["values"], "in_service"]:
        assert f"staff.status.{duty}" in en, duty
    for status in ["waiting", "called", "serving"]:
        assert f"queue.{status}" in en, status
    for voice in ["starting", "connecting", "connected", "failed", "off"]:
        assert f"call.voice.{voice}" in en, voice
    for mic in ["denied", "unavailable"]:
        assert f"call.mic.{mic}" in en, mic
    for role in catalogue["roles"]:
        assert f"role.{role}" in en, role
    codes = set(catalogue["errors"]) | V2_ERRORS
    missing = sorted(c for c in codes if c not in WIRE_ERRORS and f"error.{c}" not in en)
    assert not missing, f"errors without a sentence: {missing}"
    assert "error.generic" in en and "ticket.no_staff" in en


def test_switching_language_in_the_page(open_page: Any, strings: dict[str, dict[str, str]]) -> None:
    page = open_page(lang="de-DE")
    # The browser's language is the default.
    assert page.evaluate("document.documentElement.lang") == "de"
    assert page.text_content("#join-heading") == strings["de"]["join.heading"]
    join(page, "Greta")
    for lang in ["sv", "da", "ja", "en", "de"]:
        page.select_option("#lang-select", lang)
        assert page.evaluate("document.documentElement.lang") == lang
        s = strings[lang]
        assert page.text_content("#chat-heading") == s["chat.heading"]
        assert page.text_content("#places-heading") == s["places.heading"]
        assert page.get_attribute("#view", "aria-label") == s["view.label3d"]
        assert page.text_content("#leave-button") == s["leave.button"]
        assert page.text_content("#service-heading") == s["service.heading"]
        zone = s["zone.lobby"]
        joined = s["status.joined"].replace("{zone}", zone)
        # A loaded test machine may add "the hall is busy" (a real slow tick) after it.
        assert page.text_content("#status") in (joined, f"{joined} {s['status.busy']}")
    # The choice is remembered across reloads.
    page.select_option("#lang-select", "ja")
    page.reload()
    page.wait_for_function("() => window.servicepoint !== undefined")
    assert page.evaluate("document.documentElement.lang") == "ja"
    assert page.input_value("#lang-select") == "ja"


def test_service_names_follow_the_language(open_page: Any) -> None:
    page = open_page(lang="sv-SE")
    join(page, "Sven")
    assert "Allmänna frågor" in page.text_content("#places")
    page.select_option("#lang-select", "ja")
    assert "総合案内" in page.text_content("#places")


def test_every_key_the_page_uses_exists(strings: dict[str, dict[str, str]]) -> None:
    """Literal keys: t('...') in every module, data-i18n and data-i18n-attr in the HTML."""
    used: set[str] = set()
    modules = [p for p in SRC.rglob("*.js") if "protocol" not in p.relative_to(SRC).parts]
    assert any("features" in p.parts for p in modules)
    for path in modules:
        used |= set(re.findall(r"\bt\('([a-z0-9_.]+)'", path.read_text(encoding="utf-8")))
    html = "".join(
        (WEB / page).read_text(encoding="utf-8") for page in ("index.html", "dashboard.html")
    )
    used |= set(re.findall(r'data-i18n="([^"]+)"', html))
    for attrs in re.findall(r'data-i18n-attr="([^"]+)"', html):
        used |= {pair.split(":")[1].strip() for pair in attrs.split(";")}
    assert len(used) > 100
    missing = sorted(k for k in used if k not in strings["en"])
    assert not missing, f"used but not defined: {missing}"
