"""Insight: alerts about waits, queues, staffing and feedback, to the staff concerned.

The dashboard, reports and drill-down are HTTP routes (``/api/insight/*``,
docs/METRICS.md); on the WebSocket the feature only pushes ``alert`` to the
staff on duty for the alert's service and to managers and admins in the world.
"""

from __future__ import annotations

from protocol.messages.common import SERVICE_ID, TIMESTAMP
from protocol.spec import FeatureProtocol, Field, documented, optional, s2c


class InsightError:
    """Insight has no client messages, so no error codes of its own."""


ERRORS = documented(InsightError, {})

ALERT_KIND = Field(
    "enum",
    values=("wait_above_target", "queue_length", "feedback_surge", "no_staff", "qa_overdue"),
)

SERVER = (
    s2c(
        "alert",
        {
            "fingerprint": Field("str", min_len=1, max_len=64, doc="stable id of the alert"),
            "rule": Field("str", min_len=1, max_len=64, doc="the rule's name"),
            "kind": ALERT_KIND,
            "state": Field("enum", values=("pending", "firing", "resolved")),
            "service": optional(SERVICE_ID),
            "value": optional(
                Field("float", min=-1e12, max=1e12, doc="the figure that triggered it")
            ),
            "threshold": optional(Field("float", min=-1e12, max=1e12)),
            "since": TIMESTAMP,
            "summary": Field("str", max_len=500, doc="English summary (clients translate by kind)"),
        },
        "An alert changed state (firing or resolved) for a service the receiver works on.",
    ),
)

PROTOCOL = FeatureProtocol(
    "insight",
    (),
    SERVER,
    ERRORS,
    doc="Alerts to staff and managers; the dashboard and reports are HTTP routes.",
)
