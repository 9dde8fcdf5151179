"""Generic tables: CSV, TSV, JSONL, a JSON array of records, or Parquet, with a column mapping.

Column names are looked up through the aliases in ``configs/columns.toml`` (twarc-csv's columns
included), overridable one by one. Plain-text conventions are recognised: ``RT @user:`` marks a
re-share, and, when no reply column exists, a post opening with ``@user`` is a reply to them.
"""

from __future__ import annotations

import csv
import math
import sys
from collections.abc import Iterable, Iterator, Mapping
from contextlib import closing
from functools import lru_cache
from itertools import islice
from pathlib import Path
from typing import Any

from ..config import load_toml
from ..errors import FeedError
from ..posts import leading_mention, make_post, normalize_handle, split_retweet_prefix
from ._io import (
    READ_ERRORS, Item, Reject, Span, check_not_empty, iter_jsonl, looks_like_jsonl, open_text, parse_json_document,
    read_head, read_text, unreadable,
)

FIELDS = (
    "text", "account", "created_at", "post_id", "platform", "is_repost", "reposted_from",
    "is_reply", "reply_to", "is_quote", "quoted_from", "quoted_text", "label", "account_kind",
)
PASSTHROUGH = ("label", "account_kind")
"""Fields carried beside the canonical columns when a table has them (labeled data)."""
_FALSY = {"", "0", "false", "f", "no", "n", "none", "null", "nan", "na", "-"}

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


def infer_platform(handle: str) -> str:
    """Guess the network from a handle's shape: ``user@host`` is Mastodon, a domain Bluesky."""
    if "@" in handle:
        return "mastodon"
    if "." in handle:
        return "bluesky"
    return "twitter"


def _is_missing(value: Any) -> bool:
    """None, NaN, or a blank string: an empty cell."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value or value.isspace()
    return isinstance(value, float) and math.isnan(value)


def parse_bool(value: Any) -> bool:
    """Table truthiness: ``true/1/yes`` and any non-empty id are true; blanks and ``false`` not."""
    if isinstance(value, bool):
        return value
    if _is_missing(value):
        return False
    if isinstance(value, (int, float)):
        return value != 0
    return str(value).strip().lower() not in _FALSY


class ColumnMap:
    """Which column of a file holds each canonical field."""

    def __init__(self, aliases: Mapping[str, Iterable[str]], overrides: Mapping[str, str] | None = None,
                 allow_missing_dates: bool = False) -> None:
        self.aliases = {field: [a.lower() for a in names] for field, names in aliases.items()}
        self.overrides = {k: v for k, v in (overrides or {}).items() if v}
        self.allow_missing_dates = allow_missing_dates

    @classmethod
    def from_config(cls, path: str | Path = "columns.toml", overrides: Mapping[str, str] | None = None) -> ColumnMap:
        config = load_toml(path)
        return cls(config.get("aliases", {}), overrides, bool(config.get("allow_missing_dates", False)))

    def resolve(self, columns: Iterable[str], source: str, account_given: bool) -> dict[str, str]:
        """Field to column name, with a clear error for a missing or misnamed column."""
        present = [str(c) for c in columns]
        lowered = {c.lower(): c for c in present}
        shown = ", ".join(present[:20]) + (" ..." if len(present) > 20 else "")
        resolved: dict[str, str] = {}
        for field, column in self.overrides.items():
            if column.lower() not in lowered:
                flag = "--" + field.replace("_", "-").replace("created-at", "date").replace("post-id", "id") + "-col"
                raise FeedError(source, f"column {column!r} ({flag}) not found; columns are: {shown}")
            resolved[field] = lowered[column.lower()]
        for field in FIELDS:
            if field in resolved:
                continue
            for alias in self.aliases.get(field, []):
                if alias in lowered:
                    resolved[field] = lowered[alias]
                    break
        required = ["text"] + ([] if account_given else ["account"]) + ([] if self.allow_missing_dates else ["created_at"])
        for field in required:
            if field not in resolved:
                looked = ", ".join(self.aliases.get(field, [])[:6])
                flag = {"text": "--text-col", "account": "--account-col or --account", "created_at": "--date-col"}[field]
                raise FeedError(source, f"no {field} column (looked for {looked}; columns are: {shown}); pass {flag}")
        return resolved


def row_to_post(row: Mapping[str, Any], columns: Mapping[str, str], account: str | None,
                platform: str | None, fallback_id: str) -> dict:
    """One table row as a canonical post (plus ``label`` when the table has one)."""
    return _reader(tuple(columns.items()), account, platform)(row, fallback_id)


@lru_cache(maxsize=16)
def _reader(columns: tuple[tuple[str, str], ...], account: str | None, platform: str | None) -> RowReader:
    return RowReader(dict(columns), account, platform)


_READ = ("text", "account", "created_at", "post_id", "platform", "is_repost", "reposted_from", "is_reply", "reply_to",
         "is_quote", "quoted_from", "quoted_text")
"""The fields a post is made from, in the order :meth:`RowReader.__call__` unpacks them."""
_NO_COLUMN = object()
"""Looked up for a field the table has no column for: no row has it, so it reads as an empty cell."""


def _cell(value: Any) -> Any:
    """A cell's value, or None when it is empty: the common types first, as every cell passes here."""
    kind = value.__class__
    if kind is str:
        return value if value and not value.isspace() else None
    if value is None or kind is bool or kind is int:
        return value
    return None if _is_missing(value) else value


