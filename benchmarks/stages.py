"""Where the time of `sociability score` goes, per post and per step, in one process.

    python benchmarks/stages.py                    # 30,000 resampled posts, warm caches
    python benchmarks/stages.py --posts 100000 --profile   # plus a pyinstrument profile of the run

The steps are the ones :mod:`sociability.scoring` runs on a chunk, timed one after the other on
the same posts (resampled from the bundled data as in ``throughput.py``), after one untimed pass
that warms the tokenizer's chunk cache, as a long run has it warm.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from throughput import load_sources, write_feed  # noqa: E402

from sociability.scoring import LongRun  # noqa: E402


def stages(feed: Path, model: Path) -> dict[str, float]:
    """Seconds per step over the posts of ``feed``."""
    from sociability import load_model, read_feed
    from sociability.model import POST_CONTEXT
    from sociability.profiles import finish_profile, labeled_columns, load_profile_config, tally_labels, tally_posts, weekly_accounts

    estimator = load_model(model).estimator
    estimator.featurizer_.transform(read_feed(feed).posts)  # warm the chunk cache
    seconds: dict[str, float] = {}
    start = time.perf_counter()

    def step(name: str) -> None:
        nonlocal start
        now = time.perf_counter()
        seconds[name] = now - start
        start = now

    posts = read_feed(feed).posts
    step("read and parse JSONL")
    F = estimator.featurizer_.transform(posts)
    step("featurize (tokens, signals, structure)")
    P = estimator._text_model_proba(F)
    step("hashed n-grams + text-stage LR")
    sums = estimator.context_sums(posts, F, P)
    step("context sums")
    tallies = tally_posts(posts, F["link_only"].to_numpy())
    step("post tallies")
    context = estimator.account_context(sums)
    proba = estimator.context_stage(posts["account"].to_numpy(), F[POST_CONTEXT].to_numpy(), P, context)
    step("context stage")
    tally_labels(tallies, labeled_columns(posts), proba, weekly_accounts(tallies))
    step("label tallies")
    config = load_profile_config()
    [finish_profile(t, estimator, config, config["shares"]["method"]) for t in tallies.values()]
    step("finish profiles")
    seconds["_posts"] = len(posts)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=30_000)
    parser.add_argument("--model", type=Path, default=Path("models/default"))
    parser.add_argument("--profile", action="store_true", help="also print a pyinstrument profile of score_feeds")
    args = parser.parse_args(argv)
    if not (args.model / "model.joblib").is_file():
        print(f"error: no model in {args.model}; run `sociability train` first", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        feed = write_feed(Path(tmp) / "posts.jsonl", load_sources(), args.posts)
        with LongRun():  # the collector's settings of `score`
            seconds = stages(feed, args.model)
        n = seconds.pop("_posts")
        total = sum(seconds.values())
        print(f"{n:,} posts, one process, warm caches")
        for name, value in seconds.items():
            print(f"{name:40s} {1e6 * value / n:7.1f} us/post  {100 * value / total:4.0f}%")
        print(f"{'total':40s} {1e6 * total / n:7.1f} us/post  ({n / total:,.0f} posts/s)")
        if args.profile:
            from pyinstrument import Profiler

            from sociability.scoring import score_feeds

            profiler = Profiler(interval=0.001)
            profiler.start()
            score_feeds([feed], args.model, jobs=1)
            profiler.stop()
            print(profiler.output_text(unicode=False, color=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
