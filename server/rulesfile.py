"""Rules files in TOML whose errors name the line: alert rules, scorecard rules.

A manager or admin edits such a file while the server runs; the feature
reloads it when it changes (`WatchedFile`) and, on a `RuleError`, keeps the
last good rules and shows the message ("line 12: ..."). `load_toml` turns a
syntax error into one; `TomlLines` finds the line of a table or key for the
errors a feature's own checks find.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

_TOML_AT = re.compile(r"\(at line (\d+), column (\d+)\)")


class RuleError(ValueError):
    """The rules file is invalid; ``line`` (1-based) is where, when known."""

    def __init__(self, reason: str, line: int | None = None) -> None:
        self.reason = reason
        self.line = line
        super().__init__(f"line {line}: {reason}" if line is not None else reason)


def load_toml(text: str) -> dict[str, Any]:
    """Parse ``text``; a syntax error becomes a `RuleError` with its line."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        m = _TOML_AT.search(str(e))
        line = int(m.group(1)) if m else None
        if line is None and "end of document" in str(e):
            line = max(1, len(text.splitlines()))
        reason = _TOML_AT.sub("", str(e)).replace("(at end of document)", "").strip()
        raise RuleError(f"TOML: {reason}", line) from None


class TomlLines:
    """Finds the line of a table or key in the text, for semantic errors."""

    _HEADER = re.compile(r"^\s*\[\[?\s*([A-Za-z0-9_.\"' -]+?)\s*\]\]?\s*(?:#.*)?$")

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        # (line number, header name, is array) for every table header
        self.headers: list[tuple[int, str, bool]] = []
        for number, line in enumerate(self.lines, start=1):
            m = self._HEADER.match(line)
            if m:
                name = re.sub(r"\s*\.\s*", ".", m.group(1).replace('"', "").replace("'", ""))
                self.headers.append((number, name, line.lstrip().startswith("[[")))

    def table(self, name: str, index: int | None = None) -> int | None:
        """The line of ``[name]`` or of the ``index``-th ``[[name]]``."""
        found = [n for n, h, array in self.headers if h == name and array == (index is not None)]
        if index is None:
            return found[0] if found else None
        return found[index] if index < len(found) else None

    def key(self, table: str, index: int | None, key: str) -> int | None:
        """The line of ``key = ...`` in that table (or its sub-table ``[table.key]``).

        A dotted ``key`` (``annotations.summary``) is looked up inside the sub-table.
        """
        if table == "":
            return self._top_key(key)
        first, _, rest = key.partition(".")
        line = self._key(table, index, first)
        if rest and line is not None and self._is_header(line, f"{table}.{first}"):
            return self._key_after(line, f"{table}.{first}", rest) or line
        return line

    def _is_header(self, line: int, name: str) -> bool:
        return any(n == line and h == name for n, h, _a in self.headers)

    def _key_after(self, start: int, table: str, key: str) -> int | None:
        end = next((n for n, _h, _a in self.headers if n > start), len(self.lines) + 1)
        pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
        for number in range(start + 1, end):
            if pattern.match(self.lines[number - 1]):
                return number
        return None

    def _key(self, table: str, index: int | None, key: str) -> int | None:
        start = self.table(table, index)
        if start is None:
            return None
        # the table runs to the next header that is not one of its own sub-tables
        end = len(self.lines) + 1
        for n, h, _a in self.headers:
            if n > start and not h.startswith(f"{table}."):
                end = n
                break
        pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*[=.]")
        for number in range(start + 1, end):
            if pattern.match(self.lines[number - 1]):
                return number
        sub = [n for n, h, _a in self.headers if start < n < end and h == f"{table}.{key}"]
        return sub[0] if sub else start

    def _top_key(self, key: str) -> int | None:
        pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
        first_header = self.headers[0][0] if self.headers else len(self.lines) + 1
        for number in range(1, first_header):
            if pattern.match(self.lines[number - 1]):
                return number
        return None

    def first(self, name: str) -> int | None:
        """The first line of ``[name]``, ``[[name]]`` or a top-level ``name =``."""
        return self.table(name) or self.table(name, 0) or self.key("", None, name)


class WatchedFile:
    """A file read again only when its modification time changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._mtime: float | None = None

    def changed(self) -> str | None:
        """The text if the file changed since the last call (or this is the first), else None.

        Raises `OSError` or `UnicodeDecodeError` when it cannot be read.
        """
        mtime = self.path.stat().st_mtime
        if mtime == self._mtime:
            return None
        self._mtime = mtime
        return self.path.read_text(encoding="utf-8")
