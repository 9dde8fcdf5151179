"""Twitter/X feeds: the account archive, API v1.1 statuses, and API v2 / twarc2 output.

The archive comes as the downloaded ``.zip``, its unzipped folder, or ``data/tweets.js`` alone
(``window.YTD.tweets.part0 = [...]``, split into ``tweets-part1.js``...). Older "Grailbird"
archives (``data/js/tweets/2014_05.js``) hold v1.1 objects and are read too. Direct messages
live in other files of the archive and are never opened.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath
from typing import Any

from ..errors import FeedError
from ..posts import extract_urls, make_post, normalize_handle, split_retweet_prefix
from ._io import (
    Item, Reject, Span, as_dict, as_list, iter_jsonl, looks_like_jsonl, parse_js_assignment, parse_json_document, read_head,
    read_text,
)

# tweets.js, tweet.js, tweets-part1.js, and Grailbird month files; never direct-messages*.js or
# deleted-tweets.js.
_TWEET_PART = re.compile(r"(?:^|/)(?:tweets?(?:-part\d+)?\.js|js/tweets/\d{4}_\d{2}\.js)$")
_ACCOUNT_PART = re.compile(r"(?:^|/)account\.js$")
_STATUS_URL = re.compile(r"https?://(?:mobile\.)?(?:twitter|x)\.com/([A-Za-z0-9_]{1,15})/status(?:es)?/(\d+)")


# ---------------------------------------------------------------- archive


def is_archive_part(name: str) -> bool:
    return bool(_TWEET_PART.search(name.replace("\\", "/")))


def _part_order(name: str) -> tuple[int, str]:
    match = re.search(r"part(\d+)\.js$", name)
    return (int(match.group(1)) if match else 0, name)


def iter_archive(path: Path, account: str | None = None) -> Iterator[Item]:
    """Posts of a Twitter/X archive: a zip, its folder, or one tweets.js part."""
    parts: list[tuple[str, str]] = []  # (source name, text)
    account_text: tuple[str, str] | None = None
    if path.is_dir():
        files = sorted(p for p in path.rglob("*.js") if p.is_file())
        for file in files:
            rel = file.relative_to(path).as_posix()
            if is_archive_part(rel):
                parts.append((str(file), read_text(file)))
            elif _ACCOUNT_PART.search(rel) and account_text is None:
                account_text = (str(file), read_text(file))
        if not parts:
            raise FeedError(path, "folder holds no tweets.js (is it an unzipped Twitter archive?)")
    elif zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as archive:
                names = sorted(n for n in archive.namelist() if not n.endswith("/"))
                tweet_names = sorted((n for n in names if is_archive_part(n)), key=_part_order)
                if not tweet_names:
                    raise FeedError(path, "zip holds no data/tweets.js (is it a Twitter archive?)")
                for name in tweet_names:
                    parts.append((f"{path}:{name}", _member_text(archive, name, path)))
                account_names = [n for n in names if _ACCOUNT_PART.search(n)]
                if account_names:
                    name = account_names[0]
                    account_text = (f"{path}:{name}", _member_text(archive, name, path))
        except zipfile.BadZipFile as exc:
            raise FeedError(path, f"damaged zip file ({exc})") from None
    else:
        parts.append((str(path), read_text(path)))
        sibling = path.parent / "account.js"
        if sibling.is_file():
            account_text = (str(sibling), read_text(sibling))
    if account_text is not None and account is None:
        account = _account_from_js(*account_text)
    for source, text in parts:
        yield from _iter_part(text, source, account)


def _member_text(archive: zipfile.ZipFile, name: str, path: Path) -> str:
    try:
        data = archive.read(name)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise FeedError(f"{path}:{name}", f"damaged zip member ({exc})") from None
    text = data.decode("utf-8", errors="replace").lstrip("\ufeff")
    if not text.strip():
        raise FeedError(f"{path}:{name}", "file is empty")
    return text


def _account_from_js(source: str, text: str) -> str | None:
    data = parse_js_assignment(text, source)
    entries = data if isinstance(data, list) else [data]
    for entry in entries:
        info = as_dict(as_dict(entry).get("account"))
        handle = info.get("username") or info.get("screen_name")
        if isinstance(handle, str) and handle:
            return normalize_handle(handle)
    return None


def _iter_part(text: str, source: str, account: str | None) -> Iterator[Item]:
    data = parse_js_assignment(text, source)
    if not isinstance(data, list):
        raise FeedError(source, "archive part is not a list of tweets", line=1)
    for index, entry in enumerate(data, start=1):
        tweet = as_dict(entry).get("tweet", entry)
        if not isinstance(tweet, dict):
            yield Reject(source, None, "record is not a tweet object", index)
            continue
        try:
            yield status_to_post(tweet, account)
        except ValueError as exc:
            yield Reject(source, None, str(exc), index)


# ---------------------------------------------------------------- API v1.1


def _full_text(status: dict) -> str | None:
    extended = as_dict(status.get("extended_tweet"))
    for value in (extended.get("full_text"), status.get("full_text"), status.get("text")):
        if isinstance(value, str):
            return value
    return None


def _screen_name(status: dict) -> str | None:
    name = as_dict(status.get("user")).get("screen_name")
    return name if isinstance(name, str) else None


def _expanded_urls(status: dict, text: str) -> list[str]:
    """URLs in the text, each t.co link replaced by its expanded form where the entities say."""
    entities = as_dict(status.get("extended_tweet")).get("entities") or status.get("entities")
    expansions: dict[str, str] = {}
    for key in ("urls", "media"):
        for url in as_list(as_dict(entities).get(key)):
            url = as_dict(url)
            if isinstance(url.get("url"), str) and isinstance(url.get("expanded_url"), str):
                expansions[url["url"]] = url["expanded_url"]
    return [expansions.get(u, u) for u in extract_urls(text)]


def status_to_post(status: dict, account: str | None = None) -> dict:
    """One v1.1 status (API or archive) as a canonical post; ``ValueError`` if it is none."""
    text = _full_text(status)
    if text is None:
        raise ValueError("tweet has no text field")
    author = _screen_name(status) or account
    is_repost = False
    reposted_from = None
    original = as_dict(status.get("retweeted_status"))
    if original:
        is_repost = True
        reposted_from = _screen_name(original)
        text = _full_text(original) or split_retweet_prefix(text)[1]
        if reposted_from is None:
            reposted_from = split_retweet_prefix(_full_text(status) or "")[0]
        url_source = original
    else:
        rt_user, rest = split_retweet_prefix(text)
        if rt_user:
            is_repost, reposted_from, text = True, rt_user, rest
        url_source = status
    quoted = as_dict(status.get("quoted_status"))
    quoted_from = _screen_name(quoted) if quoted else None
    quoted_text = _full_text(quoted) if quoted else None
    urls = _expanded_urls(url_source, text)
    is_quote = bool(quoted) or bool(status.get("is_quote_status"))
    if not quoted and not is_repost:
        # Archives keep no quoted_status: a trailing link to someone's status marks the quote.
        for url in reversed(urls):
            match = _STATUS_URL.match(url)
            if match:
                is_quote, quoted_from = True, match.group(1)
                break
    reply_to = status.get("in_reply_to_screen_name")
    is_reply = bool(reply_to) or bool(status.get("in_reply_to_status_id_str") or status.get("in_reply_to_status_id"))
    if is_reply and not reply_to:
        own_id = as_dict(status.get("user")).get("id_str")
        if own_id and own_id == status.get("in_reply_to_user_id_str"):
            reply_to = author
    return make_post(
        platform="twitter",
        account=author or "",
        post_id=status.get("id_str") or status.get("id"),
        created_at=status.get("created_at"),
        text=text,
        is_repost=is_repost,
        is_quote=is_quote and not is_repost,
        reposted_from=reposted_from,
        reply_to=reply_to,
        is_reply=is_reply,
        urls=urls,
        quoted_from=quoted_from,
        quoted_text=quoted_text,
    )


def is_v1_status(obj: Any) -> bool:
    return isinstance(obj, dict) and ("full_text" in obj or "text" in obj) and (
        "id_str" in obj or isinstance(obj.get("user"), dict)
    )


def iter_api_v1(path: Path, account: str | None = None, span: Span | None = None) -> Iterator[Item]:
    """Twitter API v1.1 statuses: a JSON array, ``{"statuses": [...]}``, or JSONL.

    With a span, only the JSONL lines starting inside it (see :func:`~._io.split_lines`).
    """
    source = str(path)
    if looks_like_jsonl(read_head(path)):
        for number, obj in iter_jsonl(path, span):
            if isinstance(obj, Reject):
                yield obj
                continue
            yield from _v1_items([obj], source, account, line=number)
        return
    data = parse_json_document(read_text(path), source)
    if isinstance(data, dict):
        data = data.get("statuses", [data])
    if not isinstance(data, list):
        raise FeedError(path, "expected a list of tweets")
    yield from _v1_items(data, source, account)


def _v1_items(objs: Iterable[Any], source: str, account: str | None, line: int | None = None) -> Iterator[Item]:
    for index, obj in enumerate(objs, start=1):
        record = None if line is not None else index
        if not isinstance(obj, dict):
            yield Reject(source, line, "record is not a tweet object", record)
            continue
        try:
            yield status_to_post(obj, account)
        except ValueError as exc:
            yield Reject(source, line, str(exc), record)


# ---------------------------------------------------------------- API v2 / twarc2


def is_v2_page(obj: Any) -> bool:
    return isinstance(obj, dict) and "data" in obj and ("includes" in obj or "meta" in obj or "__twarc" in obj)


def is_v2_tweet(obj: Any) -> bool:
    return isinstance(obj, dict) and "text" in obj and (
        "author_id" in obj or "referenced_tweets" in obj or "edit_history_tweet_ids" in obj
        or isinstance(obj.get("author"), dict) and "username" in obj["author"]
    )


class _V2Context:
    """Users and tweets that a page's ``includes`` (or a flattened tweet itself) carries."""

    def __init__(self) -> None:
        self.users: dict[str, str] = {}
        self.tweets: dict[str, dict] = {}

    def add_includes(self, includes: dict) -> None:
        for user in as_list(includes.get("users")):
            user = as_dict(user)
            if user.get("id") and isinstance(user.get("username"), str):
                self.users[str(user["id"])] = user["username"]
        for tweet in as_list(includes.get("tweets")):
            tweet = as_dict(tweet)
            if tweet.get("id"):
                self.tweets[str(tweet["id"])] = tweet
                self._learn_author(tweet)

    def _learn_author(self, tweet: dict) -> None:
        author = as_dict(tweet.get("author"))
        if author.get("id") and isinstance(author.get("username"), str):
            self.users[str(author["id"])] = author["username"]

    def author(self, tweet: dict) -> str | None:
        self._learn_author(tweet)
        name = as_dict(tweet.get("author")).get("username")
        return name if isinstance(name, str) else self.users.get(str(tweet.get("author_id")))

    def text(self, tweet: dict) -> str | None:
        note = as_dict(tweet.get("note_tweet")).get("text")
        text = note if isinstance(note, str) else tweet.get("text")
        return text if isinstance(text, str) else None

    def referenced(self, ref: dict) -> dict:
        """The referenced tweet: inline (twarc2 flatten) or from includes."""
        if "text" in ref:
            self._learn_author(ref)
            return ref
        return self.tweets.get(str(ref.get("id")), {})


