"""Config-driven training: one TOML file is the single source of truth for a run.

The config is validated before anything is trained (an unknown key fails at once, naming it),
overridden by dotted paths from the command line (``--model.C 1.0``), and saved, resolved, in
the model card beside the trained model.
"""

from __future__ import annotations

import copy
import hashlib
import inspect
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from .config import PROJECT_ROOT, config_path, load_toml
from .errors import SociabilityError
from .evaluation import compute_metrics
from .feeds import read_feed
from .model import LABELS, SociabilityClassifier

MODEL_KEYS = [p for p in inspect.signature(SociabilityClassifier.__init__).parameters if p != "self" and p != "random_state"]
SCHEMA: dict[str, Any] = {"seed": int, "data": {"train": str, "test": str, "labels": list}, "model": dict.fromkeys(MODEL_KEYS, object)}


def parse_overrides(args: Iterable[str]) -> dict[str, Any]:
    """``["--model.C", "1.0", "--seed=3"]`` to ``{"model.C": 1.0, "seed": 3}`` (values parsed as TOML)."""
    args = list(args)
    out: dict[str, Any] = {}
    i = 0
    while i < len(args):
        arg = args[i]
        if not arg.startswith("--"):
            raise SociabilityError(f"unexpected argument {arg!r}: overrides look like --model.C 1.0")
        key, eq, value = arg[2:].partition("=")
        if not eq:
            if i + 1 >= len(args):
                raise SociabilityError(f"override --{key} needs a value")
            value, i = args[i + 1], i + 1
        out[key.replace("-", "_") if "." not in key else key] = _parse_value(value)
        i += 1
    return out


def _parse_value(text: str) -> Any:
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def load_config(path: str | Path = "default.toml", overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Read, override and validate a training config; unknown keys fail with their dotted path."""
    source = config_path(path)
    config = copy.deepcopy(load_toml(source))
    for dotted, value in (overrides or {}).items():
        node = config
        parts = dotted.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise SociabilityError(f"override {dotted}: {part!r} is not a section")
        node[parts[-1]] = value
    _validate(config, SCHEMA, str(source), "")
    labels = config.get("data", {}).get("labels", LABELS)
    unknown = sorted(set(labels) - set(LABELS))
    if unknown:
        raise SociabilityError(f"{source}: data.labels has unknown labels {unknown}; the labels are {LABELS}")
    config["_source"] = str(source)
    return config


def _validate(config: dict, schema: dict, source: str, prefix: str) -> None:
    for key, value in config.items():
        if key.startswith("_"):
            continue
        where = f"{prefix}{key}"
        if key not in schema:
            known = ", ".join(f"{prefix}{k}" for k in schema)
            raise SociabilityError(f"{source}: unknown key {where!r} (known: {known})")
        expected = schema[key]
        if isinstance(expected, dict):
            if not isinstance(value, dict):
                raise SociabilityError(f"{source}: {where!r} must be a section, got {value!r}")
            _validate(value, expected, source, where + ".")
        elif expected is not object and not isinstance(value, expected):
            raise SociabilityError(f"{source}: {where!r} must be {expected.__name__}, got {value!r}")


def resolve_path(path: str | Path) -> Path:
    """A data path as given, else relative to the project (so the defaults work from anywhere)."""
    candidate = Path(path)
    if candidate.exists() or candidate.is_absolute():
        return candidate
    in_project = PROJECT_ROOT / candidate
    return in_project if in_project.exists() else candidate


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_labeled(path: str | Path, labels: Iterable[str] = LABELS, **read_options: Any) -> pd.DataFrame:
    """A labeled dataset (any table or feed with a ``label`` column) as canonical posts + label.

    Rows whose label is empty are dropped (unlabeled); an unknown label is an error naming it.
    """
    path = resolve_path(path)
    result = read_feed(path, **read_options)
    posts = result.posts
    if "label" not in posts:
        raise SociabilityError(f"{path}: no 'label' column (labeled data needs one: {', '.join(LABELS)})")
    posts = posts[posts["label"].notna() & (posts["label"].astype(str).str.strip() != "")].reset_index(drop=True)
    unknown = sorted(set(posts["label"]) - set(labels))
    if unknown:
        raise SociabilityError(f"{path}: unknown labels {unknown[:5]}; expected one of {list(labels)}")
    if posts["label"].nunique() < 2:
        raise SociabilityError(f"{path}: needs at least two different labels to train, found {sorted(set(posts['label']))}")
    return posts


@dataclass
class TrainResult:
    """A trained model and its card (what it is, what it learned from, how well it does)."""

    model: SociabilityClassifier
    card: dict[str, Any]


def train(config: dict[str, Any], data: str | Path | None = None, progress: Callable[[str], None] | None = None) -> TrainResult:
    """Train a model as the config says; ``data`` replaces ``config["data"]["train"]``."""
    say = progress or (lambda message: None)
    labels = config.get("data", {}).get("labels", LABELS)
    train_path = resolve_path(data or config["data"]["train"])
    say(f"reading {train_path}")
    posts = load_labeled(train_path, labels)
    params = {k: tuple(v) if isinstance(v, list) else v for k, v in config.get("model", {}).items()}
    model = SociabilityClassifier(**params, random_state=int(config.get("seed", 0)))
    n_accounts = posts["account"].nunique()
    if n_accounts < model.cv and len(posts) < 2 * model.cv:
        raise SociabilityError(f"{train_path}: {len(posts)} posts is too few to train with {model.cv}-fold cross-validation")
    say(f"training on {len(posts):,} posts from {n_accounts:,} accounts")
    started = time.perf_counter()
    np.random.seed(int(config.get("seed", 0)))
    model.fit(posts, posts["label"])
    seconds = time.perf_counter() - started
    metrics: dict[str, Any] = {"cross_validated": compute_metrics(posts["label"], model.oof_proba_, list(model.classes_)).to_dict()}
    test_path = config.get("data", {}).get("test")
    if data is None and test_path and resolve_path(test_path).exists():
        say(f"evaluating on {resolve_path(test_path)}")
        test = load_labeled(resolve_path(test_path), labels)
        metrics["test"] = compute_metrics(test["label"], model.predict_proba(test), list(model.classes_)).to_dict()
        metrics["test"]["extra"]["path"] = str(test_path)
    card = {
        "labels": [str(c) for c in model.classes_],
        "config": {k: v for k, v in config.items() if not k.startswith("_")},
        "config_source": config.get("_source"),
        "data": {
            "path": str(data or config["data"]["train"]),
            "sha256": file_sha256(train_path) if train_path.is_file() else None,
            "bytes": train_path.stat().st_size if train_path.is_file() else None,
            "posts": int(len(posts)),
            "accounts": int(n_accounts),
            "label_counts": {str(k): int(v) for k, v in posts["label"].value_counts().items()},
        },
        "metrics": metrics,
        "train_seconds": round(seconds, 1),
        # how the model errs on unseen accounts (out of fold): profiles use it to adjust shares
        "quantification": {
            "confusion_rates": np.round(model.confusion_rates_, 4).tolist(),
            "probability_rates": np.round(model.probability_rates_, 4).tolist(),
            "share_error": model.share_error_,
        },
        "account_model": model.account_model_ is not None if model.use_account else False,
    }
    return TrainResult(model, card)
