"""The permission matrix: who may send each client message and call each HTTP route.

One table of data, per feature: every client message type of the catalogue
and every HTTP route (``/api/<feature>/<route>``) against the roles. It is
the only place where permissions are declared:

- `protocol.catalogue` gives each client message the roles of its row
  (`apply`) and refuses, on import, a message the matrix lacks, a row for a
  message no feature defines, a message listed under the wrong feature, and a
  message module that declares ``roles=`` itself; the session
  (`protocol.session.Session`) then refuses a message of another role with
  ``forbidden``, as before.
- `server.app` gives each feature route the roles of its row and refuses to
  start when a route is missing or a feature's own ``HttpRoute.roles`` or
  ``public`` disagrees; the edge (`server.edge.http`) answers 401 without a
  valid token and 403 for another role. A `PUBLIC` route serves anyone, with
  or without a token.

Roles are the columns of `ROLES`. ``verified`` is a citizen whose identity
was proven with an eID; it is not a token role but a flag on a citizen's
session, so its column always holds at least what ``citizen`` may do
(`verified_extra` lists what it adds; nothing yet). Spec roles
(`protocol.spec.ROLES`) are the token roles, so a message's
``MessageSpec.roles`` never lists ``verified``.

``python -m protocol.permissions --docs`` rewrites the generated tables in
``docs/SECURITY.md``; a test checks the file is current and walks the whole
matrix against a running server.

This module imports only `protocol.spec` (data), so the catalogue may import it.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Final, Literal

from protocol.spec import ROLES as TOKEN_ROLES
from protocol.spec import MessageSpec

__all__ = [
    "MESSAGES",
    "PUBLIC",
    "ROLES",
    "ROUTES",
    "RouteRule",
    "allows",
    "apply",
    "check_matrix",
    "message_roles",
    "route_rule",
    "spec_roles",
    "verified_extra",
]

ROLES: Final = ("citizen", "verified", "staff", "host", "captioner", "manager", "admin", "bot")
"""The matrix's columns. ``verified``: a citizen with a verified identity (a session flag,
not a token role); every other column is a role a session holds."""

FLAG_ROLES: Final = ("verified",)
"""Columns that are a flag on a citizen's session, not a role of their own."""

PUBLIC: Final = "public"
"""A route anyone may call, with or without a token (public content, a stable link)."""

Roles = tuple[str, ...]
RouteRule = Roles | Literal["public"]

# -- role groups (only to keep the table readable) ----------------------------

EVERYONE: Final[Roles] = ROLES
CITIZENS: Final[Roles] = ("citizen", "verified")
STAFF: Final[Roles] = ("staff", "admin")
HOSTS: Final[Roles] = ("host", "admin")
CAPTIONERS: Final[Roles] = ("host", "captioner", "admin")
ANNOUNCERS: Final[Roles] = ("staff", "host", "admin")
MANAGERS: Final[Roles] = ("manager", "admin")
ADMINS: Final[Roles] = ("admin",)
BOTS: Final[Roles] = ("bot",)

# -- the matrix ------------------------------------------------------------------