class RowReader:
    """The rows of one table as canonical posts.

    What depends on the columns alone (which fields the table has, which conventions apply) is
    worked out once, not for each of millions of rows. ``RowReader(columns, account, platform)(row,
    fallback_id)`` is ``row_to_post(row, columns, account, platform, fallback_id)``.
    """

    def __init__(self, columns: Mapping[str, str], account: str | None = None, platform: str | None = None) -> None:
        self.lookup = tuple(columns.get(field) or _NO_COLUMN for field in _READ)
        self.account = account
        self.platform = platform
        self.has_is_reply = "is_reply" in columns
        self.has_reply_to = "reply_to" in columns
        self.allow_missing_date = "created_at" not in columns
        self.passthrough = [(field, columns[field] or _NO_COLUMN) for field in PASSTHROUGH if field in columns]

    def __call__(self, row: Mapping[str, Any], fallback_id: str) -> dict:
        (text, author, created_at, post_id, net, is_repost, reposted_from, is_reply, reply_to, is_quote, quoted_from,
         quoted_text) = map(row.get, self.lookup)
        # Empty cells read as None (parse_bool sees to its own). As _cell(None) is None, and a bool
        # is parsed as itself, those calls are skipped: every row passes here.
        text, author, created_at, post_id, net = _cell(text), _cell(author), _cell(created_at), _cell(post_id), _cell(net)
        if reposted_from is not None:
            reposted_from = _cell(reposted_from)
        if reply_to is not None:
            reply_to = _cell(reply_to)
        if quoted_from is not None:
            quoted_from = _cell(quoted_from)
        if quoted_text is not None:
            quoted_text = _cell(quoted_text)
        text = "" if text is None else str(text)
        author = author or self.account
        if author is None:
            raise ValueError("no account (empty account cell; pass --account)")
        author = normalize_handle(str(author)) or ""
        is_repost = is_repost if is_repost.__class__ is bool else parse_bool(is_repost)
        rt_user, rest = split_retweet_prefix(text) if "@" in text else (None, text)
        if rt_user:
            is_repost, text = True, rest
            reposted_from = reposted_from or rt_user
        if self.has_reply_to or self.has_is_reply:
            if not self.has_is_reply:
                is_reply = reply_to is not None
            elif is_reply.__class__ is not bool:
                is_reply = parse_bool(is_reply)
            if is_reply and reply_to is None and not self.has_reply_to and not is_repost:
                reply_to = leading_mention(text)
        else:
            reply_to = None if is_repost else leading_mention(text)
            is_reply = reply_to is not None
        net = net or self.platform or infer_platform(author)
        post = make_post(
            platform=str(net).strip().lower(),
            account=author,
            post_id=fallback_id if post_id is None else post_id,
            created_at=created_at,
            text=text,
            is_repost=is_repost,
            is_quote=is_quote if is_quote.__class__ is bool else parse_bool(is_quote),
            reposted_from=str(reposted_from) if reposted_from is not None else None,
            reply_to=str(reply_to) if reply_to is not None else None,
            is_reply=is_reply,
            quoted_from=quoted_from,
            quoted_text=quoted_text,
            allow_missing_date=self.allow_missing_date,
        )
        for field, column in self.passthrough:
            value = _cell(row.get(column))
            post[field] = str(value).strip() if value is not None else None
        return post


def iter_table(path: Path, account: str | None = None, columns: ColumnMap | None = None,
               platform: str | None = None, span: Span | None = None) -> Iterator[Item]:
    """Posts of a CSV/TSV/JSONL/JSON/Parquet table; with a span, of the JSONL lines starting inside it."""
    columns = columns or ColumnMap.from_config()
    kind = _layout(path)
    if kind == ".parquet":
        yield from _iter_parquet(path, account, columns, platform)
    elif kind in _DELIMITED:
        yield from _iter_csv(path, account, columns, platform, delimiter="\t" if kind == ".tsv" else None)
    else:
        yield from _iter_json_records(path, account, columns, platform, span)


_DELIMITED = (".csv", ".tsv", ".txt")


def _layout(path: Path) -> str:
    """The table's layout from its suffix (``.gz`` aside): ``.parquet``, ``.csv``... or JSON."""
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    return suffixes[-1] if suffixes else ""


