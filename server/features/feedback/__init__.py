"""Feedback: a survey after every desk case and at the feedback kiosk."""

from server.features.feedback.feature import Feedback

__all__ = ["Feedback"]
