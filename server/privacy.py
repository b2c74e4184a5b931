"""Personal identity numbers are redacted before anything is stored or shown.

Citizens type their personal number into chat more often than one would
think. `redact` replaces anything shaped like one with a placeholder:

- Swedish personnummer / samordningsnummer: (YY)YYMMDD[-+]NNNN, or 10/12 digits;
- Danish CPR: DDMMYY-NNNN or 10 digits;
- German tax id (Steuer-IdNr.): 11 digits;
- Japanese My Number: 12 digits (also grouped 4-4-4).

Over-redacting a harmless long number is the accepted cost.
"""

from __future__ import annotations

import re

PLACEHOLDER = "[id removed]"

_PATTERNS = [
    # 6 or 8 digits, a separator, 4 digits (SE, DK), e.g. 19800101-1234, 010180-1234
    re.compile(r"(?<!\d)(?:\d{2})?\d{6}\s?[-+]\s?\d{4}(?!\d)"),
    # My Number grouped 4-4-4
    re.compile(r"(?<!\d)\d{4}[ -]\d{4}[ -]\d{4}(?!\d)"),
    # bare runs of 10 to 12 digits (SE/DK without separator, DE tax id, JP)
    re.compile(r"(?<!\d)\d{10,12}(?!\d)"),
]


def redact(text: str) -> str:
    """Return ``text`` with every identity-number-shaped run replaced."""
    for pattern in _PATTERNS:
        text = pattern.sub(PLACEHOLDER, text)
    return text