def reads_as_jsonl(path: Path) -> bool:
    """Whether :func:`iter_table` reads this table line by line (so a span can cut it)."""
    kind = _layout(path)
    return kind != ".parquet" and kind not in _DELIMITED and _head_is_jsonl(read_head(path))


def _rows_to_items(rows: Iterable[tuple[int, Any]], by_line: bool, source: str, stem: str, resolved: dict[str, str],
                   account: str | None, platform: str | None) -> Iterator[Item]:
    """Posts and rejects of ``(number, row)`` pairs: rows numbered by line of the file, or by record."""
    read = RowReader(resolved, account, platform)
    for number, row in rows:
        if isinstance(row, dict):
            try:
                yield read(row, f"{stem}:{number}")
                continue
            except ValueError as exc:
                reason = str(exc)
        elif isinstance(row, Reject):
            yield row
            continue
        else:
            reason = "record is not an object"
        yield Reject(source, number, reason) if by_line else Reject(source, None, reason, number)


def _iter_csv(path: Path, account: str | None, columns: ColumnMap, platform: str | None,
              delimiter: str | None) -> Iterator[Item]:
    source = str(path)
    check_not_empty(path)  # empty and unreadable files fail here, with the file named
    with open_text(path) as handle:
        if delimiter is None:
            sample = handle.read(64 * 1024)
            handle.seek(0)
            first_line = sample.split("\n", 1)[0]
            delimiter = max(",;\t|", key=first_line.count) if first_line else ","
        reader = csv.DictReader(handle, delimiter=delimiter)
        try:
            header = reader.fieldnames or []
        except csv.Error as exc:
            raise FeedError(source, f"not a readable CSV ({exc})", line=1) from None
        resolved = columns.resolve(header, source, account is not None)

        def rows() -> Iterator[tuple[int, Any]]:
            start = reader.line_num + 1
            while True:
                try:
                    row = next(reader)
                except StopIteration:
                    return
                except READ_ERRORS as exc:  # e.g. a .csv.gz cut off mid-way
                    raise unreadable(source, exc, line=start) from None
                except csv.Error as exc:
                    yield start, Reject(source, start, f"malformed CSV row: {exc}")
                    start = reader.line_num + 1
                    continue
                if None in row:
                    yield start, Reject(source, start, f"row has {len(header) + len(row[None])} fields, header has {len(header)}")
                else:
                    yield start, row
                start = reader.line_num + 1

        yield from _rows_to_items(rows(), True, source, path.stem, resolved, account, platform)


def _iter_json_records(path: Path, account: str | None, columns: ColumnMap, platform: str | None,
                       span: Span | None = None) -> Iterator[Item]:
    source = str(path)
    if _head_is_jsonl(read_head(path)):
        # Columns come from the head of the file, whatever the span, so every span maps them alike.
        with closing(iter_jsonl(path)) as head_records:
            keys = _record_keys(obj for _, obj in head_records)
        rows: Iterable[tuple[int, Any]] = iter_jsonl(path, span)
        by_line = True
    else:
        data = parse_json_document(read_text(path), source)
        if not isinstance(data, list):
            raise FeedError(source, "expected a JSON array of records or one record per line")
        keys = _record_keys(data)
        rows, by_line = enumerate(data, start=1), False
    if not keys:
        raise FeedError(source, "no JSON records found")
    resolved = columns.resolve(keys, source, account is not None)
    yield from _rows_to_items(rows, by_line, source, path.stem, resolved, account, platform)


def _head_is_jsonl(head: str) -> bool:
    """Whether a JSON table is read line by line: anything but a JSON array is taken for JSONL."""
    return looks_like_jsonl(head) or not head.lstrip().startswith("[")


def _record_keys(records: Iterable[Any]) -> list[str]:
    """The keys of the first 200 records, in order: the columns a JSON table is resolved from."""
    keys: list[str] = []
    for obj in islice(records, 200):
        if isinstance(obj, dict):
            keys.extend(k for k in obj if k not in keys)
    return keys


def _iter_parquet(path: Path, account: str | None, columns: ColumnMap, platform: str | None) -> Iterator[Item]:
    import pyarrow.parquet as pq

    source = str(path)
    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for damaged files
        raise FeedError(source, f"not a readable Parquet file ({exc.__class__.__name__}: {str(exc)[:80]})") from None
    resolved = columns.resolve(parquet.schema_arrow.names, source, account is not None)

    def rows() -> Iterator[tuple[int, Any]]:
        index = 0
        for batch in parquet.iter_batches(batch_size=10_000, columns=sorted(set(resolved.values()))):
            for row in batch.to_pylist():
                index += 1
                yield index, row

    yield from _rows_to_items(rows(), False, source, path.stem, resolved, account, platform)
