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
from functools import lru_cache
from itertools import chain
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
# domain name. One permissive pattern, trimmed per platform in `extract_mentions`. The '@' opens
# the pattern and the look-behind after it checks the character before the '@' (no word
# character, '@', '/' or '.'): a pattern that opens with a literal lets the regex engine jump
# from '@' to '@' instead of trying every position, three times faster.
_MENTION = re.compile(
    r"@(?<![\w@/.]@)([A-Za-z0-9_](?:[A-Za-z0-9_.\-]*[A-Za-z0-9_])?"
    r"(?:@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+)?)"
)
_TWITTER_HANDLE = re.compile(r"[A-Za-z0-9_]+")
_SHORT_LINKS = ("bit.ly", "ow.ly", "buff.ly", "t.co", "goo.gl", "tinyurl.com", "instagr.am", "lnkd.in", "youtu.be", "fb.me")
URL_PATTERN = re.compile(
    r"(?:https?://|www\.)[^\s<>\"]+"
    r"|\b(?:" + "|".join(map(re.escape, _SHORT_LINKS)) + r")/[^\s<>\"]+",
    re.IGNORECASE,
)
_HASHTAG = re.compile(r"[#＃](?<![\w&#/][#＃])(\w*[^\W\d_]\w*)")  # '#' first, as for _MENTION
_RT_PREFIX = re.compile(r"^\s*RT\s+@([A-Za-z0-9_.\-@]+?):?\s+", re.IGNORECASE)
_LEADING_MENTIONS = re.compile(r"^\s*\.?((?:@[^\s@][^\s]*\s*)+)")
_TRAILING_PUNCT = ".,;:!?)]}'\"…»”’"


def normalize_handle(handle: str | None) -> str | None:
    """Lower-case a handle and drop a leading ``@``; empty becomes ``None``."""
    if handle is None:
        return None
    return _normalized(str(handle))


@lru_cache(maxsize=1 << 14)
def _normalized(handle: str) -> str | None:
    """:func:`normalize_handle` of a string, remembered: a feed names the same few accounts on every post."""
    return handle.strip().lstrip("@").strip().lower() or None


def clean_text(text: str | None) -> str:
    """Decode HTML entities (repeatedly, for double-escaped sources) and normalise newlines.

    Each step is skipped when it cannot change the text (no ``&``, no ``\\r``, ASCII only):
    every post passes through here.
    """
    if text is None:
        return ""
    text = str(text)
    if "&" in text:
        for _ in range(3):
            decoded = html.unescape(text)
            if decoded == text:
                break
            text = decoded
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.isascii():
        text = unicodedata.normalize("NFC", _LONE_SURROGATE.sub("\ufffd", text))
    return text.strip()


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
"""Half of a UTF-16 pair, which JSON can escape (``"\\ud800"``) but no UTF-8 text can hold:
replaced, or the post could not be stored."""


_SCHEME_STARTS = (len("https:"), len("http:"))
_SHORT_LINK_STARTS = tuple(sorted({len(domain) for domain in _SHORT_LINKS}, reverse=True))
"""How far before its first ``/`` a URL_PATTERN match starts: after a ``:``, a scheme's length, else
a short link's (every match holds a ``/`` but those starting ``www.``). Farthest first, as the
leftmost match is the one wanted."""
_URL_REACH = _SHORT_LINK_STARTS[0]


def _url_matches(text: str) -> list[re.Match[str]]:
    """URL_PATTERN's matches in the text, trying only where one can start.

    The regex costs ~200 ns a character searched, and half of all posts hold no URL. A match
    starts with ``www.`` (any case), or holds a ``/`` and starts a fixed distance before the
    first one it holds (see :data:`_SHORT_LINK_STARTS`): without ``www.`` in the text, the regex
    is tried at those few places alone.
    """
    lowered = text.lower() if "w." in text or "W." in text else ""
    if "www." in lowered:
        return _url_matches_with_www(text, lowered)
    matches = []
    end = 0
    while (slash := text.find("/", end)) >= 0:
        distances = _SCHEME_STARTS if text[slash - 1:slash] == ":" else _SHORT_LINK_STARTS
        for distance in distances:
            start = slash - distance
            if start >= end and (match := URL_PATTERN.match(text, start)):
                matches.append(match)
                end = match.end()
                break
        else:
            end = slash + 1
    return matches


def _url_matches_with_www(text: str, lowered: str) -> list[re.Match[str]]:
    """:func:`_url_matches` where the text holds ``www.``: the regex searches on from where the next match may start."""
    if len(lowered) != len(text):  # a character lowered to two: positions in ``lowered`` are not the text's
        return list(URL_PATTERN.finditer(text))
    matches = []
    end = 0
    while True:
        www = lowered.find("www.", end)
        slash = text.find("/", end)
        starts = [www] if www >= 0 else []
        if slash >= 0:
            starts.append(max(end, slash - _URL_REACH))
        match = URL_PATTERN.search(text, min(starts)) if starts else None
        if match is None:
            return matches
        matches.append(match)
        end = match.end()


def _without_urls(text: str, matches: list[re.Match[str]]) -> str:
    """The text with each URL replaced by a space: ``URL_PATTERN.sub(" ", text)``, from its matches."""
    if not matches:
        return text
    pieces = []
    end = 0
    for match in matches:
        pieces.append(text[end:match.start()])
        end = match.end()
    pieces.append(text[end:])
    return " ".join(pieces)


def _urls_of(matches: list[re.Match[str]]) -> list[str]:
    urls = []
    for match in matches:
        url = match.group(0).rstrip(_TRAILING_PUNCT)
        if len(url) > 4:
            urls.append(url)
    return urls


