"""Assemble the hand-written batches (data/labeled/batches/*.jsonl) into the train/test split.

* The guide's decision order is applied where it is mechanical: a re-share whose text @-mentions
  the re-sharing account is ``vanity_retweet`` (rule 1 comes first); such fixes are printed.
* The split is by account (a model is always tested on accounts it never saw): within each batch,
  accounts are ordered by a hash of their handle and taken into the test split until it holds
  about 15% of that batch's posts.

Run: python scripts/build_dataset.py  (rewrites data/labeled/train.jsonl and test.jsonl)
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BATCHES = ROOT / "data" / "labeled" / "batches"
TEST_SHARE = 0.15


def main() -> None:
    from sociability.posts import extract_mentions, same_account

    train, test = [], []
    for batch in sorted(BATCHES.glob("*.jsonl")):
        posts = [json.loads(line) for line in batch.read_text(encoding="utf-8").splitlines() if line.strip()]
        for post in posts:
            post["batch"] = batch.stem
            if post["is_repost"] and post["label"] != "vanity_retweet":
                mentions = extract_mentions(post["text"], post["platform"])
                if any(same_account(m, post["account"]) for m in mentions):
                    print(f"rule 1: {post['post_id']} {post['label']} -> vanity_retweet")
                    post["label"] = "vanity_retweet"
        by_account: dict[str, list[dict]] = {}
        for post in posts:
            by_account.setdefault(post["account"], []).append(post)
        order = sorted(by_account, key=lambda a: hashlib.sha256(a.encode()).hexdigest())
        taken = 0
        for account in order:
            target = test if taken < TEST_SHARE * len(posts) else train
            target.extend(by_account[account])
            if target is test:
                taken += len(by_account[account])
    for name, rows in (("train", train), ("test", test)):
        rows.sort(key=lambda p: (p["batch"], p["account"], p["created_at"], p["post_id"]))
        path = ROOT / "data" / "labeled" / f"{name}.jsonl"
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        accounts = len({r["account"] for r in rows})
        print(f"{path.relative_to(ROOT)}: {len(rows)} posts, {accounts} accounts")
    overlap = {p["account"] for p in train} & {p["account"] for p in test}
    assert not overlap, overlap


if __name__ == "__main__":
    main()
