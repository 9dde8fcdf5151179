"""Reading the feeds users really hold into the canonical post table.

>>> from sociability import read_feed
>>> result = read_feed("twitter-archive.zip")          # doctest: +SKIP
>>> result.posts.head(), result.n_read, result.rejects  # doctest: +SKIP

Formats are detected from the file itself; ``format=`` forces one. Every record read is
accounted for: it becomes a post, or a :class:`Reject` with its reason.

A big JSONL feed can be read by several processes at once, each its own byte range:

>>> spans = split_lines("tweets.jsonl", parts=8)                  # doctest: +SKIP
>>> posts = read_feed("tweets.jsonl", span=spans[3]).posts        # doctest: +SKIP
"""

from __future__ import annotations

import json
import tarfile
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import FeedError
from ..posts import to_frame
from . import bluesky, mastodon, table, twitter
from ._io import Item, Reject, Span, is_gzip, looks_like_jsonl, read_head, split_lines
from .table import ColumnMap

__all__ = [
    "FORMATS", "FeedResult", "Reject", "ColumnMap", "Span", "detect_format", "iter_feed", "read_feed", "read_feeds",
    "split_lines", "splittable",
]

FORMATS: dict[str, str] = {
    "twitter-archive": "Twitter/X archive: the .zip, its folder, or data/tweets.js (also Grailbird)",
    "twitter-v1": "Twitter API v1.1 statuses (JSON array, {statuses: [...]}, or JSONL)",
    "twitter-v2": "Twitter API v2 / twarc2 (JSONL of response pages or flattened tweets)",
    "mastodon": "Mastodon outbox.json (or the export .zip/.tar.gz/folder holding it)",
    "bluesky": "Bluesky app.bsky.feed.getAuthorFeed JSON (page, list of pages, or JSONL)",
    "table": "CSV/TSV/JSONL/JSON array/Parquet table with a column mapping (twarc-csv too)",
}


@dataclass
class FeedResult:
    """Posts read from one or more feeds, with every rejected record and the counts that balance."""

    posts: pd.DataFrame
    rejects: list[Reject] = field(default_factory=list)
    n_read: int = 0
    files: list[str] = field(default_factory=list)

    @property
    def n_accepted(self) -> int:
        return len(self.posts)

    @property
    def n_rejected(self) -> int:
        return len(self.rejects)

    def summary(self) -> str:
        """``records read = posts accepted + records rejected``, in words."""
        return (
            f"{self.n_read:,} records read from {len(self.files)} file(s): "
            f"{self.n_accepted:,} posts accepted, {self.n_rejected:,} rejected"
        )

    def write_rejects(self, path: str | Path) -> None:
        """Rejected records as JSONL: source, line, record, reason."""
        with open(path, "w", encoding="utf-8") as handle:
            for reject in self.rejects:
                handle.write(json.dumps(reject.to_dict(), ensure_ascii=False) + "\n")


def _sniff_json(path: Path) -> str:
    """The kind of a JSON or JSONL file, from its head: the first record, or the document's opening."""
    head = read_head(path)
    stripped = head.lstrip()
    if looks_like_jsonl(head):
        return _kind_of(json.loads(stripped.split("\n", 1)[0]))
    if stripped.startswith(("window.", "Grailbird.")):
        return "twitter-archive"
    try:
        data = json.loads(head)
    except (json.JSONDecodeError, RecursionError):
        return _kind_of_opening(stripped)  # longer than the head, or broken: the reader reports the line
    if isinstance(data, list):
        return _kind_of(data[0] if data else None)
    return _kind_of(data)


_TELLTALE_KEYS = (
    ('"orderedItems"', "mastodon"), ('"feed"', "bluesky"), ('"includes"', "twitter-v2"),
    ('"author_id"', "twitter-v2"), ('"edit_history_tweet_ids"', "twitter-v2"), ('"id_str"', "twitter-v1"),
    ('"statuses"', "twitter-v1"),
)


def _kind_of_opening(stripped: str) -> str:
    """The kind of a JSON document seen only in part: its array's first record, else tell-tale keys."""
    if stripped.startswith("["):
        try:
            first, _ = json.JSONDecoder().raw_decode(stripped[1:].lstrip())
            return _kind_of(first)
        except (json.JSONDecodeError, RecursionError):
            pass
    for key, kind in _TELLTALE_KEYS:
        if key in stripped:
            return kind
    return "table"