MESSAGES: Final[Mapping[str, Mapping[str, Roles]]] = {
    "core": {
        "hello": EVERYONE,
        "join": EVERYONE,
        "move": EVERYONE,
        "ping": EVERYONE,
        "bye": EVERYONE,
        # Sign-in sessions (server/auth): one's own for those who sign in; another
        # person's only for admins (the handler checks that part).
        "session_list": ("staff", "host", "captioner", "manager", "admin"),
        "session_revoke": ("staff", "host", "captioner", "manager", "admin"),
        # Data rights (server/rights.py): a citizen's own data, by their citizen key.
        # Staff records are the agency's and follow its own process.
        "my_data": CITIZENS,
        "my_data_erase": CITIZENS,
    },
    "chat": {"chat": EVERYONE},
    "moderation": {
        "announce": ANNOUNCERS,
        "kick": HOSTS,
        "block": EVERYONE,
        "report": EVERYONE,
    },
    "desks": {
        "duty": STAFF,
        "take_ticket": EVERYONE,
        "leave_queue": EVERYONE,
        "respond": EVERYONE,
        "call_next": STAFF,
        "auto_call": STAFF,
        "transfer": STAFF,
        "close_case": STAFF,
        "invite": STAFF,
        "desk_say": EVERYONE,
    },
    "voice": {
        "rtc_offer": EVERYONE,
        "rtc_ice": EVERYONE,
        "mute": EVERYONE,
        "hangup": EVERYONE,
    },
    "feedback": {
        "survey_request": CITIZENS,
        "survey_answer": CITIZENS,
        "survey_dismiss": CITIZENS,
    },
    "insight": {},
    "scorecard": {
        "scorecard_get": STAFF,
        "scorecard_settings": STAFF,
        "goal_set": STAFF,
        "goal_clear": STAFF,
        "leaderboard_get": STAFF,
    },
    "training": {
        "training_start": STAFF,
        "training_choice": STAFF,
        "training_repeat": STAFF,
        "training_stop": STAFF,
        "training_join": CITIZENS,
    },
    "qa": {
        "qa_search": EVERYONE,
        "qa_get": EVERYONE,
        "qa_post": EVERYONE,
        "qa_reply": EVERYONE,
        "qa_edit": EVERYONE,
        "qa_vote": EVERYONE,
        "qa_accept": EVERYONE,
        "qa_flag": EVERYONE,
        "qa_moderate": STAFF,
        "qa_set": STAFF,
        "qa_merge": STAFF,
        "qa_revisions": STAFF,
        "qa_queue": STAFF,
        "qa_mine": EVERYONE,
        "qa_export_mine": EVERYONE,
        "qa_erase_me": EVERYONE,
    },
    "greeter": {
        "greeter_ask": CITIZENS,
        "greeter_rate": CITIZENS,
        "greeter_consent": CITIZENS,
        "greeter_reply": BOTS,
        "greeter_handoff": BOTS,
    },
    "events": {
        "event_schedule": EVERYONE,
        "event_create": HOSTS,
        "event_cancel": HOSTS,
        "event_register": EVERYONE,
        "event_join": EVERYONE,
        "event_leave": EVERYONE,
        "event_move": EVERYONE,
        "event_listen": EVERYONE,
        "event_rtc_offer": EVERYONE,
        "event_rtc_leave": EVERYONE,
        "event_hand": EVERYONE,
        "event_accept": EVERYONE,
        "event_promote": HOSTS,
        "event_demote": HOSTS,
        "event_mute": HOSTS,
        "event_kick": HOSTS,
        "event_ban": HOSTS,
        "event_ask": EVERYONE,
        "event_vote": EVERYONE,
        "event_answered": EVERYONE,
        "event_caption": CAPTIONERS,
        "event_slides_begin": HOSTS,
        "event_slides_chunk": HOSTS,
        "event_slides_end": HOSTS,
        "event_slide": HOSTS,
    },
    "audit": {},
}
"""feature -> client message type -> the roles that may send it (checked by the session).
Handlers may refuse more (a desk message needs duty, ``event_answered`` a host or the
current speaker of that event): the matrix says who may *ask*."""

ROUTES: Final[Mapping[str, RouteRule]] = {
    "/api/moderation/audit": ADMINS,
    "/api/insight/dashboard": MANAGERS,
    "/api/insight/cases": MANAGERS,
    "/api/insight/report.csv": MANAGERS,
    "/api/insight/report.xlsx": MANAGERS,
    "/api/insight/alerts": MANAGERS,
    "/api/scorecard/rules": MANAGERS,
    "/api/scorecard/team": MANAGERS,
    "/api/scorecard/staff": MANAGERS,
    "/api/qa/topic": PUBLIC,
    "/api/qa/report": MANAGERS,
    "/api/qa/export.jsonl": MANAGERS,
    "/api/qa/export.csv": MANAGERS,
    "/api/events/schedule.ics": PUBLIC,
    "/api/events/schedule": PUBLIC,
    "/api/events/slide": PUBLIC,
    "/api/events/questions": HOSTS,
    "/api/events/audit": ADMINS,
    "/api/audit/search": ADMINS,
    "/api/audit/export": ADMINS,
}
"""``/api/<feature>/<route>`` -> the roles whose bearer token may call it, or `PUBLIC`."""

