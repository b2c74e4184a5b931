"""What the server itself says as the greeter, in the five languages (fallback: English).

The bot says almost everything; the server speaks only to keep a citizen out
of a loop: it offers the handover after the second unhelpful answer when the
bot has not, and when a conversation reaches its turn limit. Every line says
that this is an automated assistant.
"""

from __future__ import annotations

from typing import Any

FALLBACK = "en"

TEXTS: dict[str, dict[str, str]] = {
    "not_helpful": {
        "en": "I am an automated assistant and my answers did not help. Shall I take a queue "
        "ticket for you, so a person at {service} can help you?",
        "sv": "Jag är en automatisk assistent och mina svar hjälpte inte. Ska jag ta en kölapp "
        "åt dig, så att en person på {service} kan hjälpa dig?",
        "da": "Jeg er en automatisk assistent, og mine svar hjalp ikke. Skal jeg tage et "
        "kønummer til dig, så en person hos {service} kan hjælpe dig?",
        "de": "Ich bin ein automatischer Assistent, und meine Antworten haben nicht geholfen. "
        "Soll ich eine Wartenummer für Sie ziehen, damit Ihnen eine Person bei {service} hilft?",
        "ja": "私は自動アシスタントですが、お役に立てませんでした。"
        "{service}の担当者が対応できるよう、整理券をお取りしましょうか？",
    },
    "turn_limit": {
        "en": "I am an automated assistant and cannot help further in this conversation. Shall "
        "I take a queue ticket for you, so a person at {service} can help you?",
        "sv": "Jag är en automatisk assistent och kan inte hjälpa till mer i det här samtalet. "
        "Ska jag ta en kölapp åt dig, så att en person på {service} kan hjälpa dig?",
        "da": "Jeg er en automatisk assistent og kan ikke hjælpe mere i denne samtale. Skal jeg "
        "tage et kønummer til dig, så en person hos {service} kan hjælpe dig?",
        "de": "Ich bin ein automatischer Assistent und kann in diesem Gespräch nicht weiter "
        "helfen. Soll ich eine Wartenummer für Sie ziehen, damit Ihnen eine Person bei "
        "{service} hilft?",
        "ja": "私は自動アシスタントで、この会話ではこれ以上お手伝いできません。"
        "{service}の担当者が対応できるよう、整理券をお取りしましょうか？",
    },
    "at_limit": {
        "en": "I am an automated assistant and cannot help further here. You can take a "
        "ticket for a person at the desks at any time.",
        "sv": "Jag är en automatisk assistent och kan inte hjälpa till mer här. Du kan när som "
        "helst ta en kölapp till en person vid diskarna.",
        "da": "Jeg er en automatisk assistent og kan ikke hjælpe mere her. Du kan altid tage et "
        "kønummer til en person ved skrankerne.",
        "de": "Ich bin ein automatischer Assistent und kann hier nicht weiter helfen. Sie "
        "können jederzeit an den Schaltern eine Wartenummer für eine Person ziehen.",
        "ja": "私は自動アシスタントで、ここではこれ以上お手伝いできません。窓口でいつでも"
        "担当者の整理券をお取りいただけます。",
    },
}


def text(key: str, lang: str, **values: str) -> str:
    """The line ``key`` in ``lang`` (or English), with ``values`` filled in."""
    table = TEXTS[key]
    return table.get(lang.split("-")[0].lower(), table[FALLBACK]).format(**values)


def service_name(service: dict[str, Any] | None, service_id: str, lang: str) -> str:
    """A world service's display name in ``lang`` (or English, or its id)."""
    names = service.get("name") if service else None
    if isinstance(names, dict):
        base = lang.split("-")[0].lower()
        return str(names.get(base) or names.get(FALLBACK) or service_id)
    return service_id
