"""The canonical post table that every reader returns and every later stage consumes.

One row per post. Handles are lower-case without the leading ``@`` (``glazegeek``,
``wren@fosstodon.org``, ``sol-runs.bsky.social``). For a re-share, ``text`` is the re-shared
post's text, ``reposted_from`` its author, and ``mentions_self`` says whether that text mentions
the account that re-shared it: the vanity signal.
"""

from __future__ import annotations

import html
import json
import math
import os
import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

COLUMNS: list[str] = [
    "platform",
    "account",
    "post_id",
    "created_at",
    "text",
    "is_repost",
    "is_quote",
    "is_reply",
    "is_self_reply",
    "reposted_from",
    "reply_to",
    "mentions",
    "mentions_self",
    "urls",
    "hashtags",
]
"""The canonical columns, in order. Other stages and external checks rely on these names."""

EXTRA_COLUMNS: list[str] = ["quoted_from", "quoted_text"]
"""Optional context kept when a feed has it: the quoted post of a quote post."""

BOOL_COLUMNS = ("is_repost", "is_quote", "is_reply", "is_self_reply", "mentions_self")
LIST_COLUMNS = ("mentions", "urls", "hashtags")
PLATFORMS = ("twitter", "mastodon", "bluesky", "linkedin", "facebook", "other")

# A Twitter handle is 1-15 word characters; a Mastodon one may carry @host; a Bluesky one is a
# domain name. One permissive pattern, trimmed per platform in `extract_mentions`.
_MENTION = re.compile(
    r"(?<![\w@/.])@([A-Za-z0-9_](?:[A-Za-z0-9_.\-]*[A-Za-z0-9_])?"
    r"(?:@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+)?)"
)
_TWITTER_HANDLE = re.compile(r"[A-Za-z0-9_]+")
URL_PATTERN = re.compile(
    r"(?:https?://|www\.)[^\s<>\"]+"
    r"|\b(?:bit\.ly|ow\.ly|buff\.ly|t\.co|goo\.gl|tinyurl\.com|instagr\.am|lnkd\.in|youtu\.be|fb\.me)/[^\s<>\"]+",
    re.IGNORECASE,
)
_HASHTAG = re.compile(r"(?<![\w&#/])[#＃](\w*[^\W\d_]\w*)")
_RT_PREFIX = re.compile(r"^\s*RT\s+@([A-Za-z0-9_.\-@]+?):?\s+", re.IGNORECASE)
_LEADING_MENTIONS = re.compile(r"^\s*\.?((?:@[^\s@][^\s]*\s*)+)")
_TRAILING_PUNCT = ".,;:!?)]}'\"…»”’"


def normalize_handle(handle: str | None) -> str | None:
    """Lower-case a handle and drop a leading ``@``; empty becomes ``None``."""
    if handle is None:
        return None
    handle = str(handle).strip().lstrip("@").strip().lower()
    return handle or None


def clean_text(text: str | None) -> str:
    """Decode HTML entities (repeatedly, for double-escaped sources) and normalise newlines."""
    if text is None:
        return ""
    text = str(text)
    for _ in range(3):
        decoded = html.unescape(text)
        if decoded == text:
            break
        text = decoded
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", text).strip()


def extract_urls(text: str) -> list[str]:
    """URLs in a post's text, trailing punctuation trimmed."""
    urls = []
    for match in URL_PATTERN.finditer(text):
        url = match.group(0).rstrip(_TRAILING_PUNCT)
        if len(url) > 4:
            urls.append(url)
    return urls


def is_link_only(text: str) -> bool:
    """A bare link: a URL and at most one word besides links and @handles."""
    if not URL_PATTERN.search(text):
        return False
    words = [w for w in URL_PATTERN.sub(" ", text).split() if not w.startswith("@") and any(c.isalnum() for c in w)]
    return len(words) <= 1


