"""Desks: staff on duty, the queue, calls, cases and the desk call."""

from server.features.desks.feature import Desks

__all__ = ["Desks"]
