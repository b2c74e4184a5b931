"""UI strings: complete in five languages, really translated, switchable in the page."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.web.conftest import WEB, join, node_json

LANGS = ["sv", "da", "de", "ja", "en"]
# Words that are the same in several languages (product name, loan words).
SAME_AS_ENGLISH_OK = {
    "app.title",
    "chat.heading",
    "chat.send",
    "zone.auditorium",
    "role.admin",
    "chat.tag.zone",
}


@pytest.fixture(scope="module")
def strings() -> dict[str, dict[str, str]]:
    data: dict[str, dict[str, str]] = node_json(
        "import { STRINGS } from './src/i18n.js'; console.log(JSON.stringify(STRINGS));"
    )
    return data


def test_every_key_in_every_language(strings: dict[str, dict[str, str]]) -> None:
    assert sorted(strings) == sorted(LANGS)
    keys = set(strings["en"])
    for lang in LANGS:
        assert set(strings[lang]) == keys, (
            f"{lang}: missing {keys - set(strings[lang])}, extra {set(strings[lang]) - keys}"
        )
        for key, text in strings[lang].items():
            assert text.strip(), f"{lang}.{key} is empty"
            placeholders = set(re.findall(r"\{(\w+)\}", text))
            assert placeholders == set(re.findall(r"\{(\w+)\}", strings["en"][key])), (
                f"{lang}.{key}"
            )


def test_translations_are_not_english_copies(strings: dict[str, dict[str, str]]) -> None:
    en = strings["en"]
    for lang in ["sv", "da", "de", "ja"]:
        copies = [k for k, v in strings[lang].items() if v == en[k] and k not in SAME_AS_ENGLISH_OK]
        assert not copies, f"{lang} keeps English for {copies}"
    japanese = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
    assert all(japanese.search(v) for v in strings["ja"].values())


def test_every_close_code_and_zone_has_a_sentence(strings: dict[str, dict[str, str]]) -> None:
    catalogue: dict[str, Any] = node_json(
        "import { CATALOGUE } from './src/protocol/catalogue.js';"
        "console.log(JSON.stringify(CATALOGUE));"
    )
    for name in catalogue["close"]:
        assert f"close.{name}" in strings["en"], name
    import tomllib

    from tests.web.conftest import ROOT

    world = tomllib.loads((ROOT / "server/data/world.toml").read_text(encoding="utf-8"))
    for zone in world["zones"]:
        assert f"zone.{zone['id']}" in strings["en"], zone["id"]
    for service in world["services"]:
        assert set(LANGS) <= set(service["name"]), service["id"]


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
        zone = s["zone.lobby"]
        assert page.text_content("#status") == s["status.joined"].replace("{zone}", zone)
    # The choice is remembered across reloads.
    page.select_option("#lang-select", "ja")
    page.reload()
    page.wait_for_function("window.servicepoint !== undefined")
    assert page.evaluate("document.documentElement.lang") == "ja"
    assert page.input_value("#lang-select") == "ja"


def test_service_names_follow_the_language(open_page: Any) -> None:
    page = open_page(lang="sv-SE")
    join(page, "Sven")
    assert "Allmänna frågor" in page.text_content("#places")
    page.select_option("#lang-select", "ja")
    assert "総合案内" in page.text_content("#places")


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


@pytest.fixture(scope="module")
def catalogue() -> dict[str, Any]:
    data: dict[str, Any] = node_json(
        "import { CATALOGUE } from './src/protocol/catalogue.js';"
        "console.log(JSON.stringify(CATALOGUE));"
    )
    return data


def test_every_desk_state_and_error_has_a_sentence(
    strings: dict[str, dict[str, str]], catalogue: dict[str, Any]
) -> None:
    """Keys the desk panels build from protocol values (t(`ticket.status.${s}`) ...)."""
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
    missing = [c for c in catalogue["errors"] if c not in WIRE_ERRORS and f"error.{c}" not in en]
    assert not missing, f"errors without a sentence: {missing}"


def test_every_key_the_page_uses_exists(strings: dict[str, dict[str, str]]) -> None:
    """Literal keys: t('...') in the modules, data-i18n and data-i18n-attr in the HTML."""
    used: set[str] = set()
    for path in (WEB / "src").glob("*.js"):
        used |= set(re.findall(r"\bt\('([a-z0-9_.]+)'", path.read_text(encoding="utf-8")))
    html = (WEB / "index.html").read_text(encoding="utf-8")
    used |= set(re.findall(r'data-i18n="([^"]+)"', html))
    for attrs in re.findall(r'data-i18n-attr="([^"]+)"', html):
        used |= {pair.split(":")[1].strip() for pair in attrs.split(";")}
    assert len(used) > 100
    missing = sorted(k for k in used if k not in strings["en"])
    assert not missing, f"used but not defined: {missing}"
