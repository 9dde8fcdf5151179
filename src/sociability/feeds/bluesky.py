"""Bluesky author feeds: the JSON of ``app.bsky.feed.getAuthorFeed`` (one page, a list of pages,
or JSONL of pages).

Mentions are facets that carry DIDs over UTF-8 byte ranges of the text; a DID becomes a handle
wherever the file shows that account (authors, reply parents, quoted posts), else the handle
written in the text is used.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import FeedError
from ..posts import make_post, normalize_handle
from ._io import Item, Reject, as_dict, as_list, iter_jsonl, looks_like_jsonl, parse_json_document, read_head, read_text

REPOST = "app.bsky.feed.defs#reasonRepost"


def is_author_feed(obj: Any) -> bool:
    return isinstance(obj, dict) and isinstance(obj.get("feed"), list)


def _did_of(uri: str) -> str | None:
    if isinstance(uri, str) and uri.startswith("at://"):
        return uri[5:].split("/", 1)[0]
    return None


def _collect_handles(obj: Any, handles: dict[str, str]) -> None:
    """Every ``{"did": ..., "handle": ...}`` profile anywhere in the structure."""
    stack = [obj]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if isinstance(node.get("did"), str) and isinstance(node.get("handle"), str):
                handles[node["did"]] = node["handle"]
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def _pages(path: Path) -> tuple[list[tuple[int | None, Any]], str]:
    source = str(path)
    if looks_like_jsonl(read_head(path)):
        return list(iter_jsonl(path)), source
    data = parse_json_document(read_text(path), source)
    pages = data if isinstance(data, list) else [data]
    return [(None, page) for page in pages], source


def iter_author_feed(path: Path, account: str | None = None) -> Iterator[Item]:
    """Posts of a Bluesky author feed."""
    pages, source = _pages(path)
    handles: dict[str, str] = {}
    items: list[tuple[int | None, int, Any]] = []
    rejects: list[Reject] = []
    for line, page in pages:
        if isinstance(page, Reject):
            rejects.append(page)
            continue
        _collect_handles(page, handles)
        if is_author_feed(page):
            entries = page["feed"]
        elif isinstance(page, dict) and "post" in page:
            entries = [page]
        else:
            raise FeedError(source, "not a Bluesky author feed (no 'feed' list)", line=line)
        items.extend((line, index, entry) for index, entry in enumerate(entries, start=1))
    if account is None:
        account = _feed_owner([entry for _, _, entry in items])
    yield from rejects
    for line, index, entry in items:
        try:
            yield _item_to_post(as_dict(entry), account, handles)
        except ValueError as exc:
            yield Reject(source, line, str(exc), index)


def _feed_owner(entries: list[Any]) -> str | None:
    """The account whose feed this is: who reposted, else the most frequent author."""
    reposters = Counter()
    authors = Counter()
    for entry in entries:
        entry = as_dict(entry)
        reason = as_dict(entry.get("reason"))
        if reason.get("$type") == REPOST:
            reposters[as_dict(reason.get("by")).get("handle")] += 1
        else:
            authors[as_dict(as_dict(entry.get("post")).get("author")).get("handle")] += 1
    for counter in (reposters, authors):
        counter.pop(None, None)
        if counter:
            return normalize_handle(counter.most_common(1)[0][0])
    return None


def _item_to_post(entry: dict, account: str | None, handles: dict[str, str]) -> dict:
    post = as_dict(entry.get("post"))
    record = as_dict(post.get("record"))
    if not post or not record:
        raise ValueError("feed item has no post record")
    text = record.get("text")
    if not isinstance(text, str):
        raise ValueError("post record has no text")
    author = as_dict(post.get("author")).get("handle")
    reason = as_dict(entry.get("reason"))
    is_repost = reason.get("$type") == REPOST
    owner = account or (as_dict(reason.get("by")).get("handle") if is_repost else author)
    mentions = _facet_mentions(text, record.get("facets"), handles)
    links = _facet_links(record.get("facets"))
    reply = as_dict(record.get("reply"))
    reply_to = None
    if reply:
        parent_view = as_dict(as_dict(entry.get("reply")).get("parent"))
        reply_to = as_dict(parent_view.get("author")).get("handle")
        if not reply_to:
            did = _did_of(as_dict(reply.get("parent")).get("uri", ""))
            reply_to = handles.get(did, did) if did else None
    quoted_from = quoted_text = None
    embed = as_dict(record.get("embed"))
    is_quote = embed.get("$type") in ("app.bsky.embed.record", "app.bsky.embed.recordWithMedia")
    if is_quote:
        view = as_dict(post.get("embed"))
        quoted = as_dict(view.get("record"))
        quoted = as_dict(quoted.get("record")) if "record" in quoted and "value" not in quoted else quoted
        quoted_from = as_dict(quoted.get("author")).get("handle")
        quoted_text = as_dict(quoted.get("value")).get("text")
        if not quoted_from:
            ref = as_dict(embed.get("record"))
            ref = as_dict(ref.get("record")) if "record" in ref else ref
            did = _did_of(ref.get("uri", ""))
            quoted_from = handles.get(did, did) if did else None
    post_id = str(post.get("uri") or "").rsplit("/", 1)[-1] or post.get("cid")
    if is_repost:
        post_id = f"{post_id}-repost"
    return make_post(
        platform="bluesky",
        account=owner or "",
        post_id=post_id,
        created_at=reason.get("indexedAt") if is_repost and reason.get("indexedAt") else record.get("createdAt") or post.get("indexedAt"),
        text=text,
        is_repost=is_repost,
        reposted_from=author if is_repost else None,
        reply_to=reply_to,
        is_reply=bool(reply),
        is_quote=is_quote and not is_repost,
        quoted_from=quoted_from,
        quoted_text=quoted_text if isinstance(quoted_text, str) else None,
        mentions=mentions,
        urls=links or None,
    )


def _facet_slices(text: str, facets: Any) -> Iterator[tuple[str, dict]]:
    """(text slice, feature) for each facet feature; offsets are UTF-8 bytes, not characters."""
    data = text.encode("utf-8")
    for facet in facets if isinstance(facets, list) else []:
        facet = as_dict(facet)
        index = as_dict(facet.get("index"))
        start, end = index.get("byteStart"), index.get("byteEnd")
        ok = isinstance(start, int) and isinstance(end, int) and 0 <= start <= end <= len(data)
        shown = data[start:end].decode("utf-8", errors="ignore") if ok else ""
        for feature in as_list(facet.get("features")):
            yield shown, as_dict(feature)


def _facet_mentions(text: str, facets: Any, handles: dict[str, str]) -> list[str] | None:
    found = []
    for shown, feature in _facet_slices(text, facets):
        if feature.get("$type") == "app.bsky.richtext.facet#mention":
            did = feature.get("did")
            handle = handles.get(did) if isinstance(did, str) else None
            handle = handle or (shown.lstrip("@") if shown.startswith("@") else did)
            if handle:
                found.append(handle)
    return found or None


def _facet_links(facets: Any) -> list[str]:
    return [
        feature["uri"]
        for _, feature in _facet_slices("", facets)
        if feature.get("$type") == "app.bsky.richtext.facet#link" and isinstance(feature.get("uri"), str)
    ]
