"""Config-driven training, the model card, and loading models safely."""

from __future__ import annotations

import json
import shutil
import warnings

import joblib
import pandas as pd
import pytest

from conftest import SMALL_MODEL, small_training_set
from sociability.errors import SociabilityError
from sociability.persistence import VersionWarning, load_model
from sociability.training import load_config, load_labeled, parse_overrides, train


def test_config_is_validated_and_overridden():
    config = load_config("default.toml", {"model.C": 0.5, "seed": 3})
    assert config["model"]["C"] == 0.5 and config["seed"] == 3
    with pytest.raises(SociabilityError, match="unknown key 'model.Cee'"):
        load_config("default.toml", {"model.Cee": 1})
    with pytest.raises(SociabilityError, match="'seed' must be int"):
        load_config("default.toml", {"seed": "three"})
    assert parse_overrides(["--model.C", "0.25", "--model.use_chars=false", "--data.train", "x.csv"]) == {
        "model.C": 0.25, "model.use_chars": False, "data.train": "x.csv"}


def test_unknown_labels_are_named(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("text,account,created_at,label\nhello there,amy,2020-01-01,chit_chat\nbuy now,shop,2020-01-02,self_promotion\n")
    with pytest.raises(SociabilityError, match=r"unknown labels \['chit_chat'\]"):
        load_labeled(path)


def small_config(tmp_path):
    return load_config("default.toml", {f"model.{k}": v for k, v in SMALL_MODEL.items()})


def test_train_on_a_users_own_csv_writes_a_complete_card(tmp_path):
    posts = small_training_set(n_accounts=30, seed=2)
    csv = tmp_path / "mine.csv"
    posts[["post_id", "account", "created_at", "text", "label"]].assign(
        text=lambda f: [("RT @" + (r or "x") + ": " + t) if rt else t for t, rt, r in zip(posts["text"], posts["is_repost"], posts["reposted_from"])]
    ).to_csv(csv, index=False)
    result = train(small_config(tmp_path), data=csv)
    card = result.card
    assert card["data"]["posts"] == len(posts) and len(card["data"]["sha256"]) == 64
    assert card["labels"] == ["self_promotion", "vanity_retweet", "personal_sharing", "genuine_conversation"]
    assert 0.5 < card["metrics"]["cross_validated"]["macro_f1"] <= 1.0
    assert "test" not in card["metrics"]  # --data replaces the bundled split
    assert card["config"]["model"]["C"] == SMALL_MODEL["C"]
    rates = card["quantification"]["confusion_rates"]
    assert len(rates) == 4 and all(abs(sum(row) - 1) < 1e-3 for row in rates)


def test_saved_model_round_trips(saved_model, small_model, small_posts):
    loaded = load_model(saved_model)
    sample = small_posts.head(30)
    assert (loaded.estimator.predict_proba(sample) == small_model.predict_proba(sample)).all()
    card = json.loads((saved_model / "model.json").read_text())
    assert set(card["versions"]) >= {"scikit-learn", "spacy", "numpy", "python", "sociability"}
    assert len(card["model_sha256"]) == 64 and card["model_file"] == "model.joblib"


def copy_model(saved_model, tmp_path):
    target = tmp_path / "copy"
    shutil.copytree(saved_model, target)
    return target


def test_tampered_model_is_refused(saved_model, tmp_path):
    target = copy_model(saved_model, tmp_path)
    data = bytearray((target / "model.joblib").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (target / "model.joblib").write_bytes(bytes(data))
    with pytest.raises(SociabilityError, match="does not match its card"):
        load_model(target)


def test_truncated_model_is_a_clear_error(saved_model, tmp_path):
    from sociability.training import file_sha256

    target = copy_model(saved_model, tmp_path)
    model_file = target / "model.joblib"
    model_file.write_bytes(model_file.read_bytes()[:2000])
    card = json.loads((target / "model.json").read_text())
    card["model_sha256"] = file_sha256(model_file)  # a consistent card cannot make a broken pickle load
    (target / "model.json").write_text(json.dumps(card))
    with pytest.raises(SociabilityError, match="corrupt or truncated"):
        load_model(target)


def test_library_versions_are_checked(saved_model, tmp_path):
    target = copy_model(saved_model, tmp_path)
    card = json.loads((target / "model.json").read_text())
    major, minor = (int(p) for p in card["versions"]["scikit-learn"].split(".")[:2])
    card["versions"]["scikit-learn"] = f"{major}.{minor + 1}.0"
    (target / "model.json").write_text(json.dumps(card))
    with pytest.warns(VersionWarning, match="scikit-learn"):
        load_model(target)
    card["versions"]["scikit-learn"] = f"{major + 1}.0.0"
    (target / "model.json").write_text(json.dumps(card))
    with pytest.raises(SociabilityError, match="retrain"):
        load_model(target)


def test_label_set_must_match_the_card(saved_model, tmp_path):
    target = copy_model(saved_model, tmp_path)
    card = json.loads((target / "model.json").read_text())
    card["labels"] = ["self_promotion", "personal_sharing"]
    (target / "model.json").write_text(json.dumps(card))
    with pytest.raises(SociabilityError, match="labels"):
        load_model(target)


def test_missing_model_says_how_to_train(tmp_path):
    with pytest.raises(SociabilityError, match="sociability train"):
        load_model(tmp_path / "nothing-here")
