"""Sociability profiles: how social is an account, with honest intervals; and comparisons.

Compute first, render second (see :mod:`sociability.report`): :func:`profile` returns one
:class:`Profile` dataclass per account, :func:`compare` a :class:`Comparison` of several.

Shares of the four kinds of post are estimated as a *quantification* problem, not by counting
argmax labels: ``cc`` counts labels, ``pcc`` averages probabilities, and ``acc`` / ``pacc`` undo
the classifier's measured confusion (out-of-fold, stored in the model). Intervals come from a
bootstrap over the account's posts, so a short timeline gets a wide interval.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import nnls
from scipy.special import erfinv

from .config import load_toml
from .datacheck import normalise_for_duplicates
from .errors import SociabilityError
from .model import predict_by_account
from .posts import is_link_only, same_account

METHODS = ("cc", "pcc", "acc", "pacc")


@dataclass
class Interval:
    """An estimate with its interval (95% by default)."""

    estimate: float
    low: float
    high: float


@dataclass
class Profile:
    """One account's sociability profile."""

    account: str
    n_posts: int
    first_post: str
    last_post: str
    posts_per_day: float
    platforms: dict[str, float]
    method: str
    shares: dict[str, Interval]
    shares_by_method: dict[str, dict[str, float]]
    score: Interval
    archetype: str
    archetype_description: str
    behaviour: dict[str, float]
    activity_by_hour: list[int]
    activity_by_weekday: list[int]
    mix_over_time: dict[str, dict[str, float]]
    advice: list[dict[str, Any]]
    examples: dict[str, list[str]]
    score_samples: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("score_samples")
        return data


@dataclass
class Comparison:
    """Several profiles side by side, ranked by score, with pairwise score differences."""

    profiles: list[Profile]
    table: pd.DataFrame
    differences: pd.DataFrame

    def to_dict(self) -> dict[str, Any]:
        return {
            "profiles": [p.to_dict() for p in self.profiles],
            "differences": self.differences.to_dict(orient="records"),
        }


# ---------------------------------------------------------------- behaviour


def behaviour_metrics(posts: pd.DataFrame) -> dict[str, float]:
    """What an account does, from metadata alone (no classifier involved)."""
    n = max(len(posts), 1)
    account = str(posts["account"].iloc[0]) if len(posts) else ""
    own = ~posts["is_repost"].to_numpy(dtype=bool)
    reply_other = posts["is_reply"].to_numpy(dtype=bool) & ~posts["is_self_reply"].to_numpy(dtype=bool)
    has_link = posts["urls"].map(len).to_numpy() > 0
    link_only = posts["text"].map(is_link_only).to_numpy(dtype=bool)
    engaged = set()
    for reply_to, mentions in zip(posts["reply_to"], posts["mentions"]):
        for handle in ([reply_to] if reply_to else []) + [m for m in mentions]:
            if handle and not same_account(handle, account):
                engaged.add(handle)
    duplicate, cross = duplicate_flags(posts)
    return {
        "reply_rate": float(reply_other.mean()) if len(posts) else 0.0,
        "thread_share": float(posts["is_self_reply"].mean()) if len(posts) else 0.0,
        "reshare_rate": float((~own).mean()) if len(posts) else 0.0,
        "vanity_reshare_share": float((~own & posts["mentions_self"].to_numpy(dtype=bool)).mean()) if len(posts) else 0.0,
        "quote_share": float(posts["is_quote"].mean()) if len(posts) else 0.0,
        "link_share": float(has_link.mean()) if len(posts) else 0.0,
        "link_only_share": float(link_only.mean()) if len(posts) else 0.0,
        "hashtags_per_post": float(posts["hashtags"].map(len).sum() / n),
        "question_share": float((own & posts["text"].str.contains("?", regex=False).to_numpy()).sum() / n),
        "accounts_engaged_per_100": 100.0 * len(engaged) / n,
        "duplicate_share": float(duplicate.mean()) if len(posts) else 0.0,
        "cross_posted_share": float(cross.mean()) if len(posts) else 0.0,
    }