def v2_tweet_to_post(tweet: dict, ctx: _V2Context, account: str | None = None) -> dict:
    """One v2 tweet as a canonical post; ``ValueError`` if it is none."""
    text = ctx.text(tweet)
    if text is None:
        raise ValueError("tweet has no text field")
    author = ctx.author(tweet) or account
    refs = {as_dict(r).get("type"): as_dict(r) for r in as_list(tweet.get("referenced_tweets"))}
    is_repost, reposted_from = False, None
    if "retweeted" in refs:
        is_repost = True
        original = ctx.referenced(refs["retweeted"])
        prefix_user, rest = split_retweet_prefix(text)
        reposted_from = ctx.author(original) if original else None
        reposted_from = reposted_from or prefix_user
        text = ctx.text(original) if original and ctx.text(original) else rest
    else:
        prefix_user, rest = split_retweet_prefix(text)
        if prefix_user:
            is_repost, reposted_from, text = True, prefix_user, rest
    quoted_from = quoted_text = None
    if "quoted" in refs:
        quoted = ctx.referenced(refs["quoted"])
        quoted_from = ctx.author(quoted) if quoted else None
        quoted_text = ctx.text(quoted) if quoted else None
    reply_to = as_dict(tweet.get("in_reply_to_user")).get("username")
    if not reply_to and tweet.get("in_reply_to_user_id"):
        reply_to = ctx.users.get(str(tweet["in_reply_to_user_id"]))
        if not reply_to and str(tweet["in_reply_to_user_id"]) == str(tweet.get("author_id")):
            reply_to = author
    if not reply_to and "replied_to" in refs:
        parent = ctx.referenced(refs["replied_to"])
        reply_to = ctx.author(parent) if parent else None
    is_reply = "replied_to" in refs or bool(tweet.get("in_reply_to_user_id")) or bool(reply_to)
    entities = as_dict(tweet.get("entities"))
    expansions = {
        u["url"]: u["expanded_url"]
        for u in (as_dict(x) for x in as_list(entities.get("urls")))
        if isinstance(u.get("url"), str) and isinstance(u.get("expanded_url"), str)
    }
    urls = [expansions.get(u, u) for u in extract_urls(text)] if not is_repost else None
    return make_post(
        platform="twitter",
        account=author or "",
        post_id=tweet.get("id"),
        created_at=tweet.get("created_at"),
        text=text,
        is_repost=is_repost,
        is_quote="quoted" in refs and not is_repost,
        reposted_from=reposted_from,
        reply_to=reply_to,
        is_reply=is_reply,
        urls=urls,
        quoted_from=quoted_from,
        quoted_text=quoted_text,
    )


