"""score, compare and demo through the CLI, on feeds in every format."""

from __future__ import annotations

import json
import shutil

import pandas as pd
from typer.testing import CliRunner

from conftest import PROJECT
from sociability.cli import app

runner = CliRunner()
FEEDS = sorted(p for p in (PROJECT / "data" / "feeds").iterdir() if p.is_file())


def test_score_json_one_object_per_account(saved_model, fixtures):
    feeds = [fixtures / "twitter_archive", fixtures / "mastodon_export" / "outbox.json", fixtures / "bluesky_feed.json",
             fixtures / "twarc2.jsonl", fixtures / "twitter_v1.json"]
    result = runner.invoke(app, ["score", *map(str, feeds), "--model", str(saved_model), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {d["account"] for d in data} == {"glazegeek", "wren@fosstodon.example", "sol-runs.bsky.social", "riverdb", "larkkitchen"}
    for d in data:
        assert 0 <= d["score"]["low"] <= d["score"]["estimate"] <= d["score"]["high"] <= 100
        assert d["shares"]["genuine_conversation"]["low"] <= d["shares"]["genuine_conversation"]["estimate"]


def test_compare_sample_timelines_every_output(saved_model, tmp_path):
    html, csv, png = tmp_path / "report.html", tmp_path / "table.csv", tmp_path / "charts"
    result = runner.invoke(app, ["compare", *map(str, FEEDS), "--model", str(saved_model), "--html", str(html),
                                 "--csv", str(csv), "--png", str(png)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(csv)
    assert len(table) == 6 and list(table["rank"]) == [1, 2, 3, 4, 5, 6]
    assert table["score"].is_monotonic_decreasing
    assert html.read_text().count("<svg") == 4 and len(list(png.glob("*.png"))) == 4
    assert "HTML report:" in result.output
    markdown = runner.invoke(app, ["compare", *map(str, FEEDS[:2]), "--model", str(saved_model), "--markdown"])
    assert markdown.exit_code == 0 and markdown.stdout.startswith("| rank | account")


def test_compare_only_some_accounts_and_bad_inputs(saved_model, tmp_path):
    result = runner.invoke(app, ["compare", *map(str, FEEDS), "--model", str(saved_model), "--only", "brightbowl",
                                 "--only", "@InkwellBooks", "--json"])
    assert result.exit_code == 0, result.output
    assert {d["account"] for d in json.loads(result.stdout)} == {"brightbowl", "inkwellbooks"}
    bad = runner.invoke(app, ["compare", str(FEEDS[0]), "--model", str(saved_model), "--method", "guess"])
    assert bad.exit_code == 2 and "unknown share method 'guess'" in bad.output


def test_demo_with_an_existing_model_writes_the_report(saved_model, tmp_path):
    model = tmp_path / "model"
    shutil.copytree(saved_model, model)
    out = tmp_path / "demo.html"
    result = runner.invoke(app, ["demo", "--model", str(model), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.is_file() and str(out.resolve()) in result.output.replace("\n", "")
