"""Why a post got its label: the probabilities and the features that pushed toward it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .model import SociabilityClassifier
from .posts import make_post, to_frame


@dataclass
class Explanation:
    """The label of one post, its probabilities, and the strongest features each way."""

    label: str
    probabilities: dict[str, float]
    text_probabilities: dict[str, float]
    pushed_toward: list[tuple[str, float]]
    pushed_away: list[tuple[str, float]]
    organisation_score: float | None
    post: dict[str, Any] = field(default_factory=dict)


def make_single_post(text: str, account: str = "me", repost_of: str | None = None, reply_to: str | None = None,
                     quote_of: str | None = None, quoted_text: str | None = None, platform: str = "twitter") -> pd.DataFrame:
    """A one-post canonical table from a text and its context, for explaining or predicting."""
    post = make_post(platform=platform, account=account, post_id="1", created_at="2020-01-01T00:00:00Z", text=text,
                     is_repost=repost_of is not None, reposted_from=repost_of, reply_to=reply_to,
                     is_quote=quote_of is not None, quoted_from=quote_of, quoted_text=quoted_text)
    return to_frame([post])


def explain(estimator: SociabilityClassifier, posts: pd.DataFrame, index: int = 0, top: int = 8,
            timeline: pd.DataFrame | None = None) -> Explanation:
    """Explain the post at ``index`` of ``posts``; ``timeline`` adds the account's other posts as context."""
    context = posts if timeline is None else pd.concat([posts.iloc[[index]], timeline], ignore_index=True)
    row = 0 if timeline is not None else index
    proba = estimator.predict_proba(context)[row]
    text_proba = estimator.text_proba(context.iloc[[row]])[0]
    classes = [str(c) for c in estimator.classes_]
    winner = int(np.argmax(proba))
    contributions = _text_contributions(estimator, context.iloc[[row]], winner)
    ordered = sorted(contributions.items(), key=lambda kv: kv[1])
    org = estimator.organisation_scores(context).get(str(context.iloc[row]["account"]), np.nan)
    return Explanation(
        label=classes[winner],
        probabilities=dict(zip(classes, map(float, proba))),
        text_probabilities=dict(zip(classes, map(float, text_proba))),
        pushed_toward=[(n, round(v, 3)) for n, v in reversed(ordered[-top:]) if v > 0],
        pushed_away=[(n, round(v, 3)) for n, v in ordered[:top] if v < 0],
        organisation_score=None if pd.isna(org) else float(org),
        post={k: v for k, v in context.iloc[row].to_dict().items() if k in ("account", "text", "is_repost", "reposted_from", "is_reply", "reply_to", "mentions_self")},
    )


def _text_contributions(estimator: SociabilityClassifier, post: pd.DataFrame, klass: int) -> dict[str, float]:
    """Each text-stage feature's weight x value toward class ``klass`` (versus the mean class)."""
    pipeline = _uncalibrated(estimator.text_model_)
    features = pipeline.named_steps["features"]
    model = pipeline.named_steps["model"]
    F = estimator.featurizer_.transform(post)
    values = features.transform(F)
    values = values.toarray()[0] if hasattr(values, "toarray") else np.asarray(values)[0]
    coef = model.coef_
    target = list(model.classes_).index(estimator.classes_[klass])
    weights = coef[target] - coef.mean(axis=0) if coef.shape[0] > 1 else coef[0]
    names = features.get_feature_names_out()
    out: dict[str, float] = {}
    for name, value, weight in zip(names, values, weights):
        if value == 0:
            continue
        block, _, feature = name.partition("__")
        label = "character n-grams" if block == "chars" else f"word '{feature}'" if block == "words" else feature
        out[label] = out.get(label, 0.0) + float(value * weight)
    return out


def _uncalibrated(model: Any) -> Any:
    """The pipeline inside a CalibratedClassifierCV (its first fold's copy), else the model."""
    if hasattr(model, "calibrated_classifiers_"):
        return model.calibrated_classifiers_[0].estimator
    return model