def extract_urls(text: str) -> list[str]:
    """URLs in a post's text, trailing punctuation trimmed."""
    return _urls_of(_url_matches(text))


def is_link_only(text: str) -> bool:
    """A bare link: a URL and at most one word besides links and @handles."""
    matches = _url_matches(text)
    if not matches:
        return False
    words = 0
    for w in _without_urls(text, matches).split():  # stops at the second word: most posts with a link have many
        if not w.startswith("@") and (w.isalnum() or any(c.isalnum() for c in w)):
            words += 1
            if words > 1:
                return False
    return True


def extract_mentions(text: str, platform: str = "other") -> list[str]:
    """@-handles named in a post's text, normalised, in order, without repeats."""
    if "@" not in text:
        return []
    return _mentions(_without_urls(text, _url_matches(text)), platform)


def _mentions(text_wo_urls: str, platform: str) -> list[str]:
    if "@" not in text_wo_urls:
        return []
    found: list[str] = []
    for match in _MENTION.finditer(text_wo_urls):
        handle = match.group(1)
        if platform == "twitter":
            if "." in handle or "-" in handle or "@" in handle:
                handle = _TWITTER_HANDLE.match(handle).group(0)
        elif platform == "mastodon":
            handle = handle.rstrip(".-")
        # normalize_handle's work: the pattern's handles are ASCII, open with a letter, digit or '_'.
        handle = handle.lower()
        if handle not in found:
            found.append(handle)
    return found


def extract_hashtags(text: str) -> list[str]:
    """Hashtags without ``#``, lower-cased, in order, without repeats."""
    if "#" not in text and "＃" not in text:
        return []
    return _hashtags(_without_urls(text, _url_matches(text)))


def _hashtags(text_wo_urls: str) -> list[str]:
    if "#" not in text_wo_urls and "＃" not in text_wo_urls:
        return []
    tags: list[str] = []
    for match in _HASHTAG.finditer(text_wo_urls):
        tag = match.group(1).lower()
        if tag not in tags:
            tags.append(tag)
    return tags


def split_retweet_prefix(text: str) -> tuple[str | None, str]:
    """Split ``RT @user: text`` into ``("user", "text")``; ``(None, text)`` when absent."""
    match = _RT_PREFIX.match(text) if "@" in text else None
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
    if isinstance(value, str) and (raw := value.strip()):  # the common case first
        if raw.isdigit():
            return parse_time(int(raw))
        try:
            moment = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            try:
                moment = datetime.strptime(raw, "%a %b %d %H:%M:%S %z %Y")
            except ValueError:
                raise ValueError(f"unparseable date {raw[:40]!r}") from None
    elif isinstance(value, datetime):
        moment = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            seconds = float(value) / 1000 if value > 1e11 else float(value)
            moment = datetime.fromtimestamp(seconds, tz=timezone.utc)
        except (OverflowError, OSError):  # inf, or beyond what the platform's time functions hold
            raise ValueError(f"date out of range {value!r:.40}") from None
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
    # Every post passes here: calls that cannot change a value (on None, on text without '@'...)
    # are skipped, as each costs about as much as the work it would do.
    reply_to_n = None if reply_to is None else normalize_handle(reply_to)
    reply = bool(reply_to_n) if is_reply is None else bool(is_reply)
    matches = _url_matches(text)  # once, for the URLs and for the text that mentions and hashtags come from
    text_wo_urls = _without_urls(text, matches) if matches else text
    if mentions is not None:
        mention_list = _unique(normalize_handle(m) for m in mentions)
    else:
        mention_list = _mentions(text_wo_urls, platform) if "@" in text_wo_urls else []
    url_list = list(urls) if urls is not None else _urls_of(matches) if matches else []
    if hashtags is not None:
        tag_list = _unique(str(t).lstrip("#").lower() for t in hashtags)
    else:
        tag_list = _hashtags(text_wo_urls) if "#" in text_wo_urls or "＃" in text_wo_urls else []
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
        "reposted_from": None if reposted_from is None else normalize_handle(reposted_from),
        "reply_to": reply_to_n,
        "mentions": mention_list,
        "mentions_self": bool(mention_list) and any(same_account(m, account_n) for m in mention_list),
        "urls": url_list,
        "hashtags": tag_list,
        "quoted_from": None if quoted_from is None else normalize_handle(quoted_from),
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
    # Plain objects first: conform gives each column its dtype once, without pandas guessing first.
    frame = pd.DataFrame(rows, columns=columns, dtype=object) if rows else pd.DataFrame(
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
        values = frame[column].to_numpy()
        if values.dtype == object and _all_of_type(values, bool):  # as make_post builds them: no NA to fill
            frame[column] = values.astype(bool)
        else:
            frame[column] = frame[column].fillna(False).astype(bool)
    for column in LIST_COLUMNS:
        if not _holds_str_lists(frame[column]):
            frame[column] = frame[column].map(_as_list).astype(object)
    for column in ("platform", "account", "post_id", "text"):
        frame[column] = frame[column].astype(object).where(frame[column].notna(), "").astype(str)
    for column in ("reposted_from", "reply_to", "quoted_from", "quoted_text"):
        frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    return frame[COLUMNS + EXTRA_COLUMNS].reset_index(drop=True)


def _holds_str_lists(column: pd.Series) -> bool:
    """Whether every cell already is a list of strings, as :func:`make_post` builds them."""
    if column.dtype != object:
        return False
    cells = column.tolist()
    return _all_of_type(cells, list) and _all_of_type(chain.from_iterable(cells), str)


def _all_of_type(values: Iterable[Any], kind: type) -> bool:
    """Whether every value is exactly of the type (none a subclass), in one pass in C."""
    return set(map(type, values)) <= {kind}


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
