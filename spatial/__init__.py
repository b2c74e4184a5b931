"""Pure-numpy spatial core: grid queries, interest management, movement rules.

No I/O, no clock, no asyncio; nothing here imports ``server``, ``agents`` or
``protocol``.
"""

from __future__ import annotations

from spatial.hashgrid import HashGrid
from spatial.interest import InterestDiff, InterestManager

__all__ = ["HashGrid", "InterestDiff", "InterestManager"]
