"""Insight: statistics from the event logs, the managers' dashboard, reports and alerts."""

from server.features.insight.feature import InsightFeature

__all__ = ["InsightFeature"]
