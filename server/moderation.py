"""Privileged actions: official announcements and removing an avatar.

Who may send them is decided by the catalogue's roles and checked by the
session table before these run; these only carry them out.
"""

from __future__ import annotations

import time

from server.link import broadcast
from server.privacy import redact
from server.space import Avatar, Space


def announce(space: Space, sender: Avatar, text: str) -> int:
    """Send an announcement to everyone in the sender's zone; returns how many got it."""
    msg = {
        "t": "announce",
        "id": sender.id,
        "name": sender.name,
        "role": sender.role,
        "text": redact(text),
        "ts": time.time(),
    }
    return broadcast((a.link for a in space.in_zone(space.zone_of(sender))), msg)