def extract_mentions(text: str, platform: str = "other") -> list[str]:
    """@-handles named in a post's text, normalised, in order, without repeats."""
    text_wo_urls = URL_PATTERN.sub(" ", text)
    found: list[str] = []
    for match in _MENTION.finditer(text_wo_urls):
        handle = match.group(1)
        if platform == "twitter":
            m = _TWITTER_HANDLE.match(handle)
            handle = m.group(0) if m else ""
        elif platform == "mastodon":
            handle = handle.rstrip(".-")
        handle = normalize_handle(handle) or ""
        if handle and handle not in found:
            found.append(handle)
    return found


def extract_hashtags(text: str) -> list[str]:
    """Hashtags without ``#``, lower-cased, in order, without repeats."""
    tags: list[str] = []
    for match in _HASHTAG.finditer(URL_PATTERN.sub(" ", text)):
        tag = match.group(1).lower()
        if tag not in tags:
            tags.append(tag)
    return tags


def split_retweet_prefix(text: str) -> tuple[str | None, str]:
    """Split ``RT @user: text`` into ``("user", "text")``; ``(None, text)`` when absent."""
    match = _RT_PREFIX.match(text)
    if not match:
        return None, text
    return normalize_handle(match.group(1).rstrip(":")), text[match.end():]


def leading_mention(text: str) -> str | None:
    """The first handle of a post that opens with @-mentions (the old reply convention)."""
    stripped = text.lstrip()
    if not stripped.startswith("@"):
        return None
    mentions = extract_mentions(stripped.split(None, 1)[0])
    return mentions[0] if mentions else None


def same_account(handle: str | None, account: str | None) -> bool:
    """Whether a handle names the account: exact, or a host-less Mastodon handle of it."""
    if not handle or not account:
        return False
    if handle == account:
        return True
    if "@" in account and "@" not in handle:
        return account.split("@", 1)[0] == handle
    if "@" in handle and "@" not in account:
        return handle.split("@", 1)[0] == account
    return False


