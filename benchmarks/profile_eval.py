"""Accuracy of profile shares: estimated vs true share of each label, per quantification method.

1. The bundled sample timelines (data/feeds/, true labels in data/feeds/labels/).
2. Real timelines: the 7 real accounts of ../shared/real/dev.jsonl with 30 randomly drawn labeled
   posts each (stratum = timeline_random); each account's posts are predicted with the rest of
   its timeline as context, and shares are estimated over the 30 labeled posts.

For each method: mean absolute error per share (MAE over accounts x labels) and the coverage of
the 95% bootstrap intervals (share of true values inside their interval).

    python benchmarks/profile_eval.py [--model models/default] [--real ../shared/real]
"""

from __future__ import annotations

import argparse
import glob
import json
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from sociability import load_model, read_feed, read_feeds
from sociability.profiles import METHODS, load_profile_config, profile

sys.path.insert(0, str(Path(__file__).resolve().parent))
from real_eval import real_context  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def truth_table(posts: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    merged = posts.merge(labels, on=["post_id"], how="inner")
    return merged.groupby("account")["label"].value_counts(normalize=True).unstack(fill_value=0.0)


def score_methods(profiles, truth: pd.DataFrame, classes: list[str]) -> dict[str, dict[str, float]]:
    out = {}
    for method in METHODS:
        errors, inside = [], []
        for p in profiles:
            for label in classes:
                true = float(truth.loc[p.account].get(label, 0.0)) if p.account in truth.index else np.nan
                if np.isnan(true):
                    continue
                errors.append(abs(p.shares_by_method[method][label] - true))
                if method == p.method:
                    inside.append(p.shares[label].low - 1e-9 <= true <= p.shares[label].high + 1e-9)
        out[method] = {"mae": float(np.mean(errors)), "max_error": float(np.max(errors))}
        if inside:
            out[method]["coverage"] = float(np.mean(inside))
    return out


def bundled(model, config) -> dict:
    files = [f for f in sorted(glob.glob(str(ROOT / "data" / "feeds" / "*.*")))]
    posts = read_feeds(files).posts
    labels = pd.concat([pd.read_csv(f, dtype=str) for f in glob.glob(str(ROOT / "data" / "feeds" / "labels" / "*.csv"))])
    truth = truth_table(posts, labels)
    results = {}
    for method in METHODS:
        profiles = profile(posts, model, config, method=method)
        results[method] = score_methods(profiles, truth, model.labels)[method]
    return results


def real(model, config, folder: Path) -> dict | None:
    dev_path = folder / "dev.jsonl"
    if not dev_path.is_file():
        return None
    dev = read_feed(dev_path).posts
    strata = [json.loads(line).get("stratum") for line in dev_path.read_text().splitlines() if line.strip()]
    dev = dev[np.array(strata) == "timeline_random"].reset_index(drop=True)
    context = real_context(dev, folder)
    full = pd.concat([dev.drop(columns=["label"]), context], ignore_index=True)
    proba = model.estimator.predict_proba(full)[: len(dev)]
    truth = dev.groupby("account")["label"].value_counts(normalize=True).unstack(fill_value=0.0)
    results = {}
    for method in METHODS:
        profiles = profile(dev.drop(columns=["label"]), model, config, method=method, proba=proba)
        results[method] = score_methods(profiles, truth, model.labels)[method]
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "default")
    parser.add_argument("--real", type=Path, default=ROOT.parent / "shared" / "real")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=UserWarning)
    model = load_model(args.model)
    config = load_profile_config()
    results = {"bundled timelines (6 accounts, ~170 posts each)": bundled(model, config)}
    real_results = real(model, config, args.real)
    if real_results is None:
        print(f"real timelines skipped: {args.real / 'dev.jsonl'} not found")
    else:
        results["real timelines (7 accounts, 30 labeled posts each)"] = real_results
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print("| data | method | MAE per share | max error | 95% interval coverage |")
    print("|---|---|---|---|---|")
    for data, by_method in results.items():
        for method, row in by_method.items():
            coverage = f"{row['coverage']:.2f}" if "coverage" in row else "-"
            print(f"| {data} | {method} | {row['mae']:.3f} | {row['max_error']:.3f} | {coverage} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
