"""The Q&A wall: public questions and answers, official answers, search as you type."""

from server.features.qa.feature import QaWall

__all__ = ["QaWall"]
