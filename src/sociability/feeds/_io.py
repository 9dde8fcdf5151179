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

try:
    import orjson
except ImportError:  # pragma: no cover - a dependency, but json alone gives the same results
    orjson = None


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


@dataclass(frozen=True)
class Span:
    """A newline-aligned byte range of a file: the lines whose first byte lies in ``[start, end)``.

    ``first_line`` is the 1-based number of the range's first line in the file, so rejects and
    errors name the file's own lines. Made by :func:`split_lines`.
    """

    start: int
    end: int
    first_line: int


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


def iter_lines(path: Path, span: Span | None = None) -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, line)`` for each line of a file, streaming (gzip too).

    Lines end at ``\\n`` alone, as :func:`split_lines` counts them; the BOM is dropped and
    undecodable bytes replaced. With a span, only the lines starting inside it, numbered as in
    the whole file. A file cut off mid-way is a FeedError naming the line.
    """
    for number, raw in _iter_raw_lines(path, span):
        yield number, raw.decode("utf-8", errors="replace")


def _iter_raw_lines(path: Path, span: Span | None = None) -> Iterator[tuple[int, bytes]]:
    """:func:`iter_lines` before decoding: the bytes of each line, the BOM dropped."""
    if span is not None and is_gzip(path):
        raise cannot_split(path, "a gzip file")
    start, end = (0, None) if span is None else (span.start, span.end)
    number = 0 if span is None else span.first_line - 1
    position = start
    try:
        with _open_bytes(path) as handle:
            if start:
                handle.seek(start)
            for raw in handle:
                if end is not None and position >= end:
                    return
                position += len(raw)
                number += 1
                if number == 1:
                    raw = raw.removeprefix(_BOM)
                yield number, raw
    except READ_ERRORS as exc:
        raise unreadable(path, exc, line=number + 1) from None


_BOM = "\ufeff".encode()
_BLOCK = 1 << 20


def _open_bytes(path: Path) -> io.BufferedIOBase:
    return gzip.open(path, "rb") if is_gzip(path) else open(path, "rb")


def cannot_split(path: Path | str, what: str) -> FeedError:
    return FeedError(path, f"{what} cannot be split into byte ranges (only uncompressed JSONL can); read it whole")


def split_lines(path: str | Path, parts: int | None = None, part_bytes: int | None = None) -> list[Span]:
    """Cut an uncompressed file into newline-aligned byte ranges that processes can read side by side.

    Parameters
    ----------
    path : an uncompressed line-oriented file (JSONL).
    parts : how many ranges of about equal size; or
    part_bytes : about how many bytes each range holds.

    A line belongs to the range where its first byte lies, so the ranges hold every line exactly
    once. A small file gives fewer ranges than asked, never an empty one (but one for an empty
    file). Line numbers come from counting ``\\n`` in blocks: one fast pass over the file.
    """
    path = Path(path)
    if (parts is None) == (part_bytes is None):
        raise ValueError(f"give exactly one of parts and part_bytes, got parts={parts!r}, part_bytes={part_bytes!r}")
    if any(n is not None and n < 1 for n in (parts, part_bytes)):
        raise ValueError(f"parts and part_bytes must be at least 1, got parts={parts!r}, part_bytes={part_bytes!r}")
    if is_gzip(path):
        raise cannot_split(path, "a gzip file")
    try:
        size = path.stat().st_size
        if parts is not None:
            offsets = [size * i // parts for i in range(1, parts)]
        elif part_bytes is not None:
            offsets = list(range(part_bytes, size, part_bytes))
        with open(path, "rb") as handle:
            cuts = sorted({0, size} | {_next_line_start(handle, offset) for offset in offsets})
            spans: list[Span] = []
            line = 1
            for start, end in zip(cuts, cuts[1:]):
                spans.append(Span(start, end, line))
                if end < size:
                    line += _count_newlines(handle, start, end)
    except OSError as exc:
        raise unreadable(path, exc) from None
    return spans or [Span(0, 0, 1)]


def _next_line_start(handle: io.BufferedIOBase, offset: int) -> int:
    """The first position at or after ``offset`` where a line begins (the file's end if none)."""
    if offset <= 0:
        return 0
    position = offset - 1  # a line begins at offset when the byte before it is a newline
    handle.seek(position)
    while block := handle.read(1 << 16):
        index = block.find(b"\n")
        if index >= 0:
            return position + index + 1
        position += len(block)
    return position


def _count_newlines(handle: io.BufferedIOBase, start: int, end: int) -> int:
    handle.seek(start)
    count = 0
    while start < end and (block := handle.read(min(_BLOCK, end - start))):
        count += block.count(b"\n")
        start += len(block)
    return count


def iter_jsonl(path: Path, span: Span | None = None) -> Iterator[tuple[int, Any]]:
    """Yield ``(line_number, parsed)`` per non-blank line (of the span); a bad line yields a Reject instead."""
    source = str(path)
    for number, raw in _iter_raw_lines(path, span):
        try:
            yield number, parse_json_line(raw)
        except json.JSONDecodeError as exc:  # a blank line too: skipped, as it fails for being blank
            if raw.decode("utf-8", errors="replace").strip():
                yield number, Reject(source, number, f"malformed JSON line: {exc.msg}")
        except RecursionError:
            yield number, Reject(source, number, "malformed JSON line: nested too deeply")


_DIGITS_AS_ZEROS = bytes(ord("0") if ord("0") <= byte <= ord("9") else ord(" ") for byte in range(256))
_LONG_NUMBER = b"0" * 19
"""19 digits in a row: the shortest integer orjson may read as a float (one beyond 64 bits)."""
_DEEP = 500
"""More brackets than this, and a line might nest deep enough for json to run out of recursion
(at 1,000 levels less the caller's stack) where orjson, with its own limit of 1,024, does not."""
_FLOAT_OR_NESTED = {float, dict, list}


def parse_json_line(raw: bytes) -> Any:
    """``json.loads`` of a line's text (undecodable bytes replaced), through orjson where it can: twice as fast.

    orjson's answer is taken unless it might differ: where an integer beyond 64 bits may have
    become a float, or the line might nest too deep for json (more than :data:`_DEEP` brackets).
    A flat record without floats is clear of both at a glance; any other value is cleared by its
    text (no run of 19 digits). A line orjson rejects (NaN, Infinity, an escaped lone surrogate,
    undecodable bytes, a blank line, bad syntax) goes to ``json.loads`` too, for its value or its
    own error. tests/test_feeds.py holds the two together.
    """
    if orjson is not None:
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
        else:
            if type(value) is dict and _FLOAT_OR_NESTED.isdisjoint(map(type, value.values())):
                return value
            if _LONG_NUMBER not in raw.translate(_DIGITS_AS_ZEROS) and (
                len(raw) <= _DEEP or raw.count(b"[") + raw.count(b"{") <= _DEEP
            ):
                return value
    return json.loads(raw.decode("utf-8", errors="replace"))


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


def as_list(value: Any) -> list:
    """The value if it is a list, one object as a list of it (as ActivityStreams allows), else
    an empty list: a field that should hold a list may hold ``true`` or a number in a broken feed."""
    if isinstance(value, list):
        return value
    return [value] if isinstance(value, dict) else []
