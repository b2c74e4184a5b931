"""The message catalogue: every message either side may send, as data.

Each feature declares its own messages and error codes in a module of
`protocol.messages`; this module assembles them (the index is
`protocol.messages.FEATURES`) into the tables everyone else reads. The codec
(`protocol.codec`) validates against `CLIENT_MESSAGES` and
`SERVER_MESSAGES`, the session table (`protocol.session`) reads each client
message's phases and roles (the roles come from the permission matrix,
`protocol.permissions`, applied here), and the browser's twin
(`clients/web/src/protocol/catalogue.js`) and the reference in
``docs/PROTOCOL.md`` are generated from it by `python -m protocol.export`
(a test checks both are current).

Every message is one msgpack map with a string field ``"t"`` naming its type.
Field names are short because they are sent many times a second.

Importing this module raises ValueError naming the culprit when two features
define the same message type in one direction, or the same error code, or when
a client message and the permission matrix disagree (`protocol.permissions.apply`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Final

from protocol import permissions
from protocol.messages import FEATURES as DECLARED
from protocol.messages.common import MAX_COORD
from protocol.spec import ROLES, FeatureProtocol, Field, MessageSpec

__all__ = [
    "ALL_ERROR_CODES",
    "CLIENT_MESSAGES",
    "ERROR_CODES",
    "FEATURES",
    "MAX_COORD",
    "MAX_MESSAGE_BYTES",
    "PROTOCOL_VERSION",
    "ROLES",
    "SERVER_MESSAGES",
    "Field",
    "MessageSpec",
    "assemble",
    "feature_of_error",
]

PROTOCOL_VERSION: Final = 4
"""Bumped on any incompatible change; a client sends it in ``hello``."""

MAX_MESSAGE_BYTES: Final = 16 * 1024
"""Largest WebSocket message a client may send; larger ones close with 1009."""


def assemble(
    features: Sequence[FeatureProtocol],
) -> tuple[dict[str, MessageSpec], dict[str, MessageSpec], dict[str, str], dict[str, str]]:
    """Merge features into (client messages, server messages, error docs, error feature).

    The message tables map type -> spec, the third maps code -> doc and the
    fourth code -> the name of the feature that defines it; all keep the
    features' order. Raises ValueError naming the type or code and both
    features when two features define the same message type in one
    direction, or the same error code, or two features share a name.
    """
    client: dict[str, MessageSpec] = {}
    server: dict[str, MessageSpec] = {}
    docs: dict[str, str] = {}
    owner: dict[str, str] = {}
    names: set[str] = set()
    for fp in features:
        if fp.name in names:
            raise ValueError(f"two features are named {fp.name!r}")
        names.add(fp.name)
        for table, specs, label in ((client, fp.client, "client"), (server, fp.server, "server")):
            for spec in specs:
                if spec.type in table:
                    raise ValueError(
                        f"{label} message {spec.type!r} is defined by both "
                        f"{table[spec.type].feature!r} and {fp.name!r}"
                    )
                table[spec.type] = spec
        for code, doc in fp.errors.items():
            if code in docs:
                raise ValueError(
                    f"error code {code!r} is defined by both {owner[code]!r} and {fp.name!r}"
                )
            docs[code] = doc
            owner[code] = fp.name
    return client, server, docs, owner


CLIENT_MESSAGES: dict[str, MessageSpec]
"""Messages a client may send: type -> spec (with ``feature`` set)."""
SERVER_MESSAGES: dict[str, MessageSpec]
"""Messages the server sends: type -> spec (with ``feature`` set)."""
ERROR_CODES: dict[str, str]
"""Every error code of every feature -> a one-sentence doc."""
_ERROR_FEATURE: dict[str, str]

_client, SERVER_MESSAGES, ERROR_CODES, _ERROR_FEATURE = assemble(DECLARED)
CLIENT_MESSAGES = permissions.apply(_client)

FEATURES: tuple[FeatureProtocol, ...] = tuple(
    replace(fp, client=tuple(CLIENT_MESSAGES[m.type] for m in fp.client)) for fp in DECLARED
)
"""The features of the index (`protocol.messages.FEATURES`), their client messages with
the roles of the permission matrix."""

ALL_ERROR_CODES: tuple[str, ...] = tuple(ERROR_CODES)
"""Every error code, core codes first, then each feature's in index order."""


def feature_of_error(code: str) -> str | None:
    """The name of the feature that defines error ``code``, or None when none does."""
    return _ERROR_FEATURE.get(code)
