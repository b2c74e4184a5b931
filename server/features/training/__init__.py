"""Training: practice desks where staff run scenarios with a simulated citizen agent."""

from server.features.training.feature import Training

__all__ = ["Training"]
