"""The rule baseline of benchmarks/rules_baseline.py follows the labeling guide's decision order."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sociability.explain import make_single_post

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from rules_baseline import LABELS, RuleClassifier  # noqa: E402


def label_and_rule(text: str, **context: str) -> tuple[str, int]:
    post = make_single_post(text, account=context.pop("account", "dana_codes"), **context)
    rules = RuleClassifier().fit(post)
    return str(rules.predict(post)[0]), int(rules.rules(post)[0])


@pytest.mark.parametrize(("text", "context", "expected"), [
    # rule 1: a re-share of someone else's post that mentions the account
    ("Huge thanks to @dana_codes for an amazing keynote today!", {"repost_of": "pyconf"}, ("vanity_retweet", 1)),
    # rule 1 comes before rule 2: a promotional re-share about the author is still vanity
    ("Register now for @dana_codes's workshop, tickets going fast", {"repost_of": "pyconf"}, ("vanity_retweet", 1)),
    # rule 2: the author's own content, with a call to action
    ("New post on my blog: 7 tips for faster pandas code https://t.co/x1 #python", {}, ("self_promotion", 2)),
    ("Just listed! 3 bed, 2 bath in Maple Heights. DM for a showing.", {"account": "acme_realty"}, ("self_promotion", 2)),
    # rule 2 comes before rule 3: a reply whose real content is a pitch
    ("@bob great question, our new plugin does exactly that, sign up here https://t.co/x2", {"reply_to": "bob"},
     ("self_promotion", 2)),
    # rule 3: re-shares of others, replies, questions, thanks and congratulations
    ("Call for speakers closes Friday, send us your talk!", {"repost_of": "pyconf"}, ("genuine_conversation", 3)),
    ("@sam_k did you ever get the wheel build working on ARM?", {"reply_to": "sam_k"}, ("genuine_conversation", 3)),
    ("What's everyone reading this weekend? Need a new novel.", {}, ("genuine_conversation", 3)),
    ("Congrats to @maplecafe on 10 years on Main Street!", {"account": "acme_realty"}, ("genuine_conversation", 3)),
    # rule 4: everything else is the author's own life
    ("Burned the pancakes again. Third Sunday in a row.", {}, ("personal_sharing", 4)),
    ("Finally ran my first half marathon. Legs are jelly.", {"account": "jo_runs"}, ("personal_sharing", 4)),
])
def test_decision_order(text: str, context: dict[str, str], expected: tuple[str, int]) -> None:
    assert label_and_rule(text, **dict(context)) == expected


def test_own_reshare_is_not_vanity_nor_amplifying_others() -> None:
    """Guide edge case: re-sharing your own earlier post is promotion if it promotes, else personal."""
    assert label_and_rule("Our new menu drops Friday, book now", repost_of="dana_codes")[0] == "self_promotion"
    assert label_and_rule("Rainy walk with the dog this morning", repost_of="dana_codes")[0] == "personal_sharing"


def test_thread_continuation_is_not_conversation() -> None:
    """A reply to yourself continues a thread; it engages nobody (rule 3 does not apply)."""
    assert label_and_rule("and then the train was cancelled too", reply_to="dana_codes") == ("personal_sharing", 4)


def test_promotion_cues_match_whole_words_only() -> None:
    """'buy' must not fire inside 'buyer', nor 'sale' inside 'salesman'."""
    assert label_and_rule("The buyer and the salesman argued for an hour on the train") == ("personal_sharing", 4)


def test_estimator_contract() -> None:
    posts = pd.concat([make_single_post("Burned the pancakes"), make_single_post("Thanks everyone!")], ignore_index=True)
    rules = RuleClassifier()
    assert rules.fit(posts, ["personal_sharing", "genuine_conversation"]) is rules
    assert list(rules.classes_) == LABELS
    proba = rules.predict_proba(posts)
    assert proba.shape == (2, 4)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert list(rules.classes_[proba.argmax(axis=1)]) == list(rules.predict(posts))
    assert rules.predict_proba(posts.iloc[0:0]).shape == (0, 4)