def duplicate_flags(posts: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Posts repeating an earlier own text (same normalised words), and texts on several networks."""
    own = ~posts["is_repost"].to_numpy(dtype=bool)
    keys = [normalise_for_duplicates(t) if o else "" for t, o in zip(posts["text"], own)]
    order = np.argsort(posts["created_at"].to_numpy(), kind="stable")
    seen: set[str] = set()
    duplicate = np.zeros(len(posts), dtype=bool)
    for i in order:
        key = keys[i]
        if len(key) >= 20:
            duplicate[i] = key in seen
            seen.add(key)
    platforms: dict[str, set] = {}
    for key, platform in zip(keys, posts["platform"]):
        if len(key) >= 20:
            platforms.setdefault(key, set()).add(platform)
    cross = np.array([len(key) >= 20 and len(platforms[key]) > 1 for key in keys], dtype=bool)
    return duplicate, cross


# ---------------------------------------------------------------- shares


def adjust(observed: np.ndarray, rates: np.ndarray) -> np.ndarray:
    """Undo a known confusion: the shares x >= 0, summing to 1, with ``rates.T @ x`` closest to observed."""
    k = len(observed)
    weight = 10.0
    A = np.vstack([rates.T, weight * np.ones((1, k))])
    b = np.concatenate([observed, [weight]])
    x, _ = nnls(A, b)
    total = x.sum()
    return x / total if total > 0 else np.full(k, 1.0 / k)


def estimate_shares(proba: np.ndarray, method: str, confusion_rates: np.ndarray | None = None,
                    probability_rates: np.ndarray | None = None) -> np.ndarray:
    """Estimated share of each label among posts with these probabilities."""
    k = proba.shape[1]
    if len(proba) == 0:
        return np.full(k, np.nan)
    counted = np.bincount(np.argmax(proba, axis=1), minlength=k) / len(proba)
    if method == "cc":
        return counted
    if method == "pcc":
        return proba.mean(axis=0)
    if method == "acc":
        return adjust(counted, confusion_rates)
    if method == "pacc":
        return adjust(proba.mean(axis=0), probability_rates)
    raise SociabilityError(f"unknown share method {method!r}; choose one of {', '.join(METHODS)}")


# ---------------------------------------------------------------- score, archetype, advice


def sociability_score(shares: dict[str, float], behaviour: dict[str, float], config: dict[str, Any]) -> float:
    """0-100: content mix and behaviour together (see configs/profile.toml)."""
    score_cfg = config["score"]
    content = sum(score_cfg["content_weights"].get(label, 0.0) * share for label, share in shares.items())
    rules = score_cfg["behaviour"]
    replies = min(behaviour["reply_rate"] / rules["reply_rate_full"], 1.0)
    engagement = min(behaviour["accounts_engaged_per_100"] / rules["engaged_full"], 1.0)
    weights = score_cfg["weights"]
    total = weights["content"] * content + weights["replies"] * replies + weights["engagement"] * engagement
    penalty = 1.0 - rules["link_only_penalty"] * behaviour["link_only_share"] - rules["duplicate_penalty"] * behaviour["duplicate_share"]
    return float(100.0 * np.clip(total * max(penalty, 0.0), 0.0, 1.0))


def _metric(name: str, shares: dict[str, float], behaviour: dict[str, float]) -> float:
    if name.startswith("share."):
        return shares[name.split(".", 1)[1]]
    if name in behaviour:
        return behaviour[name]
    raise SociabilityError(f"configs/profile.toml: unknown metric {name!r}")


def archetype(shares: dict[str, float], behaviour: dict[str, float], config: dict[str, Any]) -> tuple[str, str]:
    """The first archetype whose conditions all hold."""
    for rule in config["archetypes"]:
        conditions = rule.get("when", {})
        if all(
            cond.get("min", -np.inf) <= _metric(name, shares, behaviour) <= cond.get("max", np.inf)
            for name, cond in conditions.items()
        ):
            return rule["name"], rule.get("description", "")
    return "Unclassified", ""


def advice(shares: dict[str, float], behaviour: dict[str, float], config: dict[str, Any]) -> list[dict[str, Any]]:
    """Advice whose trigger fires, each citing the figure that triggered it."""
    out = []
    for rule in config.get("advice", []):
        value = _metric(rule["metric"], shares, behaviour)
        if ("above" in rule and value > rule["above"]) or ("below" in rule and value < rule["below"]):
            out.append({"title": rule["title"], "text": rule["text"].format(value=value), "metric": rule["metric"], "value": round(value, 4)})
    return out


# ---------------------------------------------------------------- profiles


def load_profile_config(path: str | Path = "profile.toml") -> dict[str, Any]:
    config = load_toml(path)
    for section in ("shares", "score", "archetypes"):
        if section not in config:
            raise SociabilityError(f"{path}: missing section [{section}]")
    return config


def profile(posts: pd.DataFrame, model: Any, config: dict[str, Any] | None = None, method: str | None = None,
            proba: np.ndarray | None = None, n_jobs: int | None = 1) -> list[Profile]:
    """One profile per account in ``posts`` (a canonical post table).

    Parameters
    ----------
    posts : canonical posts; each account's posts are its timeline.
    model : a fitted :class:`~sociability.model.SociabilityClassifier` (or a loaded model).
    config : profile settings (default ``configs/profile.toml``).
    method : share estimation method, overriding the config (``cc``, ``pcc``, ``acc``, ``pacc``).
    proba : precomputed probabilities (rows as ``posts``), to skip prediction.
    n_jobs : processes for prediction (accounts are split between them; same result).
    """
    estimator = getattr(model, "estimator", model)
    config = config or load_profile_config()
    method = method or config["shares"]["method"]
    if method not in METHODS:
        raise SociabilityError(f"unknown share method {method!r}; choose one of {', '.join(METHODS)}")
    posts = posts.reset_index(drop=True)
    if proba is None:
        proba = predict_by_account(estimator, posts, n_jobs)
    classes = [str(c) for c in estimator.classes_]
    out = []
    for account, index in posts.groupby("account", sort=False).indices.items():
        out.append(_profile_account(posts.iloc[index].reset_index(drop=True), proba[index], classes, estimator, config, method))
    return out


def _profile_account(posts: pd.DataFrame, proba: np.ndarray, classes: list[str], estimator: Any,
                     config: dict[str, Any], method: str) -> Profile:
    shares_cfg = config["shares"]
    rates = {"confusion_rates": getattr(estimator, "confusion_rates_", None), "probability_rates": getattr(estimator, "probability_rates_", None)}
    by_method = {m: dict(zip(classes, map(float, estimate_shares(proba, m, **rates)))) for m in METHODS}
    behaviour = behaviour_metrics(posts)
    point = by_method[method]
    rng = np.random.default_rng(shares_cfg.get("seed", 0))
    n = len(posts)
    samples = np.empty((shares_cfg.get("bootstrap", 300), len(classes)))
    scores = np.empty(len(samples))
    reply_other = (posts["is_reply"] & ~posts["is_self_reply"]).to_numpy(dtype=float)
    for b in range(len(samples)):
        pick = rng.integers(0, n, n)
        samples[b] = estimate_shares(proba[pick], method, **rates)
        boot_behaviour = dict(behaviour, reply_rate=float(reply_other[pick].mean()))
        scores[b] = sociability_score(dict(zip(classes, samples[b])), boot_behaviour, config)
    level = shares_cfg.get("level", 0.95)
    alpha = (1 - level) / 2
    low, high = np.quantile(samples, [alpha, 1 - alpha], axis=0)
    # widen by the model's own share error on unseen accounts (measured when it was trained)
    model_error = np.asarray(getattr(estimator, "share_error_", {}).get(method, np.zeros(len(classes))))
    z = float(np.sqrt(2) * erfinv(level))
    estimate = np.array([point[c] for c in classes])
    half_low = np.sqrt(np.square(estimate - low) + np.square(z * model_error))
    half_high = np.sqrt(np.square(high - estimate) + np.square(z * model_error))
    low, high = np.clip(estimate - half_low, 0, 1), np.clip(estimate + half_high, 0, 1)
    shares = {c: Interval(round(point[c], 4), round(float(low[j]), 4), round(float(high[j]), 4)) for j, c in enumerate(classes)}
    score = sociability_score(point, behaviour, config)
    score_low, score_high = np.quantile(scores, [alpha, 1 - alpha])
    name, description = archetype(point, behaviour, config)
    times = posts["created_at"].dropna()
    span_days = max((times.max() - times.min()).total_seconds() / 86400, 1.0) if len(times) else 1.0
    return Profile(
        account=str(posts["account"].iloc[0]),
        n_posts=n,
        first_post=times.min().strftime("%Y-%m-%d") if len(times) else "",
        last_post=times.max().strftime("%Y-%m-%d") if len(times) else "",
        posts_per_day=round(n / span_days, 3),
        platforms={k: round(v / n, 4) for k, v in Counter(posts["platform"]).items()},
        method=method,
        shares=shares,
        shares_by_method={m: {c: round(v, 4) for c, v in s.items()} for m, s in by_method.items()},
        score=Interval(round(score, 1), round(float(min(score_low, score)), 1), round(float(max(score_high, score)), 1)),
        archetype=name,
        archetype_description=description,
        behaviour={k: round(v, 4) for k, v in behaviour.items()},
        activity_by_hour=np.bincount(times.dt.hour, minlength=24).tolist() if len(times) else [0] * 24,
        activity_by_weekday=np.bincount(times.dt.day_of_week, minlength=7).tolist() if len(times) else [0] * 7,
        mix_over_time=_mix_over_time(posts, proba, classes),
        advice=advice(point, behaviour, config),
        examples=_examples(posts, proba, classes),
        score_samples=scores,
    )


def _mix_over_time(posts: pd.DataFrame, proba: np.ndarray, classes: list[str]) -> dict[str, dict[str, float]]:
    """Mean probability of each label per month (per week for timelines shorter than 3 months)."""
    times = posts["created_at"]
    if times.isna().all():
        return {}
    span = (times.max() - times.min()).days
    naive = times.dt.tz_convert(None)
    periods = naive.dt.to_period("W" if span < 90 else "M").astype(str)
    frame = pd.DataFrame(proba, columns=classes)
    frame["period"] = periods.to_numpy()
    grouped = frame.groupby("period", sort=True)[classes].mean().round(4)
    return {str(period): row.to_dict() for period, row in grouped.iterrows()}


def _examples(posts: pd.DataFrame, proba: np.ndarray, classes: list[str], per_label: int = 3) -> dict[str, list[str]]:
    """The account's most typical posts of each label (highest probability among those so labeled)."""
    predicted = np.argmax(proba, axis=1)
    out = {}
    for j, label in enumerate(classes):
        rows = np.flatnonzero(predicted == j)
        best = rows[np.argsort(-proba[rows, j])][:per_label]
        out[label] = [_shown(posts.iloc[i]) for i in best]
    return out


def _shown(post: pd.Series) -> str:
    prefix = f"RT @{post['reposted_from']}: " if post["is_repost"] and post["reposted_from"] else ""
    return prefix + (post["text"] or "(no text)")


# ---------------------------------------------------------------- comparison


def compare(profiles: Sequence[Profile], level: float = 0.95) -> Comparison:
    """Profiles ranked by score, side by side, and whether each pair's scores differ beyond the noise."""
    ranked = sorted(profiles, key=lambda p: p.score.estimate, reverse=True)
    rows = []
    for rank, p in enumerate(ranked, start=1):
        row = {"rank": rank, "account": p.account, "posts": p.n_posts, "score": p.score.estimate,
               "score_low": p.score.low, "score_high": p.score.high, "archetype": p.archetype}
        row.update({f"share_{label}": share.estimate for label, share in p.shares.items()})
        row.update(p.behaviour)
        rows.append(row)
    alpha = (1 - level) / 2
    differences = []
    for i, a in enumerate(ranked):
        for b in ranked[i + 1:]:
            n = min(len(a.score_samples), len(b.score_samples))
            diff = a.score_samples[:n] - b.score_samples[:n]
            low, high = (np.quantile(diff, [alpha, 1 - alpha]) if n else (np.nan, np.nan))
            differences.append({"higher": a.account, "lower": b.account,
                                "difference": round(a.score.estimate - b.score.estimate, 1),
                                "low": round(float(low), 1), "high": round(float(high), 1),
                                "beyond_noise": bool(n and (low > 0 or high < 0))})
    return Comparison(ranked, pd.DataFrame(rows), pd.DataFrame(differences, columns=["higher", "lower", "difference", "low", "high", "beyond_noise"]))
