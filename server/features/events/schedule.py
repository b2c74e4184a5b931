"""Event times in the service point's zone, and the schedule as iCalendar.

Hosts enter local times (``2027-01-20T18:00``) in the world's time zone
(`World.timezone`, a `zoneinfo` name); they are stored as epoch seconds and
shown back as local ISO times. `ics` renders the schedule with the
`icalendar` library (RFC 5545): one VEVENT per event, times with their TZID
and a VTIMEZONE, so calendars show the right local time on both sides of a
daylight-saving change.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar, Timezone
from icalendar import Event as VEvent

from protocol.errors import ProtocolError
from protocol.messages.events import EventError
from server.features.events.model import Event


def parse_local(text: str, tz: str) -> float:
    """Local ISO time in ``tz`` -> epoch seconds; ``bad_time`` if it is not one."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ProtocolError(EventError.BAD_TIME, f"{text!r} is not an ISO local time.") from None
    if value.tzinfo is not None:
        raise ProtocolError(
            EventError.BAD_TIME, "Give the local time without an offset; the zone is the service's."
        )
    return value.replace(tzinfo=ZoneInfo(tz)).timestamp()


def local(ts: float, tz: str) -> str:
    """Epoch seconds -> local ISO time (minutes) in ``tz``."""
    return datetime.fromtimestamp(ts, ZoneInfo(tz)).replace(tzinfo=None).isoformat("T", "minutes")


def ics(events: Iterable[Event], tz: str, host: str, lang: str = "en") -> bytes:
    """The schedule as an iCalendar document (``lang``: the language of titles, if given)."""
    cal = Calendar()
    cal.add("prodid", "-//servicepoint//events//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-timezone", tz)
    zone = ZoneInfo(tz)
    items = list(events)
    if items:
        first = min(e.starts for e in items)
        last = max(e.ends for e in items)
        cal.add_component(
            Timezone.from_tzinfo(
                zone,
                tz,
                first_date=datetime.fromtimestamp(first, zone).date(),
                last_date=datetime.fromtimestamp(last, zone).date(),
            )
        )
    for event in items:
        item = VEvent()
        item.add("uid", f"event-{event.id}@{host}")
        item.add("dtstamp", datetime.fromtimestamp(event.created, UTC))
        item.add("dtstart", datetime.fromtimestamp(event.starts, zone))
        item.add("dtend", datetime.fromtimestamp(event.ends, zone))
        item.add("summary", event.text(event.title, lang))
        description = event.text(event.description, lang)
        if description:
            item.add("description", description)
        item.add("location", event.zone)
        if event.cancelled:
            item.add("status", "CANCELLED")
        cal.add_component(item)
    return bytes(cal.to_ical())
