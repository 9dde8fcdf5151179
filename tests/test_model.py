"""The classifier: scikit-learn contract, determinism, and behaviour that follows the guide."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, GroupKFold

from conftest import SMALL_MODEL, small_training_set
from sociability.explain import explain, make_single_post
from sociability.model import LABELS, SociabilityClassifier, predict_posts


def test_probabilities_are_a_distribution_in_label_order(small_model, small_posts):
    proba = small_model.predict_proba(small_posts.head(50))
    assert proba.shape == (50, 4) and np.allclose(proba.sum(axis=1), 1.0)
    assert list(small_model.classes_) == LABELS
    assert small_model.oof_proba_.shape == (len(small_posts), 4)


def test_learns_the_bundled_data_well_out_of_fold(small_model, small_posts):
    predicted = small_model.classes_[small_model.oof_proba_.argmax(axis=1)]
    assert (predicted == small_posts["label"].to_numpy()).mean() > 0.7


@pytest.mark.parametrize(
    "text, context, label",
    [
        ("So proud of our speaker @dana_codes, best keynote of the conference!", {"account": "dana_codes", "repost_of": "pyconf"}, "vanity_retweet"),
        ("@sam_k did you ever get the wheel build working on ARM? mine still segfaults", {"account": "dana_codes", "reply_to": "sam_k"}, "genuine_conversation"),
    ],
)
def test_clear_cases_follow_the_guide(small_model, text, context, label):
    post = make_single_post(text, **context)
    assert small_model.predict(post)[0] == label


def test_single_post_and_empty_input(small_model):
    post = make_single_post("Burned the pancakes again. Third Sunday in a row.", account="jo_runs")
    assert small_model.predict_proba(post).shape == (1, 4)
    assert small_model.predict_proba(post.iloc[0:0]).shape == (0, 4)


def test_same_seed_same_model():
    posts = small_training_set(n_accounts=30, seed=4)
    a = SociabilityClassifier(**SMALL_MODEL).fit(posts, posts["label"])
    b = SociabilityClassifier(**SMALL_MODEL).fit(posts, posts["label"])
    sample = posts.head(40)
    assert np.array_equal(a.predict_proba(sample), b.predict_proba(sample))


def test_estimator_contract():
    model = SociabilityClassifier(C=0.5, cv=3)
    assert model.get_params()["C"] == 0.5 and clone(model).get_params() == model.get_params()
    with pytest.raises(Exception, match="not fitted"):
        model.predict_proba(make_single_post("hello"))
    posts = small_training_set(n_accounts=30, seed=1)
    search = GridSearchCV(SociabilityClassifier(cv=2, char_features=2**12, use_account=False, n_jobs=1),
                          {"C": [0.5, 2.0]}, cv=GroupKFold(n_splits=2), scoring="f1_macro")
    search.fit(posts, posts["label"], groups=posts["account"])
    assert search.best_params_["C"] in (0.5, 2.0) and 0 < search.best_score_ <= 1


def test_without_account_kinds_there_is_no_account_model():
    posts = small_training_set(n_accounts=30, seed=5).drop(columns=["account_kind"])
    model = SociabilityClassifier(**SMALL_MODEL).fit(posts, posts["label"])
    assert model.account_model_ is None
    assert model.organisation_scores(posts.head(5)).isna().all()


def test_organisation_scores_separate_org_from_person_accounts(small_model, small_posts):
    scores = small_model.organisation_scores(small_posts)
    kinds = small_posts.groupby("account")["account_kind"].first()
    assert scores[kinds == "organisation"].mean() > scores[kinds == "person"].mean() + 0.3


def test_predict_posts_appends_label_and_probabilities(small_model, small_posts):
    out = predict_posts(small_model, small_posts.drop(columns=["label"]).head(20))
    assert [c for c in out.columns if c.startswith("p_")] == [f"p_{label}" for label in LABELS]
    assert out["label"].isin(LABELS).all() and len(out) == 20


def test_explain_names_the_features_that_pushed(small_model):
    post = make_single_post("Thanks @dana_codes for a brilliant workshop today!", account="dana_codes", repost_of="kilnclub")
    result = explain(small_model, post)
    assert result.label == "vanity_retweet"
    assert "mentions_self" in [name for name, _ in result.pushed_toward]
    assert sum(result.probabilities.values()) == pytest.approx(1.0)


def test_parallel_prediction_splits_by_account_and_agrees(small_model, small_posts, monkeypatch):
    import sociability.model as model_module

    monkeypatch.setattr(model_module, "PARALLEL_MIN_POSTS", 10)
    posts = small_posts.drop(columns=["label"])
    one = model_module.predict_by_account(small_model, posts, 1)
    two = model_module.predict_by_account(small_model, posts, 2)
    assert np.allclose(one, two, atol=1e-12)  # each account keeps its whole timeline as context
    assert np.allclose(one, small_model.predict_proba(posts), atol=1e-12)
