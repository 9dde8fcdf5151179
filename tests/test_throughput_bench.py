"""benchmarks/throughput.py: the resampled feed it generates and the tables and targets it prints."""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

import pytest

from sociability import read_feed

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import throughput  # noqa: E402
from throughput import (  # noqa: E402
    Figures, checks, load_sources, n_accounts, render_markdown, render_text, resample, write_feed,
)


@pytest.fixture(scope="module")
def sources() -> list[dict]:
    return load_sources()


def test_resample_is_seeded_with_unique_ids_and_synthetic_accounts(sources):
    first = list(resample(sources, 5000, seed=1))
    assert first == list(resample(sources, 5000, seed=1))
    assert first != list(resample(sources, 5000, seed=2))
    assert len({r["post_id"] for r in first}) == 5000
    assert {r["account"] for r in first} == {f"acct{i:05d}" for i in range(1, 51)}  # one per 100 posts
    assert not {"label", "hard", "batch", "account_kind"} & set().union(*first)
    assert {"platform", "created_at", "text", "is_repost", "is_reply", "reposted_from", "reply_to"} <= set(first[0])
    assert (n_accounts(100), n_accounts(5_000), n_accounts(50_000), n_accounts(5_000_000)) == (20, 50, 500, 500)


def test_resample_only_redraws_digits_of_some_posts(sources):
    shapes = {re.sub(r"\d", "0", r["text"]) for r in sources}
    verbatim = {r["text"] for r in sources}
    texts = [r["text"] for r in resample(sources, 3000)]
    assert all(re.sub(r"\d", "0", t) in shapes for t in texts)
    changed = sum(t not in verbatim for t in texts) / len(texts)
    assert 0.05 < changed < throughput.DIGIT_SHARE  # only posts with digits can change


def test_resample_is_lazy(sources):
    started = time.perf_counter()
    records = resample(sources, 10**12)  # would not fit anywhere if it were materialised
    assert next(records)["post_id"] == "p000000000" and next(records)["post_id"] == "p000000001"
    assert time.perf_counter() - started < 1


def test_written_feed_reads_back_as_canonical_posts(sources, tmp_path):
    feed = write_feed(tmp_path / "posts.jsonl", sources, 2000)
    assert sum(1 for _ in open(feed, encoding="utf-8")) == 2000
    result = read_feed(feed, format="table")
    assert (result.n_accepted, result.n_rejected) == (2000, 0)
    assert result.posts["post_id"].is_unique and result.posts["account"].nunique() == 20
    assert "label" not in result.posts


def fake_figures(**changes) -> dict:
    """One run's figures: score 1 job 3x spaCy but 0.4x scikit-learn, memory flat, 1.5x on 2 cores."""
    data = {
        "date": "2025-01-01 00:00 UTC",
        "machine": {"cores": 2, "cpu": "Test CPU", "memory_gb": 8.0, "os": "Linux", "python": "3.11.0",
                    "libraries": {"scikit-learn": "1.5.0", "spacy": "3.7.0"}},
        "compare_posts": 200_000,
        "compared": [
            {"what": throughput.SCORE_1, "posts": 200_000, "seconds": 20.0, "peak_rss_mb": 900.0},
            {"what": throughput.SCORE_ALL, "posts": 200_000, "seconds": 13.3333, "peak_rss_mb": 1500.0},
            {"what": throughput.SKLEARN, "posts": 200_000, "seconds": 8.0, "peak_rss_mb": 700.0},
            {"what": throughput.SPACY, "posts": 200_000, "seconds": 60.0, "peak_rss_mb": 400.0},
        ],
        "sizes": [
            {"what": throughput.SCORE_1, "posts": 100_000, "seconds": 10.0, "peak_rss_mb": 800.0},
            {"what": throughput.SCORE_1, "posts": 5_000_000, "seconds": 500.0, "peak_rss_mb": 850.0},
        ],
        "command": "sociability score FILE --jobs N",
    }
    return data | changes


def test_checks_are_ratios_of_the_same_run():
    found = {c.name: (round(c.ratio, 3), c.result) for c in checks(Figures.from_dict(fake_figures()))}
    assert found == {
        "score 1 job / spaCy textcat-bow (posts/s)": (3.0, "PASS"),
        "score 1 job / bare scikit-learn (posts/s)": (0.4, "MISS"),
        "peak RSS 5,000,000 / 100,000 posts": (1.062, "PASS"),
        "score 2 jobs / 1 job (posts/s)": (1.5, "MISS"),
    }


def test_text_and_markdown_show_every_measure_and_target():
    figures = Figures.from_dict(fake_figures())
    text = render_text(figures)
    assert "2 cores, Test CPU" in text and "scikit-learn 1.5.0" in text
    assert re.search(r"score, 1 job\s+200,000\s+20\.0\s+10,000\s+900", text)
    assert re.search(r"5,000,000\s+500\.0\s+10,000\s+850", text)
    assert re.search(r"spaCy textcat-bow \(posts/s\)\s+3\.00x\s+>= 2\.00x\s+PASS", text)
    assert re.search(r"peak RSS 5,000,000 / 100,000 posts\s+1\.06x\s+<= 1\.10x\s+PASS", text)
    assert "sociability score FILE --jobs N" in text
    markdown = render_markdown(figures)
    assert "| score 2 jobs / 1 job (posts/s) | 1.50x | >= 1.70x | MISS |" in markdown
    assert "| spaCy textcat-bow nlp.pipe | 200,000 | 60.0 | 3,333 | 400 |" in markdown


def test_failed_measure_is_shown_and_its_targets_are_not_judged():
    data = fake_figures(sizes=[{"what": throughput.SCORE_1, "posts": 100_000, "seconds": 10.0, "peak_rss_mb": 800.0},
                               {"what": throughput.SCORE_1, "posts": 5_000_000, "error": "exit -9"}])
    data["compared"][3] = {"what": throughput.SPACY, "posts": 200_000, "error": "exit 1: ModuleNotFoundError"}
    figures = Figures.from_dict(json.loads(json.dumps(Figures.from_dict(data).to_dict())))  # as --json saves it
    results = [c.result for c in checks(figures)]
    assert results == ["n/a", "MISS", "n/a", "MISS"]
    text = render_text(figures)
    assert re.search(r"5,000,000\s+failed\s+exit -9", text)
    assert "needs two sizes measured" in text


def test_missing_model_is_a_one_line_error(tmp_path, capsys):
    assert throughput.main(["--model", str(tmp_path / "nothing"), "--sizes", "10", "--compare-n", "10"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "sociability train" in err


def test_repeated_runs_keep_the_median_time_and_the_highest_memory():
    runs = [throughput.Measure(throughput.SCORE_1, 1000, seconds, rss) for seconds, rss in ((9.0, 500.0), (7.0, 520.0), (12.0, 480.0))]
    kept = throughput.median_of(runs)
    assert (kept.seconds, kept.peak_rss_mb, kept.runs) == (9.0, 520.0, [9.0, 7.0, 12.0])
    assert throughput.median_of(runs[:2]).seconds == 7.0  # an even count keeps the faster middle run
    failed = throughput.Measure(throughput.SCORE_1, 1000, error="exit 1: boom")
    assert throughput.median_of([runs[0], failed]).error == "exit 1: boom"
    figures = Figures.from_dict(fake_figures(repeat=3))
    assert "each measure run 3 times" in render_text(figures)
    assert "run 3 times" not in render_text(Figures.from_dict(fake_figures()))
