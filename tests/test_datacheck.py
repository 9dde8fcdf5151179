"""The data check, on the bundled data and on data built to fail it."""

from __future__ import annotations

import json
import re

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from conftest import DATA
from sociability.cli import app
from sociability.datacheck import check_data, duplicate_keys, normalise_for_duplicates

runner = CliRunner()


def test_bundled_data_passes_every_check():
    for name, least in (("train.jsonl", 700), ("test.jsonl", 100)):
        report = check_data(DATA / name)
        assert report.problems == [], report.problems
        assert min(report.label_counts.values()) >= least
    train, test = check_data(DATA / "train.jsonl"), check_data(DATA / "test.jsonl")
    total = {label: train.label_counts[label] + test.label_counts[label] for label in train.label_counts}
    assert sum(total.values()) >= 4000 and min(total.values()) >= 800
    assert test.n_posts / (train.n_posts + test.n_posts) > 0.12
    train_accounts = set(pd.read_json(DATA / "train.jsonl", lines=True)["account"])
    test_accounts = set(pd.read_json(DATA / "test.jsonl", lines=True)["account"])
    assert not train_accounts & test_accounts


def test_bundled_data_matches_real_surface_rates():
    rates = check_data(DATA / "train.jsonl").rates
    # GAP.md: real people share links, real promotion is link-heavy, emoji are rare in the era
    assert rates.loc["personal_sharing", "link"] > 0.35
    assert rates.loc["self_promotion", "link"] > 0.8
    assert rates.loc["genuine_conversation", "repost"] > 0.15  # re-sharing others is conversation
    assert (rates["emoji"] < 0.15).all()


def test_giveaways_and_duplicates_are_found(tmp_path):
    rows = []
    for i in range(60):
        rows.append({"account": f"shop{i % 6}", "created_at": "2019-01-01", "post_id": str(i), "label": "self_promotion",
                     "text": f"BUYNOW deal number {i} on our boots https://t.co/x{i}"})
        rows.append({"account": f"pal{i % 6}", "created_at": "2019-01-01", "post_id": f"p{i}", "label": "personal_sharing",
                     "text": f"went for a long walk with the dog, day {i}"})
    rows.append({**rows[0], "post_id": "copy", "label": "personal_sharing"})
    path = tmp_path / "bad.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    report = check_data(path)
    assert ("buynow", "self_promotion") in {(g.token, g.label) for g in report.giveaways}
    assert report.exact_duplicates >= 1 and report.exact_duplicates_conflicting >= 1
    result = runner.invoke(app, ["data", "check", str(path), "--strict"])
    assert result.exit_code == 1 and "GIVEAWAY" in result.output


def _two_passes(text: str) -> str:
    """The definition: links out of the lowered text first, then handles, digits and punctuation."""
    text = re.sub(r"https?://\S+|www\.\S+", " ", text.lower())
    return " ".join(re.sub(r"@\S+|\d+|[^\w\s]", " ", text).split())


_PIECES = st.sampled_from(["http://", "https://", "HTTP://", "http", "www.", "Www.", "w", "@", "a", "W", "1", "٣", ".", "/", ":",
                           " ", "\n", "\t", "\x1c", "\x85", "_", "é", "İ", "K", "#",
                           "!", "~", "0", "\x1e", "\x1f", "\x0b", "\x7f", "$", "Σ"])


@given(st.lists(_PIECES, max_size=30).map("".join))
def test_duplicate_key_in_one_pass_equals_the_two_pass_definition(text):
    assert normalise_for_duplicates(text) == _two_passes(text)


@given(st.lists(st.lists(_PIECES, max_size=12).map("".join), max_size=8))
def test_duplicate_keys_of_a_batch_are_each_texts_own(texts):
    """Texts joined into one batch must not leak into each other (links, words, a final sigma)."""
    assert duplicate_keys(texts) == [_two_passes(t) for t in texts]


def test_copies_with_other_links_handles_and_numbers_share_a_key():
    a = normalise_for_duplicates("New post! https://t.co/abc123 via @Brand — 50% off until 3/12")
    b = normalise_for_duplicates("new post!! https://t.co/zzz999 via @brand - 20% off until 4/1 ")
    assert a == b == "new post via off until"