def iter_api_v2(path: Path, account: str | None = None, span: Span | None = None) -> Iterator[Item]:
    """Twitter API v2 / twarc2: JSONL of response pages or of flattened tweets, or one page.

    With a span, only the JSONL lines starting inside it (see :func:`~._io.split_lines`).
    """
    source = str(path)
    if looks_like_jsonl(read_head(path)):
        for number, obj in iter_jsonl(path, span):
            if isinstance(obj, Reject):
                yield obj
            else:
                yield from _v2_items(obj, source, account, line=number)
        return
    data = parse_json_document(read_text(path), source)
    objs = data if isinstance(data, list) else [data]
    for index, obj in enumerate(objs, start=1):
        yield from _v2_items(obj, source, account, line=None, record=index)


def _v2_items(obj: Any, source: str, account: str | None, line: int | None, record: int | None = None) -> Iterator[Item]:
    ctx = _V2Context()
    if is_v2_page(obj):
        ctx.add_includes(as_dict(obj.get("includes")))
        tweets = obj["data"] if isinstance(obj["data"], list) else [obj["data"]]
    else:
        tweets = [obj]
    for index, tweet in enumerate(tweets, start=1):
        rec = record if len(tweets) == 1 else index
        if not isinstance(tweet, dict):
            yield Reject(source, line, "record is not a tweet object", rec)
            continue
        try:
            yield v2_tweet_to_post(tweet, ctx, account)
        except ValueError as exc:
            yield Reject(source, line, str(exc), rec)
