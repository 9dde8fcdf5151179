"""Saving and loading models with their cards, safely.

A model directory holds ``model.joblib`` and ``model.json`` (the card: labels, resolved config,
training data hash, library versions, metrics, and the SHA-256 of model.joblib). Saving writes a
new directory and renames it into place, so a crash never leaves half a model. Loading checks the
card before unpickling anything: the file hash, the library versions, the label set.

joblib files run code when they are loaded: load only models you trained or trust.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import joblib

from . import __version__
from .errors import SociabilityError
from .training import file_sha256, resolve_path

MODEL_FILE = "model.joblib"
CARD_FILE = "model.json"
CHECKED_LIBRARIES = ("scikit-learn", "spacy", "numpy", "pandas", "scipy", "joblib")


class VersionWarning(UserWarning):
    """The model was saved with a different minor version of a library."""


def library_versions() -> dict[str, str]:
    from importlib.metadata import version

    versions = {"sociability": __version__, "python": platform.python_version()}
    for name in CHECKED_LIBRARIES:
        versions[name] = version(name)
    return versions


@dataclass
class LoadedModel:
    """A model and its card, as loaded from a model directory."""

    estimator: Any
    card: dict[str, Any]
    path: Path

    @property
    def labels(self) -> list[str]:
        return list(self.card["labels"])


def save_model(estimator: Any, card: dict[str, Any], path: str | Path) -> Path:
    """Write ``model.joblib`` and ``model.json`` into ``path`` atomically (write, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}-", dir=path.parent))
    try:
        joblib.dump(estimator, staging / MODEL_FILE, compress=3)
        full_card = {
            "format": "sociability-model/1",
            "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            **card,
            "versions": library_versions(),
            "model_file": MODEL_FILE,
            "model_sha256": file_sha256(staging / MODEL_FILE),
        }
        (staging / CARD_FILE).write_text(json.dumps(full_card, indent=2, default=str) + "\n", encoding="utf-8")
        if path.exists():
            retired = path.with_name(f".{path.name}-old")
            shutil.rmtree(retired, ignore_errors=True)
            os.replace(path, retired)
            os.replace(staging, path)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.replace(staging, path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return path


def _major_minor(version: str) -> tuple[int, int]:
    parts = [int("".join(ch for ch in p if ch.isdigit()) or 0) for p in version.split(".")[:2]]
    return (parts + [0, 0])[0], (parts + [0, 0])[1]


def load_model(path: str | Path = "models/default") -> LoadedModel:
    """Load a model directory after checking its card; every problem is one clear error."""
    path = resolve_path(path)
    card_path = path / CARD_FILE if path.is_dir() else path.with_name(CARD_FILE)
    model_path = path / MODEL_FILE if path.is_dir() else path
    if not model_path.exists():
        raise SociabilityError(f"{path}: no trained model here; train one with `sociability train` (or pass --model DIR)")
    if not card_path.is_file():
        raise SociabilityError(f"{card_path}: model card missing; a model is only loaded with its card")
    try:
        card = json.loads(card_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SociabilityError(f"{card_path}: damaged model card ({exc})") from None
    for key in ("labels", "model_sha256", "versions"):
        if key not in card:
            raise SociabilityError(f"{card_path}: model card lacks {key!r}")
    digest = file_sha256(model_path)
    if digest != card["model_sha256"]:
        raise SociabilityError(
            f"{model_path}: file does not match its card (sha256 {digest[:12]}... != {card['model_sha256'][:12]}...): "
            "it was changed or damaged; retrain or restore it"
        )
    current = library_versions()
    for name in CHECKED_LIBRARIES:
        saved = card["versions"].get(name)
        if not saved:
            continue
        if _major_minor(saved)[0] != _major_minor(current[name])[0]:
            raise SociabilityError(f"{model_path}: trained with {name} {saved}, this is {current[name]}: retrain the model")
        if _major_minor(saved) != _major_minor(current[name]):
            warnings.warn(f"{model_path}: trained with {name} {saved}, running {current[name]}; results may differ",
                          VersionWarning, stacklevel=2)
    try:
        estimator = joblib.load(model_path)
    except Exception as exc:  # noqa: BLE001 - unpickling fails in many ways; all mean a bad file
        raise SociabilityError(f"{model_path}: cannot load the model ({exc.__class__.__name__}); the file is corrupt or truncated") from None
    classes = [str(c) for c in getattr(estimator, "classes_", [])]
    if classes != list(card["labels"]):
        raise SociabilityError(f"{model_path}: the model's labels {classes} differ from its card's {card['labels']}")
    return LoadedModel(estimator, card, path)