ROUTE_DOCS: Final[Mapping[str, str]] = {
    "/api/moderation/audit": "the moderators' record of kicks and reports",
    "/api/insight/dashboard": "live and trend figures by service",
    "/api/insight/cases": "the case ids behind a bar or point",
    "/api/insight/report.csv": "report download",
    "/api/insight/report.xlsx": "report download",
    "/api/insight/alerts": "active alerts",
    "/api/scorecard/rules": "the scoring rules",
    "/api/scorecard/team": "team aggregates",
    "/api/scorecard/staff": "one person's figures (not under a works agreement)",
    "/api/qa/topic": "a topic's stable link",
    "/api/qa/report": "answer times by service",
    "/api/qa/export.jsonl": "the wall's record",
    "/api/qa/export.csv": "the wall's record",
    "/api/events/schedule.ics": "the schedule as iCalendar",
    "/api/events/schedule": "the schedule",
    "/api/events/slide": "a rendered slide",
    "/api/events/questions": "an event's questions",
    "/api/events/audit": "the events' moderation record",
    "/api/audit/search": "search the audit trail",
    "/api/audit/export": "export the audit trail",
}
"""One phrase per route, for docs/SECURITY.md."""


# -- lookups ------------------------------------------------------------------------


def _feature_of(t: str) -> str | None:
    return next((f for f, rows in MESSAGES.items() if t in rows), None)


def message_roles(t: str) -> Roles:
    """The matrix's roles for client message ``t`` (``verified`` included); KeyError if none."""
    feature = _feature_of(t)
    if feature is None:
        raise KeyError(t)
    return MESSAGES[feature][t]


def route_rule(path: str) -> RouteRule:
    """The matrix's rule for route ``path`` (roles or `PUBLIC`); KeyError if it has none."""
    return ROUTES[path]


def allows(key: str, role: str) -> bool:
    """Whether ``role`` (a column of `ROLES`) may send message ``key`` or call route ``key``.

    A ``key`` starting with ``/`` is a route; raises KeyError for a key the matrix lacks.
    """
    if key.startswith("/"):
        rule = route_rule(key)
        return rule == PUBLIC or role in rule
    return role in message_roles(key)


def spec_roles(roles: Roles) -> Roles:
    """The token roles among ``roles``, in `protocol.spec.ROLES` order (what specs carry)."""
    return tuple(r for r in TOKEN_ROLES if r in roles)


def verified_extra() -> dict[str, Roles]:
    """Messages and routes a verified citizen may use and a plain citizen may not."""
    out: dict[str, Roles] = {}
    for rows in MESSAGES.values():
        for t, roles in rows.items():
            if "verified" in roles and "citizen" not in roles:
                out[t] = roles
    for path, rule in ROUTES.items():
        if rule != PUBLIC and "verified" in rule and "citizen" not in rule:
            out[path] = rule
    return out


def check_matrix() -> None:
    """Raise ValueError for an unknown role, a message listed twice, a route path not of the
    form ``/api/<feature>/<route>``, or a ``verified`` cell weaker than ``citizen``."""
    seen: dict[str, str] = {}
    for feature, rows in MESSAGES.items():
        for t, roles in rows.items():
            if t in seen:
                raise ValueError(f"permissions: {t!r} is listed under {seen[t]!r} and {feature!r}")
            seen[t] = feature
            _check_roles(t, roles)
    for path, rule in ROUTES.items():
        parts = path.split("/")
        if len(parts) != 4 or parts[:2] != ["", "api"] or not parts[2] or not parts[3]:
            raise ValueError(f"permissions: route {path!r} is not /api/<feature>/<route>")
        if rule != PUBLIC:
            _check_roles(path, rule)


def _check_roles(key: str, roles: Roles) -> None:
    if bad := [r for r in roles if r not in ROLES]:
        raise ValueError(f"permissions: {key!r} names unknown roles {bad}")
    if not roles:
        raise ValueError(f"permissions: nobody may use {key!r}")
    if "citizen" in roles and "verified" not in roles:
        raise ValueError(f"permissions: {key!r}: a verified citizen may do what a citizen may")


