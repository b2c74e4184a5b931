"""Chat: nearby and zone text chat; the last lines of each zone are kept."""

from server.features.chat.feature import Chat

__all__ = ["Chat"]
