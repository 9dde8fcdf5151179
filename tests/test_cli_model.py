"""The classifier commands end to end through typer's CliRunner."""

from __future__ import annotations

import json

import pandas as pd
from typer.testing import CliRunner

from conftest import SMALL_MODEL, small_training_set
from sociability.cli import app

runner = CliRunner()


def test_train_evaluate_predict_explain(tmp_path, fixtures):
    train_file = tmp_path / "train.jsonl"
    small_training_set(n_accounts=30, seed=3).drop(columns=["mentions", "urls", "hashtags"]).to_json(
        train_file, orient="records", lines=True, date_format="iso")
    out = tmp_path / "model"
    overrides = [arg for k, v in SMALL_MODEL.items() for arg in (f"--model.{k}", str(v))]
    result = runner.invoke(app, ["train", "--data", str(train_file), "--out", str(out), *overrides])
    assert result.exit_code == 0, result.output
    assert "cross-validated macro-F1" in result.output and (out / "model.json").is_file()

    result = runner.invoke(app, ["evaluate", str(train_file), "--model", str(out), "--json"])
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.output)
    assert set(metrics["per_label"]) == {"self_promotion", "vanity_retweet", "personal_sharing", "genuine_conversation"}
    assert len(metrics["confusion"]) == 4 and 0 <= metrics["calibration_error"] <= 1

    predictions = tmp_path / "predictions.csv"
    result = runner.invoke(app, ["predict", str(fixtures / "twitter_v1.json"), "--model", str(out), "--out", str(predictions)])
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(predictions)
    assert len(frame) == 5 and {"label", "p_self_promotion", "p_vanity_retweet", "p_personal_sharing", "p_genuine_conversation"} <= set(frame.columns)
    assert frame.filter(like="p_").sum(axis=1).round(6).eq(1).all()

    result = runner.invoke(app, ["explain", "Huge thanks to @dana for the keynote!", "--account", "dana",
                                 "--repost-of", "pyconf", "--model", str(out)])
    assert result.exit_code == 0, result.output
    assert "vanity_retweet" in result.output and "pushed toward" in result.output


def test_model_commands_without_a_model_say_how_to_train(tmp_path, fixtures):
    result = runner.invoke(app, ["predict", str(fixtures / "twitter_v1.json"), "--model", str(tmp_path / "none")])
    assert result.exit_code == 2 and "sociability train" in result.output


def test_train_rejects_a_bad_override():
    result = runner.invoke(app, ["train", "--model.Cee", "1"])
    assert result.exit_code == 2 and "unknown key 'model.Cee'" in result.output