def apply(specs: Mapping[str, MessageSpec]) -> dict[str, MessageSpec]:
    """``specs`` (type -> client spec, ``feature`` set) with their roles from the matrix.

    Raises ValueError naming the message when a spec declares roles itself
    (they belong here), when the matrix has no row for it or lists it under
    another feature, when the row allows no token role, or when the matrix
    lists a message no spec defines.
    """
    check_matrix()
    out: dict[str, MessageSpec] = {}
    for t, spec in specs.items():
        if spec.roles:
            raise ValueError(
                f"client message {t!r} declares roles in its module; "
                "declare them in protocol/permissions.py"
            )
        feature = _feature_of(t)
        if feature is None:
            raise ValueError(
                f"client message {t!r} of {spec.feature!r} is not in the permission matrix "
                "(protocol/permissions.py)"
            )
        if feature != spec.feature:
            raise ValueError(
                f"permissions: {t!r} is listed under {feature!r} but belongs to {spec.feature!r}"
            )
        roles = spec_roles(MESSAGES[feature][t])
        if not roles:
            raise ValueError(f"permissions: no token role may send {t!r}")
        out[t] = replace(spec, roles=roles)
    if extra := sorted(t for rows in MESSAGES.values() for t in rows if t not in specs):
        raise ValueError(f"permissions: the matrix lists messages no feature defines: {extra}")
    return out


# -- docs/SECURITY.md ------------------------------------------------------------------

DOC: Final = Path(__file__).resolve().parent.parent / "docs" / "SECURITY.md"
BEGIN: Final = "<!-- BEGIN generated by `python -m protocol.permissions --docs`; do not edit -->"
END: Final = "<!-- END generated -->"


def _cell(allowed: bool) -> str:
    return "✓" if allowed else "·"


def render_markdown() -> str:
    """The generated section of docs/SECURITY.md: one message table and one route table
    per feature, in the catalogue's feature order."""
    from protocol.catalogue import CLIENT_MESSAGES  # the catalogue imports this module

    head = "| " + " | ".join(["message", *ROLES]) + " |"
    rule = "|---" * (len(ROLES) + 1) + "|"
    out = [BEGIN, ""]
    routes_of: dict[str, list[str]] = {}
    for path in ROUTES:
        routes_of.setdefault(path.split("/")[2], []).append(path)
    features = list(MESSAGES) + [f for f in routes_of if f not in MESSAGES]
    for feature in features:
        rows = MESSAGES.get(feature, {})
        paths = routes_of.get(feature, [])
        out += [f"### Feature `{feature}`", ""]
        if rows:
            out += [head, rule]
            for t, roles in rows.items():
                phases = CLIENT_MESSAGES[t].phases
                note = "" if phases == ("world",) else f" ({', '.join(phases)})"
                out.append(
                    f"| `{t}`{note} | " + " | ".join(_cell(r in roles) for r in ROLES) + " |"
                )
            out.append("")
        else:
            out += ["No client messages.", ""]
        if paths:
            out += ["| " + " | ".join(["GET route", *ROLES]) + " |", rule]
            for path in paths:
                r = ROUTES[path]
                if r == PUBLIC:
                    cells = ["public"] * len(ROLES)
                else:
                    cells = [_cell(role in r) for role in ROLES]
                doc = ROUTE_DOCS.get(path, "")
                out.append(f"| `{path}`{': ' + doc if doc else ''} | " + " | ".join(cells) + " |")
            out.append("")
    out.append(END)
    return "\n".join(out)


SKELETON: Final = f"""# Security: who may do what, and the audit trail

{BEGIN}
{END}
"""


def splice_docs(text: str) -> str:
    """``text`` with its generated section replaced by the current one."""
    if BEGIN not in text or END not in text:
        text = SKELETON
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return head + render_markdown() + tail


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args == ["--docs"]:
        current = DOC.read_text(encoding="utf-8") if DOC.exists() else SKELETON
        DOC.write_text(splice_docs(current), encoding="utf-8")
        return 0
    if args == ["-"]:
        sys.stdout.write(render_markdown() + "\n")
        return 0
    sys.stderr.write("usage: python -m protocol.permissions --docs | -\n")
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
