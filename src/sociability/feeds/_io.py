"""Shared plumbing for the feed readers: rejected records, JSON loading with line numbers.

Readers are generators that yield one item per record read: a canonical post dict, or a
:class:`Reject` saying why that record was left out. Counting both is what lets every run
balance: records read = posts accepted + records rejected.

JSONL is streamed line by line in bounded memory, and an uncompressed JSONL file can be cut into
newline-aligned byte ranges (:func:`split_lines`) that several processes read side by side.
Format detection looks only at the head of a file (:func:`read_head`).
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


HEAD_CHARS = 1 << 16
"""How much of a file format detection reads: the first 64 K characters, in whole lines."""
HEAD_LIMIT = 1 << 26
"""The most :func:`read_head` reads, for a first line longer than :data:`HEAD_CHARS`."""


def read_head(path: Path) -> str:
    """The opening of a file, enough to tell its format without reading it all.

    Whole lines up to :data:`HEAD_CHARS` characters, and on until two non-blank lines have begun,
    so a JSONL file whose first record is longer than that is still recognised (up to
    :data:`HEAD_LIMIT`). BOM dropped; unreadable and empty files raise FeedError as for
    :func:`read_text`.
    """
    lines: list[str] = []
    size = nonblank = 0
    try:
        with open_text(path) as handle:
            while size < HEAD_LIMIT and (size < HEAD_CHARS or nonblank < 2):
                line = handle.readline(HEAD_LIMIT - size)
                if not line:
                    break
                if not lines:
                    line = line.removeprefix("\ufeff")
                lines.append(line)
                size += len(line)
                nonblank += bool(line.strip())
    except READ_ERRORS as exc:
        raise unreadable(path, exc, line=len(lines) + 1) from None
    head = "".join(lines)
    if not head.strip():
        check_not_empty(path)  # raises unless non-blank text lies beyond HEAD_LIMIT
    return head


def is_gzip(path: Path) -> bool:
    return path.suffix == ".gz"


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


def iter_lines(path: Path) -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, line)`` for each ``\\n``-terminated line of a file, streaming (gzip too).

    Lines are split on ``\\n`` alone, as :func:`split_lines` counts them; the BOM is dropped and
    undecodable bytes replaced. A file cut off mid-way is a FeedError naming the line.
    """
    number = 0
    try:
        with _open_bytes(path) as handle:
            for raw in handle:
                number += 1
                if number == 1:
                    raw = raw.removeprefix(_BOM)
                yield number, raw.decode("utf-8", errors="replace")
    except READ_ERRORS as exc:
        raise unreadable(path, exc, line=number + 1) from None


_BOM = "\ufeff".encode()


def _open_bytes(path: Path) -> io.BufferedIOBase:
    return gzip.open(path, "rb") if is_gzip(path) else open(path, "rb")


def iter_jsonl(path: Path) -> Iterator[tuple[int, Any]]:
    """Yield ``(line_number, parsed)`` per non-blank line of a file; a bad line yields a Reject instead."""
    source = str(path)
    for number, line in iter_lines(path):
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
    except (json.JSONDecodeError, RecursionError):
        return False
    return "\n" in stripped.strip()


def as_dict(value: Any) -> dict:
    """The value if it is a dict, else an empty dict: feeds nest optional objects freely."""
    return value if isinstance(value, dict) else {}
