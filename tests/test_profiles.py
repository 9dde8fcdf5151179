"""Profiles: behaviour metrics, share estimation, intervals, score, archetypes, advice, comparison."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sociability.explain import make_single_post
from sociability.model import LABELS
from sociability.posts import make_post, to_frame
from sociability.profiles import (
    adjust,
    behaviour_metrics,
    compare,
    estimate_shares,
    load_profile_config,
    profile,
)

CONFIG = load_profile_config()
WORDS = ("apple basil cedar delta ember fjord garnet harbor iris juniper kelp lantern meadow nutmeg orchard pepper quartz "
         "raven saffron thistle umber violet willow yarrow zinnia acorn birch clover dune elm fennel gorse heath ivy "
         "jasper kestrel larch moss nettle oak pine rowan sorrel tansy").split()


def timeline(account: str, specs: list[tuple[str, dict, str]], platform: str = "twitter") -> tuple[pd.DataFrame, list[str]]:
    """Posts built from (text, context, intended label), one a day."""
    posts, labels = [], []
    for i, (text, context, label) in enumerate(specs):
        posts.append(make_post(platform=context.pop("platform", platform), account=account, post_id=f"{account}-{i}",
                               created_at=pd.Timestamp("2019-01-01", tz="UTC") + pd.Timedelta(days=i, hours=i % 24), text=text, **context))
        labels.append(label)
    return to_frame(posts), labels


def onehot(labels: list[str], confidence: float = 1.0) -> np.ndarray:
    proba = np.full((len(labels), 4), (1 - confidence) / 3)
    for i, label in enumerate(labels):
        proba[i, LABELS.index(label)] = confidence
    return proba


class PerfectModel:
    """Stands in for a trained model whose probabilities we set, to test the profile logic alone."""

    classes_ = np.array(LABELS, dtype=object)
    confusion_rates_ = np.eye(4)
    probability_rates_ = np.eye(4)
    share_error_: dict = {}


def profile_of(posts: pd.DataFrame, labels: list[str], **kwargs):
    return profile(posts, PerfectModel(), CONFIG, proba=onehot(labels), **kwargs)[0]


def conversationalist(n: int = 40):
    return timeline("chatty", [(f"@pal{i} ha, same here about the {WORDS[i]} thing", {"reply_to": f"pal{i}"}, "genuine_conversation") for i in range(n)])


def link_robot(n: int = 40):
    return timeline("linkbot", [(f"https://t.co/Ab{i:03d}xYz", {}, "personal_sharing") for i in range(n)])


def vanity_amplifier(n: int = 30):
    specs = [(f"Loved the talk by @drlena at the {WORDS[i]} summit!", {"is_repost": True, "reposted_from": f"fan{i}"}, "vanity_retweet") for i in range(n)]
    specs += [(f"New tour dates for Steady Ground in {WORDS[i]} town: https://t.co/t{i}", {}, "self_promotion") for i in range(10)]
    return timeline("drlena", specs)


def self_promoter(n: int = 30):
    specs = [(f"Recipe of the week: {WORDS[i]} squash bowls. Order by Sunday https://t.co/r{i} #mealkit", {}, "self_promotion") for i in range(n)]
    specs += [(f"@customer{i} so sorry, DM us your order number", {"reply_to": f"customer{i}"}, "genuine_conversation") for i in range(3)]
    return timeline("brightbowl", specs)


def test_behaviour_metrics_from_metadata():
    posts, _ = timeline("amy", [
        ("@bob sounds good", {"reply_to": "bob"}, ""),
        ("and another thing about that", {"reply_to": "amy"}, ""),
        ("Thanks @amy for the great workshop!", {"is_repost": True, "reposted_from": "kilnclub"}, ""),
        ("https://t.co/bareLink01", {}, ""),
        ("My new mugs are up in the shop, link in bio. Still warm from the kiln!", {}, ""),
        ("My new mugs are up in the shop, link in bio. Still warm from the kiln!", {"platform": "mastodon"}, ""),
        ("Anyone know a good glaze supplier? @carol @dan", {}, ""),
        ("cone 6 is fine https://example.com/guide", {}, ""),
    ])
    b = behaviour_metrics(posts)
    assert b["reply_rate"] == pytest.approx(1 / 8)  # the thread does not count
    assert b["thread_share"] == pytest.approx(1 / 8)
    assert b["vanity_reshare_share"] == pytest.approx(1 / 8) and b["reshare_rate"] == pytest.approx(1 / 8)
    assert b["link_only_share"] == pytest.approx(1 / 8) and b["link_share"] == pytest.approx(2 / 8)
    assert b["duplicate_share"] == pytest.approx(1 / 8) and b["cross_posted_share"] == pytest.approx(2 / 8)
    assert b["accounts_engaged_per_100"] == pytest.approx(100 * 3 / 8)  # bob, carol, dan; not amy herself
    assert b["question_share"] == pytest.approx(1 / 8)


def test_adjusted_counting_undoes_a_known_confusion():
    rates = np.array([[0.8, 0.0, 0.2, 0.0], [0.0, 0.9, 0.0, 0.1], [0.3, 0.0, 0.7, 0.0], [0.0, 0.1, 0.1, 0.8]])
    true = np.array([0.1, 0.2, 0.3, 0.4])
    assert np.allclose(adjust(rates.T @ true, rates), true, atol=1e-6)
    proba = onehot(["self_promotion"] * 3 + ["genuine_conversation"], 0.7)
    assert np.allclose(estimate_shares(proba, "cc"), [0.75, 0, 0, 0.25])
    assert np.allclose(estimate_shares(proba, "pcc"), proba.mean(axis=0))
    for method in ("acc", "pacc"):
        shares = estimate_shares(proba, method, np.eye(4), np.eye(4))
        assert shares.sum() == pytest.approx(1) and (shares >= 0).all()


def test_short_timelines_get_wider_intervals():
    labels = (["genuine_conversation"] * 6 + ["personal_sharing"] * 4)
    short_posts, _ = timeline("short", [(f"post {i}", {}, l) for i, l in enumerate(labels)])
    long_posts, _ = timeline("long", [(f"post {i}", {}, l) for i, l in enumerate(labels * 20)])
    short = profile_of(short_posts, labels)
    long = profile_of(long_posts, labels * 20)
    width = lambda p: p.shares["genuine_conversation"].high - p.shares["genuine_conversation"].low
    assert short.shares["genuine_conversation"].estimate == long.shares["genuine_conversation"].estimate == 0.6
    assert width(short) > 2 * width(long)
    assert short.shares["genuine_conversation"].low <= 0.6 <= short.shares["genuine_conversation"].high


@pytest.mark.parametrize(
    "build, archetype, advice_titles",
    [
        (conversationalist, "Conversationalist", {"Show the person behind the account"}),
        (link_robot, "Link robot", {"Don't be a link-posting robot", "Make time to respond"}),
        (vanity_amplifier, "Vanity amplifier", {"Retweet with care", "Make time to respond", "Show the person behind the account"}),
        (self_promoter, "Self-promoter", {"Personalise", "Make time to respond", "Show the person behind the account"}),
    ],
)
def test_timelines_built_to_trigger_each_archetype_and_advice(build, archetype, advice_titles):
    posts, labels = build()
    result = profile_of(posts, labels)
    assert result.archetype == archetype
    assert {a["title"] for a in result.advice} == advice_titles
    for item in result.advice:  # each piece of advice cites the figure that triggered it
        assert f"{item['value']:.0%}" in item["text"]


def test_duplicate_posting_triggers_its_advice():
    specs = [("Big news: our spring collection is live, shop now https://t.co/spring1", {"platform": p}, "self_promotion")
             for p in ("twitter", "mastodon", "bluesky")] * 5
    specs += [(f"@fan{i} thank you!", {"reply_to": f"fan{i}"}, "genuine_conversation") for i in range(10)]
    posts, labels = timeline("crossposter", specs)
    result = profile_of(posts, labels)
    assert "Post to networks with consideration" in {a["title"] for a in result.advice}
    assert result.behaviour["cross_posted_share"] == pytest.approx(15 / 25)


def test_a_link_feed_that_reads_personal_still_scores_low():
    robot = profile_of(*link_robot())
    person_posts, person_labels = timeline("jo", [(f"Ran past the {WORDS[i]} by the river this morning, legs are jelly", {}, "personal_sharing") for i in range(20)]
                                          + [(f"@pal{i} haha same", {"reply_to": f"pal{i}"}, "genuine_conversation") for i in range(10)])
    person = profile_of(person_posts, person_labels)
    assert robot.shares["personal_sharing"].estimate == 1.0
    assert robot.score.estimate < 30 < 60 < person.score.estimate


def test_compare_ranks_and_tells_noise_from_difference():
    chatty = profile_of(*conversationalist())
    robot = profile_of(*link_robot())
    twin_posts, twin_labels = conversationalist()
    twin = profile_of(twin_posts.assign(account="chatty2"), twin_labels)
    result = compare([robot, chatty, twin])
    assert list(result.table["account"])[-1] == "linkbot"
    pairs = {(d["higher"], d["lower"]): d["beyond_noise"] for d in result.differences.to_dict(orient="records")}
    assert pairs[("chatty", "linkbot")] or pairs.get(("chatty2", "linkbot"))
    assert not pairs.get(("chatty", "chatty2"), pairs.get(("chatty2", "chatty")))


def test_profile_with_a_real_model_on_the_sample_feeds(small_model, fixtures):
    from sociability import read_feeds

    posts = read_feeds([fixtures / "twitter_v1.json", fixtures / "bluesky_feed.json"]).posts
    profiles = profile(posts, small_model, CONFIG)
    assert {p.account for p in profiles} == {"larkkitchen", "sol-runs.bsky.social"}
    for p in profiles:
        assert sum(s.estimate for s in p.shares.values()) == pytest.approx(1, abs=1e-3)
        assert 0 <= p.score.low <= p.score.estimate <= p.score.high <= 100
        assert set(p.shares_by_method) == {"cc", "pcc", "acc", "pacc"}


def test_label_tallies_own_their_arrays_so_a_stream_of_chunks_does_not_pin_them():
    """A tally kept across chunks must not hold views into one chunk's arrays: each view kept
    the chunk's whole array alive (pass two of a 5M-post feed grew by ~0.35 MB per chunk)."""
    from sociability.profiles import labeled_columns, merge_tallies, tally_labels

    posts, labels = conversationalist(30)
    first = tally_labels({}, labeled_columns(posts.iloc[:15]), onehot(labels[:15]), set())
    second = tally_labels({}, labeled_columns(posts.iloc[15:]), onehot(labels[15:]), {"chatty"})  # by week: new periods
    for tallies in (first, second, merge_tallies([first, second])):
        tally = tallies["chatty"]
        assert tally.cells.base is None and tally.moments.base is None
        assert tally.periods and all(values.base is None for values in tally.periods.values())
    merged = merge_tallies([first, second])["chatty"]
    assert merged.cells.sum() == 30 and sum(int(v[0]) for v in merged.periods.values()) == 30


