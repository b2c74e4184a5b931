"""`Survey`: one survey offered to one citizen, and how it is stored.

A survey's private record (who may answer it: the citizen's entity id and
durable subject, and the served staff member's subject and display name) is
a key of its own with an expiry, taken atomically by the answer, so there is
at most one answer however many tabs or processes race. The shared stream
``answers`` (docs/METRICS.md) holds what the statistics need and nothing that
identifies the citizen.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any


def record_key(survey: str) -> str:
    return "survey:" + survey


def closed_key(survey: str) -> str:
    """Who a closed survey was for, so that only they hear "already answered"."""
    return "closed:" + survey


def kiosk_key(subject: str) -> str:
    return "kiosk:" + subject


@dataclass
class Survey:
    id: str
    kind: str  # case | kiosk
    citizen: int
    subject: str
    offered_at: float
    ticket: str = ""
    service: str = ""
    desk: str = ""
    staff: str = ""
    staff_name: str = ""
    outcome: str = ""
    zone: str = ""
    ref: str = ""
    title: str = ""

    def belongs_to(self, entity: int, subject: str) -> bool:
        """The citizen it was offered to: by durable subject when known, else by avatar."""
        return subject == self.subject if self.subject else entity == self.citizen

    def to_bytes(self) -> bytes:
        return json.dumps(asdict(self)).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> Survey:
        data: dict[str, Any] = json.loads(raw)
        return cls(**data)

    def wire(self) -> dict[str, Any]:
        """The ``survey`` message."""
        msg: dict[str, Any] = {"t": "survey", "survey": self.id, "kind": self.kind}
        for key in ("service", "desk", "outcome", "staff_name", "ref", "title"):
            if value := getattr(self, key):
                msg[key] = value
        return msg

    def offered_fields(self) -> dict[str, str]:
        """The ``offered`` entry of the shared stream (no citizen identity)."""
        fields = {"type": "offered", "survey": self.id, "kind": self.kind}
        for key in ("ticket", "service", "desk", "staff", "outcome", "zone", "ref"):
            if value := getattr(self, key):
                fields[key] = value
        fields["ts"] = repr(self.offered_at)
        return fields
