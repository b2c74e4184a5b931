"""Scorecard: balanced, informational feedback for staff; goals, badges, opt-in boards."""

from server.features.scorecard.feature import Scorecards

__all__ = ["Scorecards"]