def test_examples_are_each_labels_most_confident_posts_with_ties_broken_by_post_id():
    """The numeric pre-selection must give what sorting every post by (key, post id, text) gives."""
    from sociability.profiles import EXAMPLES, FIXED_POINT, labeled_columns, merge_tallies, tally_labels

    rng = np.random.default_rng(3)
    rows = []
    for i in range(400):
        account = f"acct{i % 7}"
        rows.append(make_post(platform="twitter", account=account, post_id=f"p{rng.integers(10_000)}-{i}",
                              created_at="2024-05-01T10:00:00Z", text=f"{WORDS[i % len(WORDS)]} {i}"))
    posts = to_frame(rows)
    levels = np.array([0.55, 0.7, 0.9])  # few values: many ties in confidence
    proba = np.full((len(posts), len(LABELS)), 0.0)
    label = rng.integers(len(LABELS), size=len(posts))
    top = levels[rng.integers(len(levels), size=len(posts))]
    proba[np.arange(len(posts)), label] = top
    proba[np.arange(len(posts)), (label + 1) % len(LABELS)] = 1 - top
    labeled = labeled_columns(posts)
    halves = [tally_labels({}, labeled.iloc[part].reset_index(drop=True), proba[part], set())
              for part in (slice(0, 170), slice(170, None))]
    tallies = merge_tallies(halves)
    for account, tally in tallies.items():
        for j in range(len(LABELS)):
            mine = np.flatnonzero((labeled["account"] == account).to_numpy() & (label == j))
            expected = sorted((-int(np.rint(proba[i, j] * FIXED_POINT)), labeled["post_id"][i], labeled["shown"][i]) for i in mine)
            assert tally.examples[j] == expected[:EXAMPLES]
    assert any(len({key for key, _, _ in t.examples[j]}) < EXAMPLES for t in tallies.values() for j in range(len(LABELS)))
