"""The vocabulary in which features declare their wire messages.

A feature (core, chat, desks, ...) describes what it puts on the wire as one
`FeatureProtocol`: its client messages, its server messages and its error
codes, each `MessageSpec` made of `Field` descriptions. The feature modules
live in `protocol.messages`; `protocol.catalogue` assembles them into the
tables the codec, the session and the exporters read.

This module imports nothing from the rest of the package, so every other
protocol module may import it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Final, Literal

Kind = Literal["str", "int", "float", "bool", "enum", "bin", "list", "map"]
Direction = Literal["c2s", "s2c"]
Phase = Literal["hello", "join", "world"]

ROLES: Final = ("citizen", "staff", "host", "manager", "admin", "bot", "captioner")
"""Guests are citizens; the others join with a signed token (managers: dashboards and
reports; bots: automated assistants such as the greeter, always shown as automated;
captioners: type live captions at events)."""

PHASES: Final = ("hello", "join", "world")
"""Session phases: before hello, between hello and join, in the world."""

ALL_PHASES: Final = PHASES
"""For messages a client may send at any time (``ping``, ``bye``)."""


@dataclass(frozen=True)
class Field:
    """One field of a message: its kind and the limits the codec enforces.

    ``min``/``max`` bound numbers; ``min_len``/``max_len`` bound the length of
    strings (in characters), bins (bytes) and lists (items). ``values`` lists
    an enum's allowed strings, ``items`` describes a list's items and
    ``fields`` a map's fixed fields (a map without ``fields`` takes any keys).
    """

    kind: Kind
    required: bool = True
    min: float | None = None
    max: float | None = None
    min_len: int | None = None
    max_len: int | None = None
    values: tuple[str, ...] | None = None
    items: Field | None = None
    fields: dict[str, Field] | None = None
    doc: str = ""


def optional(f: Field) -> Field:
    """``f`` as an optional field (same kind, limits and doc)."""
    return replace(f, required=False)


@dataclass(frozen=True)
class MessageSpec:
    """A message type: direction, fields, and (client messages) when and by whom it may be sent.

    ``phases`` are the session phases (from `PHASES`) in which a client may
    send it and ``roles`` the roles that may; both are checked by
    `protocol.session.Session`. A feature's module leaves a client message's
    ``roles`` empty: the catalogue fills them in from the permission matrix
    (`protocol.permissions`), the one place where permissions are declared.
    Server messages carry ``phases=()`` when built with `s2c`. ``feature``
    names the feature that declares the message; `FeatureProtocol` fills it in.

    Raises ValueError at construction for an unknown direction, role or phase,
    or a client message without phases.
    """

    type: str
    direction: Direction
    fields: dict[str, Field]
    doc: str
    roles: tuple[str, ...] = field(default=ROLES)
    phases: tuple[str, ...] = ("world",)
    feature: str = ""

    def __post_init__(self) -> None:
        if self.direction not in ("c2s", "s2c"):
            raise ValueError(f"message {self.type!r}: unknown direction {self.direction!r}")
        if bad := [r for r in self.roles if r not in ROLES]:
            raise ValueError(f"message {self.type!r}: unknown roles {bad}")
        if bad := [p for p in self.phases if p not in PHASES]:
            raise ValueError(f"message {self.type!r}: unknown phases {bad}")
        if self.direction == "c2s" and not self.phases:
            raise ValueError(f"client message {self.type!r} needs at least one phase")


def c2s(
    type: str,
    fields: dict[str, Field],
    doc: str,
    *,
    phases: tuple[str, ...] = ("world",),
    roles: tuple[str, ...] = (),
) -> MessageSpec:
    """A client message, sendable in ``phases`` (default: in the world).

    ``roles`` stays empty for the catalogue's messages: their roles come from the
    permission matrix (`protocol.permissions`); the catalogue refuses a message of a
    feature module that declares them itself. Only stand-alone specs (tests) pass them.
    """
    return MessageSpec(type, "c2s", fields, doc, roles=roles, phases=phases)


def s2c(type: str, fields: dict[str, Field], doc: str) -> MessageSpec:
    """A server message (``phases`` is empty: the session table does not apply to it)."""
    return MessageSpec(type, "s2c", fields, doc, phases=())


def error_codes(cls: type) -> dict[str, str]:
    """The string constants of an error-code class: attribute name -> code."""
    return {k: v for k, v in vars(cls).items() if not k.startswith("_") and isinstance(v, str)}


def documented(cls: type, docs: Mapping[str, str]) -> Mapping[str, str]:
    """``docs`` (code -> one sentence), checked against the constants of ``cls``.

    Raises ValueError unless every constant of ``cls`` has a non-empty doc and
    every documented code is a constant of ``cls``. Returns a read-only copy.
    """
    codes = set(error_codes(cls).values())
    if missing := sorted(codes - set(docs)):
        raise ValueError(f"{cls.__name__}: codes without a doc: {missing}")
    if extra := sorted(set(docs) - codes):
        raise ValueError(f"{cls.__name__}: docs for codes it does not define: {extra}")
    if empty := sorted(c for c, d in docs.items() if not d.strip()):
        raise ValueError(f"{cls.__name__}: empty docs for {empty}")
    return MappingProxyType(dict(docs))


@dataclass(frozen=True)
class FeatureProtocol:
    """Everything one feature puts on the wire.

    ``client`` holds its ``c2s`` specs, ``server`` its ``s2c`` specs,
    ``errors`` maps each of its error codes to a one-sentence doc. On
    construction every spec's ``feature`` is set to ``name``.

    Raises ValueError for a spec in the wrong tuple, a type defined twice in
    one direction, or a spec already claimed by another feature.
    """

    name: str
    client: tuple[MessageSpec, ...]
    server: tuple[MessageSpec, ...]
    errors: Mapping[str, str]
    doc: str = ""

    def __post_init__(self) -> None:
        for specs, direction in ((self.client, "c2s"), (self.server, "s2c")):
            seen: set[str] = set()
            for spec in specs:
                if spec.direction != direction:
                    raise ValueError(
                        f"feature {self.name!r}: {spec.type!r} is {spec.direction}, "
                        f"listed as {direction}"
                    )
                if spec.type in seen:
                    raise ValueError(
                        f"feature {self.name!r} defines {direction} {spec.type!r} twice"
                    )
                if spec.feature not in ("", self.name):
                    raise ValueError(
                        f"feature {self.name!r}: {spec.type!r} belongs to {spec.feature!r}"
                    )
                seen.add(spec.type)
        object.__setattr__(
            self, "client", tuple(replace(m, feature=self.name) for m in self.client)
        )
        object.__setattr__(
            self, "server", tuple(replace(m, feature=self.name) for m in self.server)
        )
        object.__setattr__(self, "errors", MappingProxyType(dict(self.errors)))
