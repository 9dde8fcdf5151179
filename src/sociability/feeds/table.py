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
    present: dict[str, Any] = {}
    for field, column in columns.items():
        value = row.get(column) if column else None
        if value is not None and not _is_missing(value):
            present[field] = value
    get = present.get  # a missing column or a blank cell reads as None

    text = get("text")
    text = "" if text is None else str(text)
    author = get("account") or account
    if author is None:
        raise ValueError("no account (empty account cell; pass --account)")
    author = normalize_handle(str(author)) or ""
    is_repost = parse_bool(get("is_repost"))
    reposted_from = get("reposted_from")
    rt_user, rest = split_retweet_prefix(text)
    if rt_user:
        is_repost, text = True, rest
        reposted_from = reposted_from or rt_user
    if "reply_to" in columns or "is_reply" in columns:
        reply_to = get("reply_to")
        is_reply = parse_bool(get("is_reply")) if "is_reply" in columns else reply_to is not None
        if is_reply and reply_to is None and "reply_to" not in columns and not is_repost:
            reply_to = leading_mention(text)
    else:
        reply_to = None if is_repost else leading_mention(text)
        is_reply = reply_to is not None
    net = get("platform") or platform or infer_platform(author)
    post = make_post(
        platform=str(net).strip().lower(),
        account=author,
        post_id=get("post_id", fallback_id),
        created_at=get("created_at"),
        text=text,
        is_repost=is_repost,
        is_quote=parse_bool(get("is_quote")),
        reposted_from=str(reposted_from) if reposted_from is not None else None,
        reply_to=str(reply_to) if reply_to is not None else None,
        is_reply=is_reply,
        quoted_from=get("quoted_from"),
        quoted_text=get("quoted_text"),
        allow_missing_date="created_at" not in columns,
    )
    for field in PASSTHROUGH:
        if field in columns:
            value = get(field)
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


def _rows_to_items(rows: Iterable[tuple[int | None, int | None, Any]], source: str, stem: str, resolved: dict[str, str],
                   account: str | None, platform: str | None) -> Iterator[Item]:
    for line, record, row in rows:
        if isinstance(row, Reject):
            yield row
            continue
        if not isinstance(row, dict):
            yield Reject(source, line, "record is not an object", record)
            continue
        try:
            yield row_to_post(row, resolved, account, platform, f"{stem}:{line or record}")
        except ValueError as exc:
            yield Reject(source, line, str(exc), record)


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

        def rows() -> Iterator[tuple[int | None, int | None, Any]]:
            start = reader.line_num + 1
            while True:
                try:
                    row = next(reader)
                except StopIteration:
                    return
                except READ_ERRORS as exc:  # e.g. a .csv.gz cut off mid-way
                    raise unreadable(source, exc, line=start) from None
                except csv.Error as exc:
                    yield start, None, Reject(source, start, f"malformed CSV row: {exc}")
                    start = reader.line_num + 1
                    continue
                if None in row:
                    yield start, None, Reject(source, start, f"row has {len(header) + len(row[None])} fields, header has {len(header)}")
                else:
                    yield start, None, row
                start = reader.line_num + 1

        yield from _rows_to_items(rows(), source, path.stem, resolved, account, platform)


def _iter_json_records(path: Path, account: str | None, columns: ColumnMap, platform: str | None,
                       span: Span | None = None) -> Iterator[Item]:
    source = str(path)
    if _head_is_jsonl(read_head(path)):
        # Columns come from the head of the file, whatever the span, so every span maps them alike.
        with closing(iter_jsonl(path)) as head_records:
            keys = _record_keys(obj for _, obj in head_records)
        rows: Iterable[tuple[int | None, int | None, Any]] = ((line, None, obj) for line, obj in iter_jsonl(path, span))
    else:
        data = parse_json_document(read_text(path), source)
        if not isinstance(data, list):
            raise FeedError(source, "expected a JSON array of records or one record per line")
        keys = _record_keys(data)
        rows = [(None, index, obj) for index, obj in enumerate(data, start=1)]
    if not keys:
        raise FeedError(source, "no JSON records found")
    resolved = columns.resolve(keys, source, account is not None)
    yield from _rows_to_items(rows, source, path.stem, resolved, account, platform)


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

    def rows() -> Iterator[tuple[int | None, int | None, Any]]:
        index = 0
        for batch in parquet.iter_batches(batch_size=10_000, columns=sorted(set(resolved.values()))):
            for row in batch.to_pylist():
                index += 1
                yield None, index, row

    yield from _rows_to_items(rows(), source, path.stem, resolved, account, platform)