def _kind_of(obj: Any) -> str:
    if mastodon.is_outbox(obj):
        return "mastodon"
    if bluesky.is_author_feed(obj) or isinstance(obj, dict) and isinstance(obj.get("post"), dict) and "record" in obj["post"]:
        return "bluesky"
    if twitter.is_v2_page(obj) or twitter.is_v2_tweet(obj):
        return "twitter-v2"
    if isinstance(obj, dict) and "statuses" in obj:
        return "twitter-v1"
    if twitter.is_v1_status(obj):
        return "twitter-v1"
    return "table"


def detect_format(path: str | Path) -> str:
    """The format of a feed, from its layout and content (not trusting the extension alone)."""
    path = Path(path)
    if not path.exists():
        raise FeedError(path, "no such file or folder")
    if path.is_dir():
        if (path / "outbox.json").is_file():
            return "mastodon"
        if any(twitter.is_archive_part(p.relative_to(path).as_posix()) for p in path.rglob("*.js")):
            return "twitter-archive"
        raise FeedError(path, "folder is neither a Twitter archive (data/tweets.js) nor a Mastodon export (outbox.json)")
    name = path.name.lower()
    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
        except zipfile.BadZipFile as exc:
            raise FeedError(path, f"damaged zip file ({exc})") from None
        if any(n.rsplit("/", 1)[-1] == "outbox.json" for n in names):
            return "mastodon"
        if any(twitter.is_archive_part(n) for n in names):
            return "twitter-archive"
        raise FeedError(path, "zip holds neither data/tweets.js (Twitter archive) nor outbox.json (Mastodon export)")
    if name.endswith((".tar.gz", ".tgz", ".tar")):
        if not tarfile.is_tarfile(path):
            raise FeedError(path, "not a readable tar archive")
        return "mastodon"
    if name.endswith(".zip"):
        raise FeedError(path, "not a readable zip file (truncated or damaged download?)")
    if name.endswith((".parquet", ".csv", ".tsv", ".csv.gz", ".tsv.gz")):
        return "table"
    if name.endswith((".js",)):
        return "twitter-archive"
    if name.endswith((".json", ".jsonl", ".ndjson", ".json.gz", ".jsonl.gz", ".ndjson.gz")):
        return _sniff_json(path)
    stripped = read_head(path).lstrip()
    if stripped.startswith(("window.", "Grailbird.")):
        return "twitter-archive"
    if stripped.startswith(("{", "[")):
        return _sniff_json(path)
    if "," in stripped.split("\n", 1)[0] or "\t" in stripped.split("\n", 1)[0]:
        return "table"
    raise FeedError(path, "unknown feed format (expected a Twitter archive, API JSON, Mastodon outbox, Bluesky feed, or CSV/JSONL/Parquet table)")


SPLITTABLE_FORMATS = ("table", "twitter-v1", "twitter-v2")
"""Formats whose JSONL files :func:`iter_feed` can read in byte ranges (see :func:`split_lines`)."""


def splittable(path: str | Path, format: str = "auto") -> bool:
    """Whether ``iter_feed(path, span=...)`` can read this file in byte ranges.

    Only uncompressed JSONL splits: tables and Twitter API statuses (v1.1 or v2/twarc2). JSON
    documents, archives, CSV, Parquet, gzip, Mastodon and Bluesky feeds (whose handles may be
    defined anywhere in the file) are read whole. Raises FeedError when the file cannot be read.
    """
    path = Path(path)
    return _split_problem(path, detect_format(path) if format == "auto" else format) is None


def _split_problem(path: Path, kind: str) -> str | None:
    """Why a feed cannot be read in byte ranges, or None when it can."""
    if kind not in SPLITTABLE_FORMATS or not path.is_file():
        return f"a {kind} feed cannot be split into byte ranges (only JSONL tables and Twitter API JSONL can)"
    if is_gzip(path):
        return "a gzip file cannot be split into byte ranges (decompress it, or read it whole)"
    jsonl = table.reads_as_jsonl(path) if kind == "table" else looks_like_jsonl(read_head(path))
    return None if jsonl else f"this {kind} file is not JSONL, so it cannot be split into byte ranges; read it whole"


