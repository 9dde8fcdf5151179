"""Accuracy of a trained model on real, labeled public posts (../shared/real/dev.jsonl).

The posts' accounts are scored as timelines: every other post of the same account found in
timelines.jsonl and pool.jsonl beside the dev file (unlabeled) is passed along as context, as
`sociability score` would see a whole timeline. Also reported: the same posts with no context
beyond themselves, and the text stage alone.

    python benchmarks/real_eval.py --data ../shared/real/dev.jsonl [--model models/default]
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import pandas as pd

from sociability import load_model, read_feed, read_feeds
from sociability.evaluation import compute_metrics


def real_context(dev: pd.DataFrame, folder: Path) -> pd.DataFrame:
    """Unlabeled posts of the dev accounts from the real timelines and pool, minus the dev posts."""
    sources = [p for p in (folder / "timelines.jsonl", folder / "pool.jsonl") if p.is_file()]
    if not sources:
        return dev.iloc[0:0].drop(columns=["label"], errors="ignore")
    posts = read_feeds(sources).posts
    keep = posts["account"].isin(set(dev["account"])) & ~posts["post_id"].isin(set(dev["post_id"]))
    return posts[keep]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/real/dev.jsonl"))
    parser.add_argument("--model", type=Path, default=Path("models/default"))
    parser.add_argument("--json", action="store_true", help="print metrics as JSON")
    args = parser.parse_args(argv)
    if not args.data.is_file():
        print(f"skipped: {args.data} not found (real posts live in ../shared, absent from a user's clone)")
        return 0
    warnings.filterwarnings("ignore", category=UserWarning)
    model = load_model(args.model)
    dev = read_feed(args.data).posts
    context = real_context(dev, args.data.parent)
    full = pd.concat([dev.drop(columns=["label"]), context], ignore_index=True)
    estimator = model.estimator
    rows = {
        "timeline context": estimator.predict_proba(full)[: len(dev)],
        "no context": estimator.predict_proba(dev.drop(columns=["label"])),
        "text stage only": estimator.text_proba(dev.drop(columns=["label"])),
    }
    results = {name: compute_metrics(dev["label"], proba, model.labels) for name, proba in rows.items()}
    if args.json:
        print(json.dumps({name: m.to_dict() for name, m in results.items()}, indent=2))
        return 0
    print(f"{len(dev)} real posts of {dev['account'].nunique()} accounts; context: {len(context):,} more posts of those accounts")
    header = f"{'setting':18} {'macro-F1':>8} " + " ".join(f"{label[:14]:>14}" for label in model.labels)
    print(header)
    for name, m in results.items():
        print(f"{name:18} {m.macro_f1:8.3f} " + " ".join(f"{m.per_label[l]['f1']:14.3f}" for l in model.labels))
    best = results["timeline context"]
    print("confusion with timeline context (rows true, columns predicted):")
    for label, row in zip(best.labels, best.confusion):
        print(f"  {label:22} " + " ".join(f"{v:5d}" for v in row))
    return 0


if __name__ == "__main__":
    sys.exit(main())
