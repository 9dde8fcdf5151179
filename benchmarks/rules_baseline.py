"""A rule baseline written straight from the labeling guide's decision order.

It reads only the canonical post columns (no learned weights), so it shows how far the guide's
own rules go before any model: the floor every learned classifier has to clear.

1. a re-share that mentions the account            -> vanity_retweet
2. cues of the author's own business (CTA, "our new") -> self_promotion
3. replies to others, re-shares of others, @-addressed posts, questions, thanks, congrats
                                                   -> genuine_conversation
4. everything else                                 -> personal_sharing
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

LABELS: list[str] = ["self_promotion", "vanity_retweet", "personal_sharing", "genuine_conversation"]
"""Same label order as :data:`sociability.LABELS`, kept here so the rules import nothing heavy."""

PROMOTION_CUES: list[str] = [
    # calls to action
    "register", "registration", "sign up", "signup", "subscribe", "download", "buy", "order now", "order online",
    "book now", "book your", "pre-order", "preorder", "get your", "grab your", "apply now", "rsvp", "vote for",
    "link in bio", "learn more", "find out more", "dm for", "dm us", "use code", "promo code", "free trial",
    "limited time", "don't miss", "tickets", "early bird", "save the date", "% off", "discount", "sale",
    "in stock", "order form", "please book", "with code",
    # the author's own business, content, events and milestones
    "our new", "our latest", "our team", "our experts", "our blog", "our podcast", "our newsletter",
    "check out our", "check out my", "my new post", "new post", "new blog", "my blog", "new episode", "my podcast",
    "my book", "my new book", "my talk", "my slides", "i'm speaking", "i'll be speaking", "speaking at",
    "giving a talk", "on the blog", "wrote up", "new video", "new issue", "webinar", "cfp", "call for proposals",
    "we're hiring", "we are hiring", "now hiring", "join our team", "just listed", "now available", "out now",
    "press release", "just launched", "we launched", "now open", "shop now",
]
"""Phrases whose presence says the post serves the author's own business (guide, rule 2)."""

THANKS_CUES: list[str] = [
    "thank", "thanks", "thx", "congrat", "congrats", "congratulations", "welcome", "shout out", "shoutout",
    "kudos", "well done", "happy birthday", "#ff", "#followfriday",
]
"""Thanking, congratulating, welcoming, shouting out others (guide, rule 3)."""


def _cue_pattern(cues: list[str], whole_words: bool = True) -> re.Pattern[str]:
    """One regex for a cue list; word boundaries only where a cue starts/ends with a letter."""
    parts = []
    for cue in cues:
        start = r"(?<![\w#])" if cue[0].isalnum() else ""
        end = r"(?!\w)" if whole_words and cue[-1].isalnum() else ""
        parts.append(start + re.escape(cue) + end)
    return re.compile("|".join(parts), re.IGNORECASE)


_PROMOTION = _cue_pattern(PROMOTION_CUES)
_THANKS = _cue_pattern(THANKS_CUES, whole_words=False)  # "thank" also catches "thanks", "thankful"


def _same(handle: Any, account: Any) -> bool:
    """Whether two handles name the same account (Mastodon handles may carry or drop @host)."""
    if not handle or not account:
        return False
    a, b = str(handle).lower(), str(account).lower()
    return a == b or a.split("@", 1)[0] == b.split("@", 1)[0]


def decide(post: dict[str, Any]) -> tuple[str, int]:
    """The label of one canonical post and the number of the guide rule that gave it."""
    text = str(post.get("text") or "")
    is_repost = bool(post.get("is_repost"))
    own_reshare = is_repost and _same(post.get("reposted_from"), post.get("account"))
    # 1. someone else's post about the author, re-shared by the author
    if is_repost and bool(post.get("mentions_self")) and not own_reshare:
        return "vanity_retweet", 1
    # 2. the author's own business: original posts, replies that pitch, own re-shares that promote
    if (not is_repost or own_reshare) and _PROMOTION.search(text):
        return "self_promotion", 2
    # 3. directed at others: replies, amplifying others, @-addressed, questions, thanks
    if is_repost and not own_reshare:
        return "genuine_conversation", 3
    if not is_repost:
        replying_to_other = bool(post.get("is_reply")) and not bool(post.get("is_self_reply"))
        others = [m for m in (post.get("mentions") or []) if not _same(m, post.get("account"))]
        if replying_to_other or others or "?" in text or _THANKS.search(text):
            return "genuine_conversation", 3
    # 4. the author's own life, opinions, links found interesting
    return "personal_sharing", 4


class RuleClassifier:
    """The guide's decision order as a scikit-learn style classifier (``fit`` learns nothing).

    ``X`` is the canonical post table; ``predict_proba`` gives one-hot rows in ``classes_`` order,
    so the rules plug into the same metrics as the learned models.
    """

    def __init__(self) -> None:
        self.classes_ = np.array(LABELS, dtype=object)

    def fit(self, X: pd.DataFrame, y: Any = None) -> RuleClassifier:
        """Nothing to learn: the rules come from the guide, not from data."""
        return self

    def rules(self, X: pd.DataFrame) -> np.ndarray:
        """The guide rule (1-4) that decided each post, for error analysis and tests."""
        return np.array([decide(post)[1] for post in X.to_dict(orient="records")], dtype=int)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return np.array([decide(post)[0] for post in X.to_dict(orient="records")], dtype=object)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        index = {label: j for j, label in enumerate(self.classes_)}
        proba = np.zeros((len(X), len(self.classes_)))
        for i, label in enumerate(self.predict(X)):
            proba[i, index[label]] = 1.0
        return proba
