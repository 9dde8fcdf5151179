"""Metrics for a labeled set: per-label precision/recall/F1, macro-F1, confusion, calibration."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support


@dataclass
class Metrics:
    """How well predicted labels and probabilities match the truth."""

    labels: list[str]
    n: int
    accuracy: float
    macro_f1: float
    per_label: dict[str, dict[str, float]]
    confusion: list[list[int]]
    """Rows: true label; columns: predicted label; both in ``labels`` order."""
    calibration_error: float
    """Expected calibration error of the top label's probability (10 equal-width bins)."""
    brier: float
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def expected_calibration_error(proba: np.ndarray, correct: np.ndarray, bins: int = 10) -> float:
    """Mean |confidence - accuracy| over confidence bins, weighted by bin size."""
    confidence = proba.max(axis=1)
    edges = np.linspace(0.0, 1.0, bins + 1)
    error = 0.0
    for low, high in zip(edges[:-1], edges[1:]):
        in_bin = (confidence > low) & (confidence <= high)
        if in_bin.any():
            error += in_bin.mean() * abs(confidence[in_bin].mean() - correct[in_bin].mean())
    return float(error)


def compute_metrics(y_true: Sequence[str], proba: np.ndarray, labels: Sequence[str]) -> Metrics:
    """Metrics of probabilities ``proba`` (columns in ``labels`` order) against ``y_true``."""
    labels = list(labels)
    y_true = np.asarray(y_true, dtype=object)
    y_pred = np.asarray(labels, dtype=object)[np.argmax(proba, axis=1)] if len(y_true) else np.array([], dtype=object)
    precision, recall, f1, support = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    onehot = (y_true[:, None] == np.asarray(labels, dtype=object)[None, :]).astype(float)
    return Metrics(
        labels=labels,
        n=int(len(y_true)),
        accuracy=float((y_true == y_pred).mean()) if len(y_true) else 0.0,
        macro_f1=float(np.mean(f1)),
        per_label={label: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
                   for label, p, r, f, s in zip(labels, precision, recall, f1, support)},
        confusion=confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        calibration_error=expected_calibration_error(proba, y_true == y_pred) if len(y_true) else 0.0,
        brier=float(np.mean(np.sum((proba - onehot) ** 2, axis=1))) if len(y_true) else 0.0,
    )
