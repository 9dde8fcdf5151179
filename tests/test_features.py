"""Post and account features: normalised text, structure, hashed character n-grams, account summaries."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sociability.explain import make_single_post
from sociability.features import (
    ACCOUNT_FEATURES,
    STRUCTURAL,
    HashedNgrams,
    PostFeaturizer,
    TextFeatures,
    account_features,
    account_prior,
)
from sociability.feeds import read_feed
from sociability.posts import to_frame

DATA = Path(__file__).resolve().parents[1] / "data" / "labeled"


def featurize(frame: pd.DataFrame) -> pd.DataFrame:
    return PostFeaturizer().fit(frame).transform(frame)


def test_own_handle_other_handles_and_links_are_normalised():
    post = make_single_post("Huge thanks to @Dana_Codes and @sam_k for the keynote! https://t.co/Ab3xYz9QwE",
                            account="dana_codes", repost_of="pyconf")
    row = featurize(post).iloc[0]
    assert row["norm_text"].split()[:1] == ["xrt"]
    assert "xself" in row["norm_text"] and "xuser" in row["norm_text"] and "xurl" in row["norm_text"]
    assert "dana_codes" not in row["norm_text"] and "sam_k" not in row["norm_text"]
    assert row["is_repost"] == 1 and row["mentions_self"] == 1 and row["repost_of_self"] == 0


def test_reply_thread_and_link_only_structure():
    reply = make_single_post("@bob e.g. https://t.co/pTdfKu7f", account="amy", reply_to="bob")
    thread = make_single_post("(and the second half of that thought)", account="amy", reply_to="amy")
    bare = make_single_post("https://t.co/7TXZk2BssT", account="amy")
    rows = featurize(pd.concat([reply, thread, bare], ignore_index=True))
    assert rows["is_reply_other"].tolist() == [1, 0, 0]
    assert rows["is_self_reply"].tolist() == [0, 1, 0]
    assert rows["link_only"].tolist()[2] == 1 and rows["starts_with_mention"].tolist()[0] == 1
    assert rows["norm_text"].iloc[0].startswith("xreply") and rows["norm_text"].iloc[1].startswith("xthread")


def test_quote_of_praise_sees_the_quoted_text():
    quote = make_single_post("Thank you!!", account="larkkitchen", quote_of="leedsfoodguide",
                             quoted_text="Best new opening this year? @LarkKitchen, no contest.")
    row = featurize(quote).iloc[0]
    assert row["quote_mentions_self"] == 1 and "xquoted" in row["norm_text"]


def _entries_per_row(matrix) -> list[int]:
    return np.diff(matrix.indptr).tolist()


def test_hashed_char_ngrams_count_every_window_and_never_cross_texts():
    texts = ["abc", "hello world", ""]
    matrix = HashedNgrams("char", (2, 4), 2**16, min_df=1).fit(texts).transform(texts)
    for i, text in enumerate(texts):
        padded = f" {text} "
        assert _entries_per_row(matrix)[i] == sum(max(0, len(padded) - n + 1) for n in range(2, 5))
        assert np.linalg.norm(matrix[i].toarray().sum(axis=0)) == pytest.approx(1.0)  # TF-IDF, L2-normalised
    # the same n-gram lands in the same column whatever text it is in
    one = HashedNgrams("char", (3, 3), 2**16, min_df=1).fit(["xyz"]).transform(["xyz", "a xyz b"])
    assert set(one[0].indices) <= set(one[1].indices) and one[0].nnz == 3


def test_hashed_char_ngrams_handle_non_ascii():
    texts = ["café ☕ naïve", "🎉🎉🎉"]
    matrix = HashedNgrams("char", (2, 3), 2**12, min_df=1).fit(texts).transform(texts)
    assert matrix.shape[0] == 2 and _entries_per_row(matrix)[1] == (5 - 1) + (5 - 2)  # " 🎉🎉🎉 " is 5 code points


def test_hashed_word_ngrams_match_a_count_vectorizer():
    """Up to collisions, the hashed words are scikit-learn's TF-IDF (raw tf, smooth idf, L2)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = ["xrt thanks xuser for the shoutout", "new post xurl", "the new menu is up xurl", "thanks all", "xnum new"]
    hashed = HashedNgrams("word", (1, 2), 2**20, min_df=1).fit(texts)
    reference = TfidfVectorizer(token_pattern=r"\S+", lowercase=False, ngram_range=(1, 2)).fit(texts)
    assert sorted(hashed.get_feature_names_out()) == sorted(reference.get_feature_names_out())
    order = [list(hashed.get_feature_names_out()).index(name) for name in reference.get_feature_names_out()]
    expected = reference.transform(texts + ["unseen words thanks"]).toarray()
    assert np.allclose(hashed.transform(texts + ["unseen words thanks"]).toarray()[:, order], expected)


