"""Shared fixtures: paths to the hand-written feed files and to ../shared when present."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
PROJECT = Path(__file__).resolve().parent.parent
SHARED_REAL = PROJECT.parent / "shared" / "real"


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture
def shared_real() -> Path:
    if not (SHARED_REAL / "dev.jsonl").is_file():
        pytest.skip("../shared/real is absent (a user's clone has none)")
    return SHARED_REAL


DATA = PROJECT / "data" / "labeled"

SMALL_MODEL = {"cv": 3, "char_features": 2**14, "n_jobs": 1, "C": 1.0}
"""A model small enough to train in seconds in tests; otherwise the default config."""


def small_training_set(n_accounts: int = 70, seed: int = 0):
    """Whole accounts sampled from the bundled training data (real-shaped, hand-written)."""
    import numpy as np

    from sociability.training import load_labeled

    posts = load_labeled(DATA / "train.jsonl")
    rng = np.random.default_rng(seed)
    accounts = rng.choice(sorted(posts["account"].unique()), size=n_accounts, replace=False)
    return posts[posts["account"].isin(set(accounts))].reset_index(drop=True)


@pytest.fixture(scope="session")
def small_posts():
    return small_training_set()


@pytest.fixture(scope="session")
def small_model(small_posts):
    from sociability.model import SociabilityClassifier

    return SociabilityClassifier(**SMALL_MODEL).fit(small_posts, small_posts["label"])


@pytest.fixture(scope="session")
def saved_model(small_model, small_posts, tmp_path_factory):
    from sociability.persistence import save_model

    path = tmp_path_factory.mktemp("models") / "small"
    card = {"labels": list(small_model.classes_), "config": {"model": SMALL_MODEL}, "metrics": {}}
    return save_model(small_model, card, path)
