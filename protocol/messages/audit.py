"""The audit trail: no wire vocabulary of its own.

Privileged actions are appended to an append-only stream by the server
(`server.audit.AuditLog`); admins search and export it over HTTP
(``/api/audit/search``, ``/api/audit/export``, docs/SECURITY.md). Nothing is
sent on the WebSocket.
"""

from __future__ import annotations

from protocol.spec import FeatureProtocol, documented


class AuditError:
    """The audit trail has no client messages, so no error codes of its own."""


ERRORS = documented(AuditError, {})

PROTOCOL = FeatureProtocol(
    "audit",
    (),
    (),
    ERRORS,
    doc="The audit trail of privileged actions; admins search and export it over HTTP.",
)