def parse_time(value: Any) -> datetime:
    """Parse the timestamps feeds really carry into an aware UTC datetime.

    ISO-8601 (with ``Z`` or an offset, or naive = UTC), Twitter's ``Wed Oct 10 20:19:24 +0000
    2018``, ``2018-10-10 20:19:24``, and epoch seconds or milliseconds. Raises ``ValueError``.
    """
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value) / 1000 if value > 1e11 else float(value)
        moment = datetime.fromtimestamp(seconds, tz=timezone.utc)
    elif isinstance(value, str) and value.strip():
        raw = value.strip()
        if raw.isdigit():
            return parse_time(int(raw))
        try:
            moment = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            try:
                moment = datetime.strptime(raw, "%a %b %d %H:%M:%S %z %Y")
            except ValueError:
                raise ValueError(f"unparseable date {raw[:40]!r}") from None
    else:
        raise ValueError(f"missing or unparseable date {value!r:.40}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    moment = moment.astimezone(timezone.utc)
    if not (1990 <= moment.year <= 2100):
        raise ValueError(f"date out of range {moment.isoformat()}")
    return moment


def make_post(
    *,
    platform: str,
    account: str,
    post_id: Any,
    created_at: Any,
    text: str | None,
    is_repost: bool = False,
    is_quote: bool = False,
    reposted_from: str | None = None,
    reply_to: str | None = None,
    is_reply: bool | None = None,
    mentions: Iterable[str] | None = None,
    urls: Iterable[str] | None = None,
    hashtags: Iterable[str] | None = None,
    quoted_from: str | None = None,
    quoted_text: str | None = None,
    allow_missing_date: bool = False,
) -> dict[str, Any]:
    """Build one canonical post, deriving what can be derived.

    Raises ``ValueError`` with a short reason when the record cannot be a post (no account,
    no text, bad date); readers turn that into a rejected record.
    """
    account_n = normalize_handle(account)
    if not account_n:
        raise ValueError("no account (pass --account)")
    text = clean_text(text)
    if not text and not is_repost:
        raise ValueError("post has no text")
    if post_id is None or str(post_id).strip() == "":
        raise ValueError("post has no id")
    moment = None if created_at is None and allow_missing_date else parse_time(created_at)
    reply_to_n = normalize_handle(reply_to)
    reply = bool(reply_to_n) if is_reply is None else bool(is_reply)
    mention_list = _unique(normalize_handle(m) for m in mentions) if mentions is not None else (
        extract_mentions(text, platform)
    )
    url_list = list(urls) if urls is not None else extract_urls(text)
    tag_list = _unique(str(t).lstrip("#").lower() for t in hashtags) if hashtags is not None else (
        extract_hashtags(text)
    )
    return {
        "platform": platform,
        "account": account_n,
        "post_id": str(post_id),
        "created_at": moment,
        "text": text,
        "is_repost": bool(is_repost),
        "is_quote": bool(is_quote),
        "is_reply": reply,
        "is_self_reply": reply and same_account(reply_to_n, account_n),
        "reposted_from": normalize_handle(reposted_from),
        "reply_to": reply_to_n,
        "mentions": mention_list,
        "mentions_self": any(same_account(m, account_n) for m in mention_list),
        "urls": url_list,
        "hashtags": tag_list,
        "quoted_from": normalize_handle(quoted_from),
        "quoted_text": clean_text(quoted_text) if quoted_text else None,
    }


def _unique(items: Iterable[str | None]) -> list[str]:
    out: list[str] = []
    for item in items:
        if item and item not in out:
            out.append(item)
    return out


def to_frame(posts: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Canonical DataFrame from post dicts, with fixed dtypes even when empty."""
    rows = list(posts)
    columns = COLUMNS + EXTRA_COLUMNS
    frame = pd.DataFrame.from_records(rows, columns=columns) if rows else pd.DataFrame(
        {c: [] for c in columns}
    )
    return conform(frame)


def conform(frame: pd.DataFrame) -> pd.DataFrame:
    """Give a canonical table its dtypes: UTC timestamps, booleans, object lists and strings."""
    frame = frame.copy()
    for column in EXTRA_COLUMNS:
        if column not in frame:
            frame[column] = None
    frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
    for column in BOOL_COLUMNS:
        frame[column] = frame[column].fillna(False).astype(bool)
    for column in LIST_COLUMNS:
        frame[column] = frame[column].map(_as_list).astype(object)
    for column in ("platform", "account", "post_id", "text"):
        frame[column] = frame[column].astype(object).where(frame[column].notna(), "").astype(str)
    for column in ("reposted_from", "reply_to", "quoted_from", "quoted_text"):
        frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    return frame[COLUMNS + EXTRA_COLUMNS].reset_index(drop=True)


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value else []
    try:
        return [str(v) for v in value]
    except TypeError:
        return []


def write_posts(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a post table as Parquet, JSONL or CSV (by suffix), atomically (write, then rename).

    CSV cells of list columns hold JSON arrays; timestamps are ISO-8601 UTC.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".parquet", ".jsonl", ".csv"):
        from .errors import SociabilityError

        raise SociabilityError(f"{path}: output must end in .parquet, .jsonl or .csv, got {suffix or 'no suffix'!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    out = frame.copy()
    if suffix == ".parquet":
        out.to_parquet(tmp, index=False)
    else:
        for column in out.columns:
            if pd.api.types.is_datetime64_any_dtype(out[column]):
                out[column] = out[column].map(lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ") if pd.notna(t) else None)
        if suffix == ".jsonl":
            with open(tmp, "w", encoding="utf-8") as handle:
                for record in out.to_dict(orient="records"):
                    handle.write(json.dumps(record, ensure_ascii=False, default=_json_default) + "\n")
        else:
            for column in LIST_COLUMNS:
                if column in out:
                    out[column] = out[column].map(lambda v: json.dumps(list(v), ensure_ascii=False))
            out.to_csv(tmp, index=False)
    os.replace(tmp, path)
    return path


def _json_default(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, float) and math.isnan(value):
        return None
    return str(value)
