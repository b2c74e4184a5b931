"""Events: launches and town halls in the auditorium (docs/EVENTS.md)."""

from server.features.events.feature import Events

__all__ = ["Events"]
