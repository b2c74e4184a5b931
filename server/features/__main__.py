"""``python -m server.features --docs``: rewrite the settings tables in docs/CONFIGURATION.md."""

from __future__ import annotations

import sys

from server.config import PROJECT_ROOT, splice_docs
from server.features import settings_sections


def main() -> int:
    if sys.argv[1:] != ["--docs"]:
        print("usage: python -m server.features --docs", file=sys.stderr)
        return 2
    path = PROJECT_ROOT / "docs" / "CONFIGURATION.md"
    path.write_text(splice_docs(path.read_text(encoding="utf-8"), settings_sections()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
