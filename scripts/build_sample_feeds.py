"""Render the hand-written sample timelines (data/feeds/src/*.jsonl) into the real export formats.

The texts and labels are written by hand; this script only serialises them the way each network
exports them, so the demo exercises every reader. It writes data/feeds/<account>.<ext> and
data/feeds/labels/<account>.csv (post_id,label, with post ids as the readers report them).
Run it again after editing a source file: python scripts/build_sample_feeds.py
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import json
import re
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "data" / "feeds" / "src"
OUT = ROOT / "data" / "feeds"
LABELS = OUT / "labels"
MENTION = re.compile(r"(?<![\w@/])@([A-Za-z0-9_](?:[A-Za-z0-9_.\-]*[A-Za-z0-9_])?(?:@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+)?)")
URL = re.compile(r"https?://\S+")


def _fixed_time(archive: zipfile.ZipFile):
    """writestr with a fixed member time, so rebuilding gives byte-identical zips."""
    original = archive.writestr

    def writestr(name: str, data: str) -> None:
        info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        original(info, data)

    return writestr


def load(name: str) -> list[dict]:
    return [json.loads(line) for line in (SRC / f"{name}.jsonl").read_text().splitlines() if line.strip()]


def stamp(post: dict) -> datetime:
    return datetime.fromisoformat(post["created_at"].replace("Z", "+00:00")).astimezone(timezone.utc)


def snowflake(post: dict, salt: str = "") -> str:
    """A Twitter-style id that grows with time, as real ones do."""
    ms = int(stamp(post).timestamp() * 1000) - 1288834974657
    seq = int(hashlib.sha1((post["post_id"] + salt).encode()).hexdigest()[:3], 16)
    return str((ms << 22) | seq)


def twitter_time(post: dict) -> str:
    return stamp(post).strftime("%a %b %d %H:%M:%S +0000 %Y")


def v1_status(post: dict, account: str, display: str) -> dict:
    """A v1.1 status object as the archive and the API carry it."""
    status: dict = {"id_str": snowflake(post), "created_at": twitter_time(post), "user": {"screen_name": display}}
    text = post["text"]
    if post["is_repost"]:
        original = {"id_str": snowflake(post, "orig"), "created_at": twitter_time(post), "full_text": text,
                    "user": {"screen_name": post["reposted_from"]}}
        status["full_text"] = f"RT @{post['reposted_from']}: {text}"[:140]
        status["retweeted_status"] = original
    else:
        status["full_text"] = text
    if post["is_quote"] and post.get("quoted_from"):
        status["is_quote_status"] = True
        status["quoted_status"] = {"id_str": snowflake(post, "q"), "full_text": post.get("quoted_text") or "",
                                   "user": {"screen_name": post["quoted_from"]}}
    if post["is_reply"]:
        target = post["reply_to"] or account
        status["in_reply_to_screen_name"] = target
        status["in_reply_to_status_id_str"] = snowflake(post, "parent")
    status["entities"] = {"user_mentions": [{"screen_name": m} for m in MENTION.findall(status["full_text"])],
                          "hashtags": [], "urls": []}
    return status


def write_twitter_archive(name: str, display: str) -> Path:
    posts = load(name)
    tweets = []
    for post in posts:
        status = v1_status(post, post["account"], display)
        status.pop("user")
        archived = status.pop("retweeted_status", None)
        status.pop("quoted_status", None)
        if archived is None and post["is_quote"] and post.get("quoted_from"):
            link = f"https://t.co/{snowflake(post, 'ql')[-10:]}"
            status["full_text"] = f"{status['full_text']} {link}".strip()
            status["entities"]["urls"] = [{"url": link, "expanded_url": f"https://twitter.com/{post['quoted_from']}/status/{snowflake(post, 'q')}"}]
        tweets.append({"tweet": {"id_str": status["id_str"], "id": status["id_str"], "created_at": status["created_at"],
                                 "full_text": status["full_text"], "retweeted": False, "lang": "en",
                                 **{k: v for k, v in status.items() if k.startswith("in_reply_to")},
                                 "entities": status["entities"]}})
    path = OUT / f"{name}-twitter-archive.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr = _fixed_time(archive)
        archive.writestr("data/account.js", "window.YTD.account.part0 = " + json.dumps(
            [{"account": {"username": display, "accountId": "1200" + str(len(name)), "accountDisplayName": display}}], indent=2))
        archive.writestr("data/tweets.js", "window.YTD.tweets.part0 = " + json.dumps(tweets, indent=2, ensure_ascii=False))
        archive.writestr("Your archive.html", "<html><body>Twitter archive</body></html>")
    return path


def write_twitter_v1(name: str, display: str) -> Path:
    posts = load(name)
    path = OUT / f"{name}-api-v1.json"
    path.write_text(json.dumps([v1_status(p, p["account"], display) for p in posts], indent=1, ensure_ascii=False))
    return path


def write_twarc2(name: str, display: str) -> Path:
    """twarc2 timeline output: one API response page per line, with includes."""
    posts = load(name)
    users = {display.lower(): "9001"}

    def uid(handle: str) -> str:
        return users.setdefault(handle.lower(), str(9100 + len(users)))

    lines = []
    for start in range(0, len(posts), 50):
        page, included = [], []
        for post in reversed(posts[start:start + 50]):
            tweet = {"id": snowflake(post), "author_id": uid(display), "created_at": stamp(post).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                     "text": post["text"], "edit_history_tweet_ids": [snowflake(post)], "lang": "en"}
            refs = []
            if post["is_repost"]:
                original = {"id": snowflake(post, "orig"), "author_id": uid(post["reposted_from"]), "text": post["text"],
                            "created_at": tweet["created_at"]}
                included.append(original)
                tweet["text"] = f"RT @{post['reposted_from']}: {post['text']}"
                refs.append({"type": "retweeted", "id": original["id"]})
            if post["is_quote"] and post.get("quoted_from"):
                quoted = {"id": snowflake(post, "q"), "author_id": uid(post["quoted_from"]), "text": post.get("quoted_text") or ""}
                included.append(quoted)
                refs.append({"type": "quoted", "id": quoted["id"]})
            if post["is_reply"]:
                tweet["in_reply_to_user_id"] = uid(post["reply_to"] or display)
                refs.append({"type": "replied_to", "id": snowflake(post, "parent")})
            if refs:
                tweet["referenced_tweets"] = refs
            page.append(tweet)
        lines.append({"data": page, "includes": {"users": [{"id": i, "username": h} for h, i in users.items()], "tweets": included},
                      "meta": {"result_count": len(page)},
                      "__twarc": {"url": f"https://api.twitter.com/2/users/9001/tweets", "version": "2.14.0"}})
    path = OUT / f"{name}-twarc2.jsonl"
    path.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines))
    return path


def toot_html(text: str, host: str) -> tuple[str, list[dict]]:
    """Mastodon-style HTML for a toot: paragraphs, mention h-cards, links."""
    tags = []

    def mention(match: re.Match) -> str:
        handle = match.group(1)
        user, _, other = handle.partition("@")
        server = other or host
        tags.append({"type": "Mention", "href": f"https://{server}/users/{user}", "name": f"@{user}@{server}"})
        return f'<span class="h-card"><a href="https://{server}/@{user}" class="u-url mention">@<span>{html.escape(user)}</span></a></span>'

    paragraphs = []
    for block in text.split("\n\n"):
        escaped = html.escape(block, quote=False)
        escaped = URL.sub(lambda m: f'<a href="{m.group(0)}" rel="nofollow noopener" target="_blank">{m.group(0)}</a>', escaped)
        escaped = MENTION.sub(mention, escaped)
        paragraphs.append("<p>" + escaped.replace("\n", "<br />") + "</p>")
    return "".join(paragraphs), tags


def write_mastodon(name: str) -> Path:
    posts = load(name)
    user, host = posts[0]["account"].split("@")
    actor = f"https://{host}/users/{user}"
    items = []
    for index, post in enumerate(posts):
        status_id = str(110000000000000000 + int(stamp(post).timestamp()) * 100 + index % 100)
        published = stamp(post).strftime("%Y-%m-%dT%H:%M:%SZ")
        public = {"to": ["https://www.w3.org/ns/activitystreams#Public"], "cc": [f"{actor}/followers"]}
        if post["is_repost"]:
            other_user, _, other_host = post["reposted_from"].partition("@")
            target = f"https://{other_host or host}/users/{other_user}/statuses/{int(status_id) - 7777}"
            items.append({"id": f"{actor}/statuses/{status_id}/activity", "type": "Announce", "actor": actor,
                          "published": published, **public, "object": target})
            continue
        content, tags = toot_html(post["text"], host)
        note = {"id": f"{actor}/statuses/{status_id}", "type": "Note", "summary": None, "published": published,
                "url": f"https://{host}/@{user}/{status_id}", "attributedTo": actor, **public, "sensitive": False,
                "content": content, "tag": tags, "attachment": [],
                "inReplyTo": None}
        if post["is_reply"]:
            reply_user, _, reply_host = (post["reply_to"] or post["account"]).partition("@")
            note["inReplyTo"] = f"https://{reply_host or host}/users/{reply_user}/statuses/{int(status_id) - 3333}"
        items.append({"id": f"{actor}/statuses/{status_id}/activity", "type": "Create", "actor": actor,
                      "published": published, **public, "object": note})
    outbox = {"@context": "https://www.w3.org/ns/activitystreams", "id": "outbox.json", "type": "OrderedCollection",
              "totalItems": len(items), "orderedItems": items}
    path = OUT / f"{name}-mastodon-export.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr = _fixed_time(archive)
        archive.writestr("outbox.json", json.dumps(outbox, indent=1, ensure_ascii=False))
        archive.writestr("actor.json", json.dumps({"id": actor, "type": "Person", "preferredUsername": user}, indent=1))
        archive.writestr("likes.json", json.dumps({"type": "OrderedCollection", "orderedItems": []}))
    return path


def write_bluesky(name: str) -> Path:
    posts = load(name)
    me = {"did": "did:plc:" + hashlib.sha1(posts[0]["account"].encode()).hexdigest()[:24], "handle": posts[0]["account"]}
    people: dict[str, dict] = {}

    def profile(handle: str) -> dict:
        if handle == me["handle"]:
            return me
        return people.setdefault(handle, {"did": "did:plc:" + hashlib.sha1(handle.encode()).hexdigest()[:24], "handle": handle})

    feed = []
    for post in reversed(posts):
        rkey = "3l" + hashlib.sha1(post["post_id"].encode()).hexdigest()[:11]
        text = post["text"]
        author = profile(post["reposted_from"]) if post["is_repost"] else me
        record = {"$type": "app.bsky.feed.post", "text": text, "createdAt": stamp(post).strftime("%Y-%m-%dT%H:%M:%S.000Z"), "langs": ["en"]}
        facets = []
        data = text.encode()
        for match in MENTION.finditer(text):
            start = len(text[: match.start()].encode())
            facets.append({"index": {"byteStart": start, "byteEnd": start + len(match.group(0).encode())},
                           "features": [{"$type": "app.bsky.richtext.facet#mention", "did": profile(match.group(1).lower())["did"]}]})
        for match in URL.finditer(text):
            start = len(text[: match.start()].encode())
            facets.append({"index": {"byteStart": start, "byteEnd": start + len(match.group(0).encode())},
                           "features": [{"$type": "app.bsky.richtext.facet#link", "uri": match.group(0)}]})
        assert all(f["index"]["byteEnd"] <= len(data) for f in facets)
        if facets:
            record["facets"] = facets
        item: dict = {"post": {"uri": f"at://{author['did']}/app.bsky.feed.post/{rkey}", "cid": "bafyrei" + rkey,
                               "author": author, "record": record, "indexedAt": record["createdAt"]}}
        if post["is_reply"]:
            parent = profile(post["reply_to"] or me["handle"])
            ref = {"uri": f"at://{parent['did']}/app.bsky.feed.post/3lparent{rkey[2:8]}", "cid": "bafyparent"}
            record["reply"] = {"root": ref, "parent": ref}
            item["reply"] = {"root": {**ref, "author": parent}, "parent": {**ref, "author": parent}}
        if post["is_quote"] and post.get("quoted_from"):
            quoted = profile(post["quoted_from"])
            uri = f"at://{quoted['did']}/app.bsky.feed.post/3lquote{rkey[2:8]}"
            record["embed"] = {"$type": "app.bsky.embed.record", "record": {"uri": uri, "cid": "bafyquote"}}
            item["post"]["embed"] = {"$type": "app.bsky.embed.record#view", "record": {
                "$type": "app.bsky.embed.record#viewRecord", "uri": uri, "author": quoted,
                "value": {"$type": "app.bsky.feed.post", "text": post.get("quoted_text") or "", "createdAt": record["createdAt"]}}}
        if post["is_repost"]:
            item["reason"] = {"$type": "app.bsky.feed.defs#reasonRepost", "by": me, "indexedAt": record["createdAt"]}
        feed.append(item)
    path = OUT / f"{name}-bluesky-feed.json"
    path.write_text(json.dumps({"feed": feed, "cursor": "2024-10-01T00:00:00.000Z"}, indent=1, ensure_ascii=False))
    return path


def write_csv(name: str) -> Path:
    """A spreadsheet export as a social-media tool would give it: its own column names."""
    posts = load(name)
    path = OUT / f"{name}.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Post ID", "Date", "Account", "Network", "Message", "In reply to"])
        for post in posts:
            text = f"RT @{post['reposted_from']}: {post['text']}" if post["is_repost"] else post["text"]
            writer.writerow([post["post_id"], stamp(post).strftime("%Y-%m-%d %H:%M"), post["account"], "twitter", text, post["reply_to"] or ""])
    return path


def write_labels(name: str, path: Path, **read_options) -> None:
    """Labels keyed by the post ids the reader reports, matched by position (same order)."""
    from sociability import read_feed
    from sociability.feeds import ColumnMap

    posts = load(name)
    result = read_feed(path, **read_options)
    assert result.n_rejected == 0, result.rejects[:3]
    read = result.posts.sort_values("created_at", kind="stable")
    source = sorted(posts, key=stamp)
    assert len(read) == len(source), (name, len(read), len(source))
    for text, post in zip(read["text"], source):
        if text:  # Mastodon boosts carry no text
            # archive retweets are cut at 140 characters, archive quotes gain a link: compare openings
            # Mastodon shows @user for @user@host: compare without handles
            got, want = (" ".join(MENTION.sub("@", t).split()) for t in (text, post["text"]))
            n = min(30, len(want))
            assert got[:n] == want[:n], (name, post["post_id"], text[:60], post["text"][:60])
    LABELS.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame({"post_id": read["post_id"].to_numpy(), "label": [p["label"] for p in source]})
    frame.to_csv(LABELS / f"{path.name.split('.')[0]}.csv", index=False)


def main() -> None:
    write_labels("brightbowl", write_twitter_archive("brightbowl", "BrightBowl"))
    write_labels("drlenaprice", write_twarc2("drlenaprice", "DrLenaPrice"))
    write_labels("wren", write_mastodon("wren"))
    write_labels("sol-runs", write_bluesky("sol-runs"))
    write_labels("inkwellbooks", write_csv("inkwellbooks"))  # its columns are found by configs/columns.toml
    write_labels("techwire", write_twitter_v1("techwire", "techwire_daily"))


if __name__ == "__main__":
    main()
