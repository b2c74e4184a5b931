"""Data rights for feedback (``personal_data = ("survey_answers",)``).

``survey_answers``: the surveys offered to a citizen whose private record still ties
them to the citizen (``survey:<id>``, ``closed:<id>``, which expire after the survey's
open time), with the answer or refusal from the ``answers`` stream (rating, ease,
comment, time) and never the staff member's subject; plus whether the kiosk's pause
(``kiosk:<subject>``) is running.

Erase: the private records and the kiosk pause are deleted and the open survey forgotten;
an answer with a free-text comment is trimmed from ``answers`` and appended again without
``comment`` and ``shared`` (insight skips it as a second answer to a survey it has counted,
so ratings stay as they were); answers without text hold nothing about the citizen and
stay. Answers are anonymous: once the private record has lapsed nothing ties a comment to
the citizen, and retention then removes its text. A staff member's subject in the stream
and in survey records is replaced by a random ``erased-<hex>`` pseudonym (the survey's
entries appended again in order) and their display name dropped from the records.

Retention (`expire`): answers older than the limit lose their text.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from server.features.feedback.survey import Survey, closed_key, kiosk_key, record_key
from server.plug import Erased
from server.store import Keyspace, rewrite_entries

if TYPE_CHECKING:
    from server.features.feedback.feature import Feedback

KINDS = ("survey_answers",)
STREAM = "answers"
ANSWER_FIELDS = ("type", "kind", "service", "outcome", "rating", "easy", "comment", "ts", "ref")


async def _records(store: Keyspace) -> dict[str, Survey]:
    """Every survey record still held (open or closed), by key."""
    out: dict[str, Survey] = {}
    for key in [*await store.scan("survey:*"), *await store.scan("closed:*")]:
        raw = await store.get(key)
        if raw is not None:
            out[key] = Survey.from_bytes(raw)
    return out


def _belongs(feature: Feedback, survey: Survey, subject: str) -> bool:
    if survey.subject:
        return survey.subject == subject
    person = feature.ctx.people.by_subject(subject)
    return person is not None and survey.citizen == person.id


async def _surveys_of(feature: Feedback, subject: str) -> set[str]:
    """The citizen's surveys, by their private records while those last: the answers
    themselves are anonymous (nothing in them ties back to the citizen)."""
    ids = {
        s.id for s in (await _records(feature.ctx.store)).values() if _belongs(feature, s, subject)
    }
    ids |= {s.id for s in feature.open.values() if _belongs(feature, s, subject)}
    return ids


async def export(feature: Feedback, subject: str) -> dict[str, Any]:
    store = feature.ctx.store
    ids = await _surveys_of(feature, subject)
    answers: list[dict[str, Any]] = []
    for survey_id in sorted(ids):
        entries = [f for _id, f in await store.read(STREAM) if f.get("survey") == survey_id]
        item: dict[str, Any] = {"survey": survey_id}
        for f in entries:
            if f.get("type") == "offered":
                item["offered_at"] = f.get("ts")
                item["kind"] = f.get("kind")
                item["service"] = f.get("service", "")
            else:
                item["answer"] = {k: f[k] for k in ANSWER_FIELDS if k in f}
        answers.append(item)
    if await store.get(kiosk_key(subject)) is not None:
        answers.append({"kiosk_pause": True, "ttl_s": await store.ttl(kiosk_key(subject))})
    return {"survey_answers": answers}


async def erase(feature: Feedback, subject: str) -> Erased:
    store = feature.ctx.store
    removed = anonymised = 0
    ids = await _surveys_of(feature, subject)
    for survey_id in ids:
        removed += await store.delete(record_key(survey_id), closed_key(survey_id))
        feature.open.pop(survey_id, None)
    removed += await store.delete(kiosk_key(subject))
    with_text = {
        f.get("survey", "")
        for _id, f in await store.read(STREAM)
        if f.get("survey") in ids and _has_text(f)
    }
    if with_text:
        await rewrite_entries(
            store, STREAM, lambda f: f.get("survey", "") in with_text, _strip_text
        )
        anonymised += len(with_text)

    # As staff: a pseudonym in the stream and in the records, no display name.
    pseudonym = "erased-" + secrets.token_hex(6)
    served = {
        f.get("survey", "") for _id, f in await store.read(STREAM) if f.get("staff") == subject
    }

    def rename(fields: dict[str, str]) -> dict[str, str]:
        if fields.get("staff") == subject:
            fields["staff"] = pseudonym
        return fields

    if served:
        anonymised += await rewrite_entries(
            store, STREAM, lambda f: f.get("survey", "") in served, rename
        )
    for key, survey in (await _records(store)).items():
        if survey.staff == subject:
            ttl = await store.ttl(key)
            survey.staff, survey.staff_name = pseudonym, ""
            await store.set(key, survey.to_bytes(), ttl_s=ttl)
            anonymised += 1
    for survey in feature.open.values():
        if survey.staff == subject:
            survey.staff, survey.staff_name = pseudonym, ""
    return Erased(removed=removed, anonymised=anonymised)


TEXT_FIELDS = ("comment", "shared")


def _has_text(fields: Mapping[str, str]) -> bool:
    return any(k in fields for k in TEXT_FIELDS)


def _strip_text(fields: dict[str, str]) -> dict[str, str]:
    """An answer without its free text (the rating stays)."""
    for key in TEXT_FIELDS:
        fields.pop(key, None)
    return fields


async def expire(feature: Feedback, kind: str, before: float) -> Erased:
    """Retention: answers older than ``before`` lose their comment and ``shared`` (the
    ratings stay for the statistics); closed-survey records older than
    that go too (they also lapse on their own after the survey's open time)."""
    if kind != "survey_answers":
        raise ValueError(f"feedback keeps no {kind!r}")
    store = feature.ctx.store
    anonymised = await rewrite_entries(
        store,
        STREAM,
        lambda f: _has_text(f) and float(f.get("ts", "0")) < before,
        _strip_text,
    )
    removed = 0
    for key, survey in (await _records(store)).items():
        if key.startswith("closed:") and survey.offered_at < before:
            removed += await store.delete(key)
    return Erased(removed=removed, anonymised=anonymised)
