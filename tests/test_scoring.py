"""Streaming, multi-process and Dask scoring give exactly the profiles of one pass."""

from __future__ import annotations

import gc
import json
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sociability import profile, read_feeds
from sociability.model import predict_posts
from sociability.profiles import SKETCH_SIZE, Sketch, stable_hash
from sociability import scoring
from sociability.errors import SociabilityError
from sociability.scoring import ReadOptions, Workers, plan, predict_feeds, score_feeds

PROJECT = Path(__file__).resolve().parent.parent
SAMPLE_FEEDS = sorted(p for p in (PROJECT / "data" / "feeds").iterdir() if p.is_file())


def _dicts(profiles) -> dict[str, dict]:
    return {p.account: p.to_dict() for p in profiles}


@pytest.fixture(scope="module")
def big_jsonl(tmp_path_factory) -> Path:
    """The bundled test posts as one JSONL table, with a malformed line and a post with no text."""
    path = tmp_path_factory.mktemp("feeds") / "many.jsonl"
    lines = (PROJECT / "data" / "labeled" / "test.jsonl").read_text(encoding="utf-8").splitlines()
    lines.insert(300, '{"account": "broken", "text": "cut off')
    lines.insert(700, json.dumps({"account": "someone", "post_id": "x1", "created_at": "2024-01-01T00:00:00Z", "text": ""}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_chunks_and_processes_give_the_profiles_of_one_pass(small_model):
    one_pass = _dicts(profile(read_feeds(SAMPLE_FEEDS).posts, small_model))
    streamed = score_feeds(SAMPLE_FEEDS, small_model, jobs=1, chunk_size=37)
    assert _dicts(streamed.profiles) == one_pass
    parallel = score_feeds(SAMPLE_FEEDS, small_model, jobs=2, chunk_size=100)
    assert _dicts(parallel.profiles) == one_pass
    assert streamed.n_read == streamed.n_scored == 1027 and not streamed.rejects


def test_a_jsonl_feed_cut_in_byte_ranges_gives_the_same_profiles_and_accounts_for_every_line(small_model, big_jsonl):
    result = read_feeds([big_jsonl])
    one_pass = _dicts(profile(result.posts, small_model))
    assert len(plan([big_jsonl], part_bytes=50_000)) > 5
    streamed = score_feeds([big_jsonl], small_model, jobs=2, chunk_size=200, part_bytes=50_000)
    assert _dicts(streamed.profiles) == one_pass
    assert streamed.n_read == result.n_read == streamed.n_scored + streamed.n_rejected
    assert sorted(r.line for r in streamed.rejects) == [301, 701]
    assert all(r.source == str(big_jsonl) for r in streamed.rejects)


def test_only_some_accounts_are_counted_as_skipped(small_model):
    result = score_feeds(SAMPLE_FEEDS, small_model, jobs=1, options=ReadOptions(only=frozenset({"brightbowl", "wren@fosstodon.org"})))
    assert sorted(p.account for p in result.profiles) == ["brightbowl", "wren@fosstodon.org"]
    assert result.n_read == result.n_scored + result.n_skipped and result.n_skipped > 0
    assert "skipped" in result.summary()


def test_dask_engine_gives_the_local_profiles(small_model, big_jsonl, tmp_path):
    pytest.importorskip("dask.distributed")
    posts = read_feeds([big_jsonl]).posts
    table = tmp_path / "posts.parquet"
    posts.to_parquet(table)
    feeds = [big_jsonl, table, PROJECT / "data" / "feeds" / "drlenaprice-twarc2.jsonl", PROJECT / "data" / "feeds" / "wren-mastodon-export.zip"]
    local = score_feeds(feeds, small_model, jobs=1, chunk_size=500)
    distributed = score_feeds(feeds, small_model, engine="dask", jobs=2, chunk_size=300)
    assert _dicts(distributed.profiles) == _dicts(local.profiles)
    assert (distributed.n_read, distributed.n_scored, distributed.n_rejected) == (local.n_read, local.n_scored, local.n_rejected)


def test_streamed_predictions_equal_one_call_and_keep_the_feed_order(small_model, big_jsonl, tmp_path):
    posts = read_feeds([big_jsonl]).posts
    expected = predict_posts(small_model, posts)
    out = tmp_path / "labeled.parquet"
    result = predict_feeds([big_jsonl], small_model, out, jobs=2, chunk_size=150, part_bytes=40_000)
    got = pd.read_parquet(out)
    assert result.n_scored == len(got) == len(expected)
    assert got["post_id"].tolist() == expected["post_id"].tolist()
    assert (got["label"].to_numpy() == expected["label"].to_numpy()).all()
    columns = [c for c in expected if c.startswith("p_")]
    assert np.abs(got[columns].to_numpy() - expected[columns].to_numpy()).max() < 1e-8
    csv = tmp_path / "labeled.csv"
    predict_feeds([big_jsonl], small_model, csv, jobs=1, chunk_size=400)
    assert pd.read_csv(csv)["post_id"].astype(str).tolist() == expected["post_id"].tolist()  # one header


def test_sketch_is_exact_when_small_and_merges_in_any_order():
    texts = [f"text {i % 400}" for i in range(1000)]
    networks = [1] * 650 + [2] * 350
    keys = [stable_hash(t) for t in texts]
    whole = Sketch.of(keys, networks)
    assert whole.distinct() == 400 and not whole.saturated
    a, b, c = Sketch.of(keys[:300], networks[:300]), Sketch.of(keys[300:650], networks[300:650]), Sketch.of(keys[650:], networks[650:])
    left, right = a.merge(b).merge(c), c.merge(a.merge(b))
    assert left.hashes.tolist() == right.hashes.tolist() == whole.hashes.tolist()
    assert left.counts.tolist() == whole.counts.tolist() and left.counts.sum() == 1000
    seen_on: dict[str, set[int]] = {}
    for text, network in zip(texts, networks):
        seen_on.setdefault(text, set()).add(network)
    expected = sum(len(seen_on[t]) > 1 for t in texts) / len(texts)  # occurrences of texts posted on both
    assert left.multi_network_share() == pytest.approx(expected) and 0 < expected < 1
    for empty_side in (left.merge(Sketch()), Sketch().merge(left)):  # what a label tally brings
        assert empty_side.hashes.tolist() == left.hashes.tolist() and empty_side.counts.tolist() == left.counts.tolist()


def test_sketch_estimates_distinct_keys_beyond_its_size():
    n = 20 * SKETCH_SIZE
    parts = [Sketch.of([stable_hash(f"k{i}") for i in range(start, n, 7)]) for start in range(7)]
    merged = parts[0]
    for part in parts[1:]:
        merged = merged.merge(part)
    assert merged.saturated and len(merged.hashes) == SKETCH_SIZE
    assert merged.merge(Sketch()).saturated and Sketch().merge(merged).distinct() == merged.distinct()
    assert merged.distinct() == pytest.approx(n, rel=0.1)


def test_cli_score_streams_with_jobs_and_writes_rejects(saved_model, big_jsonl, tmp_path):
    from typer.testing import CliRunner

    from sociability.cli import app

    rejects = tmp_path / "rejects.jsonl"
    run = CliRunner().invoke(app, ["score", str(big_jsonl), "--model", str(saved_model), "--jobs", "2",
                                   "--chunk-size", "300", "--rejects", str(rejects), "--json"])
    assert run.exit_code == 0, run.output
    profiles = json.loads(run.stdout)
    assert len(profiles) == 64
    lines = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert [r["line"] for r in lines] == [301, 701] and "post has no text" in lines[1]["reason"]


class _Unpicklable:
    """A stand-in model that refuses to be pickled: forked workers must share it, not receive it."""

    factor = 3

    def __reduce__(self):
        raise TypeError("this model must not be pickled")


def _times(model, x: int) -> tuple[int, int]:
    return os.getpid(), model.factor * x


def _die(model, x: int) -> int:
    os._exit(1)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers are forked on Linux only")
def test_forked_workers_share_the_loaded_model_and_a_dead_worker_is_a_one_line_error():
    with Workers(2, _Unpicklable()) as workers:
        results = list(workers.map(_times, [(x,) for x in range(12)]))
    assert [value for _, value in results] == [3 * x for x in range(12)]  # in task order
    assert os.getpid() not in {pid for pid, _ in results}
    with pytest.raises(SociabilityError, match="worker process died"):
        with Workers(2, _Unpicklable()) as workers:
            list(workers.map(_die, [(1,), (2,)]))
    with pytest.raises(Exception, match="pickle"):  # raised, not hung on the way out
        with Workers(2, _Unpicklable()) as workers:
            list(workers.map(lambda model, x: x, [(1,), (2,)]))


def _collector(model, x: int) -> tuple[int, int]:
    return gc.get_freeze_count(), gc.get_threshold()[0]


def test_workers_spare_the_collector_the_model_and_give_the_settings_back():
    """Workers run in :class:`scoring.LongRun`: the model frozen, cycles looked for less often."""
    before = gc.get_threshold()
    model = _Unpicklable()
    with Workers(1, model) as workers:
        frozen, young = next(workers.map(_collector, [(0,)]))
    assert frozen > 0 and young == max(scoring.GC_YOUNG_THRESHOLD, before[0])
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
    with pytest.raises(ValueError):
        with Workers(1, model):
            raise ValueError("a run that fails")
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_a_big_jsonl_feed_is_cut_finer_for_several_processes(big_jsonl, monkeypatch):
    monkeypatch.setattr(scoring, "MIN_PART_BYTES", 10_000)
    one, two = plan([big_jsonl], jobs=1), plan([big_jsonl], jobs=2)
    assert len(one) == 1 and len(two) >= 2 * scoring.UNITS_PER_JOB
    sizes = [unit.span.end - unit.span.start for unit in two]
    assert max(sizes) < 1.5 * min(sizes)  # about equal, so processes finish together