def iter_feed(path: str | Path, format: str = "auto", account: str | None = None,
              columns: ColumnMap | None = None, platform: str | None = None, *,
              span: Span | None = None) -> Iterator[Item]:
    """Yield one item per record of a feed: a canonical post dict or a :class:`Reject`.

    With a ``span`` from :func:`split_lines`, only the records on lines starting inside that
    byte range, numbered as in the whole file: spans of one file together yield exactly what
    the whole file does. Raises :class:`~sociability.errors.FeedError` when the file as a whole
    cannot be read, or cannot be split (see :func:`splittable`).
    """
    path = Path(path)
    kind = detect_format(path) if format == "auto" else format
    account = account.lstrip("@").lower() if account else None
    readers: Mapping[str, Callable[[], Iterator[Item]]] = {
        "twitter-archive": lambda: twitter.iter_archive(path, account),
        "twitter-v1": lambda: twitter.iter_api_v1(path, account, span),
        "twitter-v2": lambda: twitter.iter_api_v2(path, account, span),
        "mastodon": lambda: mastodon.iter_outbox(path, account),
        "bluesky": lambda: bluesky.iter_author_feed(path, account),
        "table": lambda: table.iter_table(path, account, columns, platform, span),
    }
    if kind not in readers:
        raise FeedError(path, f"unknown format {kind!r}; choose one of: {', '.join(FORMATS)}")
    if not path.exists():
        raise FeedError(path, "no such file or folder")
    if span is not None and (problem := _split_problem(path, kind)):
        raise FeedError(path, problem)
    for item in readers[kind]():
        if isinstance(item, dict):
            if not item.get("account"):
                item = Reject(str(path), None, "no account handle in the feed (pass --account)", None)
            elif platform and kind != "table":
                item["platform"] = platform
        yield item


def read_feed(path: str | Path, format: str = "auto", account: str | None = None,
              columns: ColumnMap | None = None, platform: str | None = None, *,
              span: Span | None = None) -> FeedResult:
    """Read one feed into the canonical table.

    Parameters
    ----------
    path : a file or folder in one of :data:`FORMATS`.
    format : ``"auto"`` (detect) or one of :data:`FORMATS`.
    account : the account's handle when the feed does not say it (e.g. a lone ``tweets.js``).
    columns : column mapping for tables; defaults to ``configs/columns.toml``.
    platform : override the network written in the ``platform`` column.
    span : read only this byte range of a JSONL file (see :func:`split_lines`, :func:`iter_feed`).
    """
    items = iter_feed(path, format=format, account=account, columns=columns, platform=platform, span=span)
    return _gather([(path, items)])


def read_feeds(paths: Iterable[str | Path], format: str = "auto", account: str | None = None,
               columns: ColumnMap | None = None, platform: str | None = None,
               progress: Callable[[int], None] | None = None) -> FeedResult:
    """Read several feeds into one canonical table (see :func:`read_feed`)."""
    feeds = ((path, iter_feed(path, format=format, account=account, columns=columns, platform=platform)) for path in paths)
    return _gather(feeds, progress)


def _gather(feeds: Iterable[tuple[str | Path, Iterator[Item]]], progress: Callable[[int], None] | None = None) -> FeedResult:
    """The canonical table of the feeds' posts, with their rejects and counts."""
    posts: list[dict] = []
    rejects: list[Reject] = []
    files: list[str] = []
    extras: dict[str, list[Any]] = {field: [] for field in table.PASSTHROUGH}
    for path, items in feeds:
        files.append(str(path))
        for item in items:
            if isinstance(item, Reject):
                rejects.append(item)
            else:
                for field, values in extras.items():
                    values.append(item.pop(field, _ABSENT))
                posts.append(item)
            if progress is not None:
                progress(1)
    frame = to_frame(posts)
    for field, values in extras.items():
        if any(value is not _ABSENT for value in values):
            frame[field] = [None if value is _ABSENT else value for value in values]
    return FeedResult(frame, rejects, len(posts) + len(rejects), files)


_ABSENT = object()