def test_text_features_equal_a_column_transformer():
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import StandardScaler

    frame = featurize(read_feed(DATA / "test.jsonl").posts.head(400))
    numeric = STRUCTURAL[:5]
    combined = TextFeatures(char_ngrams=(2, 3), char_features=2**12, numeric=numeric).fit(frame)
    reference = ColumnTransformer([
        ("words", HashedNgrams("word", (1, 2), 2**20, 2), "norm_text"),
        ("chars", HashedNgrams("char", (2, 3), 2**12), "norm_text"),
        ("structure", StandardScaler(), numeric),
    ], sparse_threshold=1.0).fit(frame)
    assert abs(combined.transform(frame) - reference.transform(frame)).max() < 1e-12
    assert list(combined.get_feature_names_out()) == list(reference.get_feature_names_out())


def test_account_summary_shrinks_short_timelines_to_the_prior():
    chatty = [make_single_post(f"@friend{i} ha, same here", account="chatty", reply_to=f"friend{i}") for i in range(40)]
    lone = [make_single_post("Just listed! 3 bed, 2 bath. https://t.co/x", account="lone")]
    frame = pd.concat(chatty + lone, ignore_index=True)
    features = featurize(frame)
    prior = pd.Series(0.2, index=ACCOUNT_FEATURES)
    acc = account_features(frame["account"], features[STRUCTURAL + [c for c in features if c.startswith("sig_")]], prior, 5.0)
    assert acc.loc[0, "acc_reply_other"] == pytest.approx((40 + 5 * 0.2) / 45)
    assert acc.loc[40, "acc_reply_other"] == pytest.approx((0 + 5 * 0.2) / 6)
    assert acc.loc[40, "acc_link"] == pytest.approx((1 + 5 * 0.2) / 6)
    assert set(account_prior(frame["account"], features[STRUCTURAL + [c for c in features if c.startswith("sig_")]]).index) == set(ACCOUNT_FEATURES)


def test_a_small_chunk_cache_cleared_between_batches_gives_the_same_features(monkeypatch):
    import sociability.features as features

    posts = pd.read_json(DATA / "test.jsonl", lines=True).drop(columns=["label"])
    featurizer = PostFeaturizer().fit(posts)
    expected = featurizer.transform(posts)
    monkeypatch.setattr(features, "_CHUNK_CACHES", {})
    original = features._ChunkCache.__init__
    monkeypatch.setattr(features._ChunkCache, "__init__", lambda self, nlp, names: original(self, nlp, names, limit=300))
    batches = [featurizer.transform(posts.iloc[i:i + 97]) for i in range(0, len(posts), 97)]
    cache = next(iter(features._CHUNK_CACHES.values()))
    assert cache.limit == 300 and len(cache.text) < 300 + 97 * 60  # cleared as it went, not grown to every chunk
    pd.testing.assert_frame_equal(pd.concat(batches), expected, check_exact=True)


def test_a_full_chunk_cache_keeps_its_most_used_chunks():
    from collections import Counter

    import sociability.features as features

    texts = pd.read_json(DATA / "test.jsonl", lines=True)["text"].tolist()[:150]
    nlp = features._social_nlp("lexicon.toml", "blank:en")
    cache = features._ChunkCache(nlp, nlp.signal_names, limit=200)
    cache.sums(cache.ids_of(texts))
    uses = Counter(chunk for text in texts for chunk in text.split(" "))
    assert len(cache.text) == len(uses) + ("" not in uses) > 200
    cache.make_room()
    assert len(cache.text) == 100 and cache.ids[""] == 0
    kept = {chunk for chunk in uses if chunk in cache.ids}
    assert min(uses[c] for c in kept if c) >= max(uses[c] for c in uses if c not in kept)
    assert uses.most_common(1)[0][0] in cache.ids
    again = features._ChunkCache(nlp, nlp.signal_names)
    for ids, fresh in zip(cache.ids_of(texts), again.ids_of(texts)):  # what was kept is what a fresh cache learns
        assert cache.text_of(ids, "someone") == again.text_of(fresh, "someone")
        assert cache.signal_counts(ids, True) == again.signal_counts(fresh, True)
    assert (cache.sums(cache.ids_of(texts))[0] == again.sums(again.ids_of(texts))[0]).all()
