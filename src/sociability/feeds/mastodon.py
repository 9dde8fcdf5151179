"""Mastodon account exports: ``outbox.json`` (ActivityStreams), alone or inside the export archive.

A toot is a ``Create`` of a ``Note`` whose ``content`` is HTML; a boost is an ``Announce`` whose
``object`` is only the boosted status's URI, so its author comes from the URI and its text is
known only when it boosts one of the account's own statuses found in the same outbox. Direct
messages are never read: they are rejected with that reason.
"""

from __future__ import annotations

import re
import tarfile
import zipfile
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from ..errors import FeedError
from ..posts import make_post, normalize_handle
from ._io import Item, Reject, as_dict, as_list, parse_json_document, read_text

PUBLIC = {"https://www.w3.org/ns/activitystreams#Public", "as:Public", "Public"}
_USERS_PATH = re.compile(r"^/users/([^/]+)(?:/statuses/([^/]+))?")
_AT_PATH = re.compile(r"^/@([^/@]+)(?:@([^/]+))?(?:/([^/]+))?")


class _ContentParser(HTMLParser):
    """Toot HTML to plain text: paragraphs as blank lines, ``<br>`` as newlines, links joined."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._link: str | None = None
        self._link_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self._emit("\n")
        elif tag == "p" and self.parts:
            self._emit("\n\n")
        elif tag == "a":
            attributes = dict(attrs)
            classes = (attributes.get("class") or "").split()
            is_tag_link = "mention" in classes or "hashtag" in classes
            self._link = None if is_tag_link else (attributes.get("href") or "")
            self._link_text = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._link is not None:
            shown = "".join(self._link_text).strip()
            href = self._link
            self._link = None
            # Mastodon hides part of long URLs in spans; the href is the whole link.
            self.parts.append(href if href and (shown.startswith("http") or not shown or shown in href) else shown)

    def handle_data(self, data: str) -> None:
        if self._link is not None:
            self._link_text.append(data)
        else:
            self.parts.append(data)

    def _emit(self, text: str) -> None:
        if self._link is not None:
            self._link_text.append(text)
        else:
            self.parts.append(text)


def html_to_text(content: str) -> str:
    """Plain text of a toot's HTML ``content``."""
    parser = _ContentParser()
    parser.feed(content or "")
    parser.close()
    return "".join(parser.parts)


def handle_from_uri(uri: str) -> str | None:
    """``https://host/users/bob/statuses/1`` or ``https://host/@bob/1`` to ``bob@host``."""
    try:
        parsed = urlparse(uri)
    except ValueError:
        return None
    host = parsed.hostname
    if not host:
        return None
    match = _USERS_PATH.match(parsed.path)
    if match:
        return normalize_handle(f"{match.group(1)}@{host}")
    match = _AT_PATH.match(parsed.path)
    if match:
        return normalize_handle(f"{match.group(1)}@{match.group(2) or host}")
    return None


def _status_number(uri: str) -> str:
    return uri.rstrip("/").rsplit("/", 2)[-2 if uri.rstrip("/").endswith("/activity") else -1]


def _audience(obj: dict) -> set[str]:
    out: set[str] = set()
    for key in ("to", "cc"):
        value = obj.get(key)
        values = value if isinstance(value, list) else [value]
        out.update(v for v in values if isinstance(v, str))
    return out


def _is_direct(activity: dict, note: dict) -> bool:
    audience = _audience(activity) | _audience(note)
    if not audience:
        return False
    if audience & PUBLIC:
        return False
    return not any(a.endswith("/followers") for a in audience)


def _load_outbox(path: Path) -> tuple[Any, str, Any]:
    """The parsed outbox, its source name, and actor.json when an export archive has one."""
    if path.is_dir():
        outbox = path / "outbox.json"
        if not outbox.is_file():
            raise FeedError(path, "folder holds no outbox.json (is it a Mastodon export?)")
        actor_file = path / "actor.json"
        actor = parse_json_document(read_text(actor_file), str(actor_file)) if actor_file.is_file() else None
        return parse_json_document(read_text(outbox), str(outbox)), str(outbox), actor
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            return _from_members(path, archive.namelist(), archive.read)
    if path.name.endswith((".tar.gz", ".tgz", ".tar")):
        try:
            with tarfile.open(path) as archive:
                members = {m.name: m for m in archive.getmembers() if m.isfile()}
                return _from_members(path, list(members), lambda name: archive.extractfile(members[name]).read())
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise FeedError(path, f"damaged archive ({exc})") from None
    return parse_json_document(read_text(path), str(path)), str(path), None


