"""Moderation: official announcements and removing an avatar."""

from server.features.moderation.feature import Moderation

__all__ = ["Moderation"]
