"""Shared plumbing for the feed readers: rejected records, JSON loading with line numbers.

Readers are generators that yield one item per record read: a canonical post dict, or a
:class:`Reject` saying why that record was left out. Counting both is what lets every run
balance: records read = posts accepted + records rejected.
"""

from __future__ import annotations

import gzip
import io
import json
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Union

from ..errors import FeedError


@dataclass(frozen=True)
class Reject:
    """A record that was read but not accepted as a post, and why."""

    source: str
    line: int | None
    reason: str
    record: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


Item = Union[dict, Reject]
"""What readers yield: a canonical post dict, or a Reject."""


def open_text(path: Path) -> io.TextIOBase:
    """Open a text file, transparently un-gzipping ``*.gz``; undecodable bytes are replaced."""
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", errors="replace")
    return open(path, encoding="utf-8", errors="replace", newline="")


READ_ERRORS = (OSError, EOFError)
"""What reading a damaged or truncated file raises (gzip.BadGzipFile is an OSError)."""


def unreadable(path: Path | str, exc: BaseException, line: int | None = None) -> FeedError:
    return FeedError(path, f"cannot read file ({exc.__class__.__name__}: {exc})", line=line)


def read_text(path: Path) -> str:
    """Whole file as text, with a FeedError for unreadable or empty files."""
    try:
        with open_text(path) as handle:
            text = handle.read()
    except READ_ERRORS as exc:
        raise unreadable(path, exc) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise FeedError(path, "file is empty")
    return text


def check_not_empty(path: Path) -> None:
    """:func:`read_text`'s checks without holding the file: stops at the first non-blank block."""
    try:
        with open_text(path) as handle:
            first = True
            while block := handle.read(1 << 16):
                if first and block.startswith("\ufeff"):
                    block = block[1:]
                first = False
                if block.strip():
                    return
    except READ_ERRORS as exc:
        raise unreadable(path, exc) from None
    raise FeedError(path, "file is empty")


def parse_json_document(text: str, source: str) -> Any:
    """Parse a whole JSON document; a syntax error names its line."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        problem = "truncated JSON (file ends early)" if exc.pos >= len(text.rstrip()) - 1 else (
            f"invalid JSON: {exc.msg}"
        )
        raise FeedError(source, problem, line=exc.lineno) from None
    except RecursionError:
        raise FeedError(source, "invalid JSON: nested too deeply") from None


_JS_ASSIGNMENT = re.compile(r"^\s*[\w.$\[\]'\"]+\s*=\s*", re.ASCII)


def parse_js_assignment(text: str, source: str) -> Any:
    """Parse ``window.YTD.tweets.part0 = [...]`` (or Grailbird's ``Grailbird.data.x = [...]``).

    The prefix is blanked rather than cut, so JSON error line numbers match the file's.
    """
    match = _JS_ASSIGNMENT.match(text)
    if not match:
        raise FeedError(source, "not a Twitter archive part (expected 'window.YTD... = [')", line=1)
    body = " " * match.end() + text[match.end():]
    return parse_json_document(body.rstrip().rstrip(";"), source)


def iter_jsonl(text: str, source: str) -> Iterator[tuple[int, Any]]:
    """Yield ``(line_number, parsed)`` per non-blank line; a bad line yields a Reject instead."""
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, Reject(source, number, f"malformed JSON line: {exc.msg}")
        except RecursionError:
            yield number, Reject(source, number, "malformed JSON line: nested too deeply")


def looks_like_jsonl(text: str) -> bool:
    """True when the text is several JSON values, one per line, rather than one document."""
    stripped = text.lstrip()
    if not stripped.startswith("{"):
        return False
    first_line = stripped.split("\n", 1)[0].strip()
    try:
        json.loads(first_line)
    except json.JSONDecodeError:
        return False
    return "\n" in stripped.strip()


def as_dict(value: Any) -> dict:
    """The value if it is a dict, else an empty dict: feeds nest optional objects freely."""
    return value if isinstance(value, dict) else {}