def _from_members(path: Path, names: list[str], read: Callable[[str], bytes]) -> tuple[Any, str, Any]:
    """outbox.json (and actor.json, when present and sound) from an export archive's members."""
    outbox_names = [n for n in names if n.rsplit("/", 1)[-1] == "outbox.json"]
    if not outbox_names:
        raise FeedError(path, "archive holds no outbox.json (is it a Mastodon export?)")
    name = outbox_names[0]
    source = f"{path}:{name}"
    try:
        text = read(name).decode("utf-8", errors="replace")
    except Exception as exc:  # noqa: BLE001 - any decompression failure is a damaged archive
        raise FeedError(source, f"damaged archive member ({exc.__class__.__name__})") from None
    actor = None
    actor_names = [n for n in names if n.rsplit("/", 1)[-1] == "actor.json"]
    if actor_names:
        try:
            actor = parse_json_document(read(actor_names[0]).decode("utf-8", "replace"), f"{path}:{actor_names[0]}")
        except Exception:  # noqa: BLE001 - a damaged actor.json only costs the handle, which the outbox also gives
            actor = None
    if not text.strip():
        raise FeedError(source, "file is empty")
    return parse_json_document(text, source), source, actor


def is_outbox(obj: Any) -> bool:
    return isinstance(obj, dict) and "orderedItems" in obj


def iter_outbox(path: Path, account: str | None = None) -> Iterator[Item]:
    """Posts of a Mastodon ``outbox.json`` (or an export folder, .zip or .tar.gz holding one)."""
    data, source, actor = _load_outbox(path)
    if not is_outbox(data):
        raise FeedError(source, "not a Mastodon outbox (no 'orderedItems')")
    items = data["orderedItems"]
    if not isinstance(items, list):
        raise FeedError(source, "'orderedItems' is not a list")
    if account is None and isinstance(actor, dict):
        name, host = actor.get("preferredUsername"), urlparse(str(actor.get("id", ""))).hostname
        if isinstance(name, str) and host:
            account = normalize_handle(f"{name}@{host}")
    own_notes: dict[str, dict] = {}
    for item in items:
        note = as_dict(as_dict(item).get("object"))
        for key in ("id", "url"):
            if isinstance(note.get(key), str):
                own_notes[note[key]] = note
    for index, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            yield Reject(source, None, "record is not an activity object", index)
            continue
        try:
            post = _activity_to_post(item, account, own_notes)
        except ValueError as exc:
            yield Reject(source, None, str(exc), index)
            continue
        yield post


def _activity_to_post(item: dict, account: str | None, own_notes: dict[str, dict]) -> dict:
    kind = item.get("type")
    actor = item.get("actor")
    owner = account or (handle_from_uri(actor) if isinstance(actor, str) else None)
    if kind == "Announce":
        target = item.get("object")
        target_uri = target if isinstance(target, str) else as_dict(target).get("id")
        if not isinstance(target_uri, str):
            raise ValueError("boost has no object URI")
        own = own_notes.get(target_uri)
        text = html_to_text(own.get("content", "")) if own else ""
        if not own and isinstance(target, dict) and isinstance(target.get("content"), str):
            text = html_to_text(target["content"])
        return make_post(
            platform="mastodon",
            account=owner or "",
            post_id=_status_number(str(item.get("id") or target_uri)),
            created_at=item.get("published"),
            text=text,
            is_repost=True,
            reposted_from=owner if own else handle_from_uri(target_uri),
        )
    if kind != "Create":
        raise ValueError(f"activity type {kind!r} is not a post")
    note = as_dict(item.get("object"))
    if not note:
        raise ValueError("post object missing (only its URI is in the export)")
    if note.get("type") not in ("Note", "Article", "Page", "Question"):
        raise ValueError(f"object type {note.get('type')!r} is not a post")
    if _is_direct(item, note):
        raise ValueError("direct message: not read")
    text = html_to_text(note.get("content") or "")
    mentions, hashtags = [], []
    for tag in as_list(note.get("tag")):
        tag = as_dict(tag)
        name = tag.get("name")
        if not isinstance(name, str):
            continue
        if tag.get("type") == "Mention":
            handle = name.lstrip("@")
            if "@" not in handle and isinstance(tag.get("href"), str):
                handle = handle_from_uri(tag["href"]) or handle
            mentions.append(handle)
        elif tag.get("type") == "Hashtag":
            hashtags.append(name)
    in_reply_to = note.get("inReplyTo")
    reply_to = None
    if isinstance(in_reply_to, str) and in_reply_to:
        reply_to = handle_from_uri(in_reply_to) or (normalize_handle(mentions[0]) if mentions else None)
    quote_uri = note.get("quoteUri") or note.get("quoteUrl") or note.get("_misskey_quote")
    return make_post(
        platform="mastodon",
        account=owner or "",
        post_id=_status_number(str(note.get("id") or item.get("id") or "")),
        created_at=note.get("published") or item.get("published"),
        text=text,
        reply_to=reply_to,
        is_reply=bool(in_reply_to),
        is_quote=isinstance(quote_uri, str),
        quoted_from=handle_from_uri(quote_uri) if isinstance(quote_uri, str) else None,
        mentions=mentions or None,
        hashtags=hashtags or None,
    )
