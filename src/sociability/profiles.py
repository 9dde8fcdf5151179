"""Sociability profiles: how social is an account, with honest intervals; and comparisons.

Compute first, render second (see :mod:`sociability.report`): :func:`profile` returns one
:class:`Profile` dataclass per account, :func:`compare` a :class:`Comparison` of several.

Shares of the four kinds of post are estimated as a *quantification* problem, not by counting
argmax labels: ``cc`` counts labels, ``pcc`` averages probabilities, and ``acc`` / ``pacc`` undo
the classifier's measured confusion (out-of-fold, stored in the model). Intervals come from a
bootstrap over the account's posts, so a short timeline gets a wide interval.

Everything a profile needs is first summed per account into a :class:`Tally` (counts, fixed-point
sums, bounded sketches of distinct texts and handles): tallies of any shares of the posts merge
into the tally of all of them, which is what lets :mod:`sociability.scoring` stream feeds of any
size, over processes or a Dask cluster, to the same profiles.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, fields
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import nnls
from scipy.special import erfinv

from .config import load_toml
from .datacheck import duplicate_keys
from .errors import SociabilityError
from .model import FIXED_POINT, predict_by_account
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
        """Plain data for JSON (nested dicts are shared with the profile, not copied: cheap for thousands)."""
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "score_samples"}
        data["shares"] = {label: asdict(interval) for label, interval in self.shares.items()}
        data["score"] = asdict(self.score)
        return data


@dataclass
class Comparison:
    """Several profiles side by side, ranked by score, with pairwise score differences."""

    profiles: list[Profile]
    table: pd.DataFrame
    level: float = 0.95

    @cached_property
    def differences(self) -> pd.DataFrame:
        """Whether each pair's scores differ beyond the noise: worked out when first asked, as
        ``score`` of many accounts never asks and n accounts make n(n-1)/2 pairs."""
        return score_differences(self.profiles, self.level)

    def to_dict(self) -> dict[str, Any]:
        return {
            "profiles": [p.to_dict() for p in self.profiles],
            "differences": self.differences.to_dict(orient="records"),
        }


# ---------------------------------------------------------------- tallies

BEHAVIOUR_COUNTS = ["reply_other", "self_reply", "reshare", "vanity_reshare", "quote", "link", "link_only", "hashtags", "question"]
"""Per-account counts behind the behaviour metrics (see :func:`behaviour_from`)."""

SKETCH_SIZE = 512
"""Distinct texts (and handles) kept exactly per account; beyond, counted from a uniform sample."""


def stable_hash(text: str) -> int:
    """A 64-bit hash that is the same in every process and on every machine (unlike ``hash``)."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")


@dataclass
class Sketch:
    """Distinct keys of an account (texts, handles), with each key's count and a bit per network.

    A "k minimum values" sketch: it keeps the ``size`` smallest key hashes. With fewer distinct
    keys it is exact; with more, the kept keys are a uniform sample and the number of distinct
    keys is estimated from the largest kept hash. Merging keeps the smallest of the union, so
    shares merged in any order give the same sketch, and memory stays bounded per account.
    """

    hashes: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.uint64))
    counts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    networks: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    saturated: bool = False

    @classmethod
    def of(cls, hashes: Sequence[int], networks: Sequence[int] | None = None, size: int = SKETCH_SIZE) -> Sketch:
        h = np.asarray(hashes, dtype=np.uint64)
        n = np.asarray(networks if networks is not None else np.zeros(len(h)), dtype=np.int64)
        return cls(h, np.ones(len(h), dtype=np.int64), n)._reduce(size)

    def merge(self, other: Sketch, size: int = SKETCH_SIZE) -> Sketch:
        # A sketch is never changed once made, so an empty side (every label tally has empty
        # sketches) leaves the other as it is, without a sort.
        if not len(other.hashes) and not other.saturated and len(self.hashes) <= size:
            return self
        if not len(self.hashes) and not self.saturated and len(other.hashes) <= size:
            return other
        merged = Sketch(np.concatenate([self.hashes, other.hashes]), np.concatenate([self.counts, other.counts]),
                        np.concatenate([self.networks, other.networks]), self.saturated or other.saturated)
        return merged._reduce(size)

    def _reduce(self, size: int) -> Sketch:
        order = np.argsort(self.hashes, kind="stable")
        hashes = self.hashes[order]
        if not len(hashes):
            return self
        starts = np.flatnonzero(np.concatenate([[True], hashes[1:] != hashes[:-1]]))
        counts = np.add.reduceat(self.counts[order], starts)
        networks = np.bitwise_or.reduceat(self.networks[order], starts)
        saturated = self.saturated or len(starts) > size
        return Sketch(hashes[starts][:size], counts[:size], networks[:size], saturated)

    def distinct(self) -> float:
        """Number of distinct keys (exact unless saturated)."""
        if not self.saturated:
            return float(len(self.hashes))
        return (len(self.hashes) - 1) / (float(self.hashes[-1]) / 2.0**64)

    def multi_network_share(self) -> float:
        """Share of key occurrences whose key appears on more than one network."""
        total = self.counts.sum()
        if not total:
            return 0.0
        multi = np.array([bin(int(m)).count("1") > 1 for m in self.networks], dtype=bool)
        return float(self.counts[multi].sum() / total)


@dataclass
class Tally:
    """One account's profile ingredients, summed over any share of its posts.

    :func:`tally_posts` fills the part read from the posts themselves, :func:`tally_labels` the
    part that needs the final probabilities; :meth:`merge` adds two tallies of the same account.
    Chunks, processes and cluster partitions each tally their posts; merged, they give exactly
    the profile of one pass over all posts (integer counts and fixed-point sums, so no rounding
    depends on the order), in memory that grows with accounts, not posts.
    """

    account: str
    n: int = 0
    n_keyed: int = 0
    first: int | None = None
    last: int | None = None
    platforms: Counter = field(default_factory=Counter)
    behaviour: np.ndarray = field(default_factory=lambda: np.zeros(len(BEHAVIOUR_COUNTS), dtype=np.int64))
    hours: np.ndarray = field(default_factory=lambda: np.zeros(24, dtype=np.int64))
    weekdays: np.ndarray = field(default_factory=lambda: np.zeros(7, dtype=np.int64))
    engaged: Sketch = field(default_factory=Sketch)
    texts: Sketch = field(default_factory=Sketch)
    cells: np.ndarray | None = None  # labels x (not a reply, a reply to others): argmax counts
    moments: np.ndarray | None = None  # fixed-point sums of v v^T, v = (1, probabilities..., reply to others)
    periods: dict[str, np.ndarray] = field(default_factory=dict)  # period -> (posts, fixed-point probability sums)
    examples: list[list[tuple[int, str, str]]] = field(default_factory=list)  # per label: (-fixed prob, post id, text)

    def merge(self, other: Tally) -> Tally:
        periods = dict(self.periods)
        for period, values in other.periods.items():
            mine = periods.get(period)
            periods[period] = values if mine is None else mine + values
        return Tally(  # every field given: the default factories would make arrays only to drop them
            account=self.account, n=self.n + other.n, n_keyed=self.n_keyed + other.n_keyed,
            first=_pick(min, self.first, other.first), last=_pick(max, self.last, other.last),
            platforms=self.platforms + other.platforms, behaviour=self.behaviour + other.behaviour,
            hours=self.hours + other.hours, weekdays=self.weekdays + other.weekdays,
            engaged=self.engaged.merge(other.engaged), texts=self.texts.merge(other.texts),
            cells=_add(self.cells, other.cells), moments=_add(self.moments, other.moments), periods=periods,
            examples=_merge_examples(self.examples, other.examples),
        )


EXAMPLES = 3
"""Typical posts shown per label."""


def _pick(function: Any, a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else function(a, b)


def _merge_examples(a: list[list[tuple]], b: list[list[tuple]]) -> list[list[tuple]]:
    """Per label, the EXAMPLES smallest (most confident) of both lists."""
    if a and b:
        return [sorted(x + y)[:EXAMPLES] for x, y in zip(a, b)]
    return a or b


def _add(a: np.ndarray | None, b: np.ndarray | None) -> np.ndarray | None:
    return b if a is None else a if b is None else a + b


def merge_tallies(parts: Iterable[dict[str, Tally]]) -> dict[str, Tally]:
    """Tallies of several shares of the posts, merged per account."""
    out: dict[str, Tally] = {}
    for part in parts:
        for account, tally in part.items():
            out[account] = out[account].merge(tally) if account in out else tally
    return out


def tally_posts(posts: pd.DataFrame, link_only: np.ndarray | None = None) -> dict[str, Tally]:
    """Each account's counts that need no classifier: behaviour, activity, networks, repeats.

    ``link_only`` may pass the featurizer's bare-link flags, to save computing them twice.
    """
    out: dict[str, Tally] = {}
    if posts.empty:
        return out
    accounts = posts["account"].astype(str).to_numpy()
    texts = posts["text"].tolist()
    own = ~posts["is_repost"].to_numpy(dtype=bool)
    reply = posts["is_reply"].to_numpy(dtype=bool)
    self_reply = posts["is_self_reply"].to_numpy(dtype=bool)
    counts = np.column_stack([
        reply & ~self_reply,
        self_reply,
        ~own,
        ~own & posts["mentions_self"].to_numpy(dtype=bool),
        posts["is_quote"].to_numpy(dtype=bool),
        posts["urls"].map(len).to_numpy() > 0,
        [is_link_only(t) for t in texts] if link_only is None else np.asarray(link_only, dtype=bool),
        posts["hashtags"].map(len).to_numpy(),
        own & np.array(["?" in t for t in texts], dtype=bool),
    ]).astype(np.int64)
    times = posts["created_at"]
    stamps = times.to_numpy(dtype="datetime64[ns]").astype(np.int64)
    dated = times.notna().to_numpy()
    hours = times.dt.hour.fillna(-1).astype(int).to_numpy()
    weekdays = times.dt.day_of_week.fillna(-1).astype(int).to_numpy()
    platforms = posts["platform"].astype(str).tolist()
    reply_to = posts["reply_to"].tolist()
    mentions = posts["mentions"].tolist()
    own_index = np.flatnonzero(own).tolist()
    keyed = {i: (stable_hash(key), _network_bit(platforms[i]))  # own posts long enough to tell copies by
             for i, key in zip(own_index, duplicate_keys([texts[i] for i in own_index])) if len(key) >= 20}
    for account, index in pd.Series(range(len(posts))).groupby(accounts, sort=False).indices.items():
        tally = Tally(str(account), len(index))
        tally.behaviour = counts[index].sum(axis=0)
        when = index[dated[index]]
        if len(when):
            tally.first, tally.last = int(stamps[when].min()), int(stamps[when].max())
            tally.hours = np.bincount(hours[when], minlength=24)
            tally.weekdays = np.bincount(weekdays[when], minlength=7)
        tally.platforms = Counter(platforms[i] for i in index)
        found = [keyed[i] for i in index.tolist() if i in keyed]
        tally.n_keyed = len(found)
        tally.texts = Sketch.of([key for key, _ in found], [net for _, net in found])
        engaged = set()
        for i in index.tolist():
            for handle in ([reply_to[i]] if reply_to[i] else []) + list(mentions[i]):
                if handle and not same_account(handle, account):
                    engaged.add(handle)
        tally.engaged = Sketch.of([stable_hash(h) for h in engaged])
        out[str(account)] = tally
    return out


NETWORK_BITS = {"twitter": 1, "mastodon": 2, "bluesky": 4, "threads": 8, "linkedin": 16, "facebook": 32, "instagram": 64}


@lru_cache(maxsize=1024)
def _network_bit(platform: str) -> int:
    """A bit per network, the same in every process (a stable hash for networks not listed)."""
    name = platform.lower()
    return NETWORK_BITS[name] if name in NETWORK_BITS else 1 << (8 + stable_hash(name) % 54)


def tally_labels(tallies: dict[str, Tally], labeled: pd.DataFrame, proba: np.ndarray, weekly: set[str]) -> dict[str, Tally]:
    """Add what needs the final probabilities: label counts, sums, the mix over time, examples.

    ``labeled`` has ``account``, ``post_id``, ``created_at``, ``reply_other`` and ``shown``
    columns (see :func:`labeled_columns`); accounts in ``weekly`` get their mix per week.
    """
    if labeled.empty:
        return tallies
    n, k = proba.shape
    codes, accounts = pd.factorize(labeled["account"].astype(str).to_numpy(), sort=False)
    g = len(accounts)
    fixed = np.rint(proba * FIXED_POINT).astype(np.int64)
    reply = labeled["reply_other"].to_numpy(dtype=bool)
    predicted = np.argmax(proba, axis=1)
    cells = np.zeros((g, k, 2), dtype=np.int64)
    np.add.at(cells, (codes, predicted, reply.astype(np.intp)), 1)
    v = np.column_stack([np.full(n, 1.0), proba, reply]).astype(np.float64)
    moments = np.zeros((g, k + 2, k + 2), dtype=np.int64)
    np.add.at(moments, codes, np.rint(v[:, :, None] * v[:, None, :] * FIXED_POINT).astype(np.int64))
    months, weeks = _period_names(labeled["created_at"])
    periods = np.where(np.isin(codes, [i for i, a in enumerate(accounts) if a in weekly]), weeks, months)
    period_codes, period_names = pd.factorize(periods, use_na_sentinel=True)  # None: undated, code -1
    dated = period_codes >= 0
    pairs, where = np.unique(codes[dated] * len(period_names) + period_codes[dated], return_inverse=True)
    per_period = np.zeros((len(pairs), k + 1), dtype=np.int64)
    np.add.at(per_period, where, np.column_stack([np.ones(int(dated.sum()), dtype=np.int64), fixed[dated]]))
    # Rows are copied: a tally that kept a view of a row would keep the chunk's whole array alive
    # (a stream of chunks then grew memory by one array per chunk that brought a new period).
    for i, account in enumerate(accounts):
        tally = tallies.setdefault(str(account), Tally(str(account)))
        tally.cells = _add(tally.cells, cells[i].copy())
        tally.moments = _add(tally.moments, moments[i].copy())
    for pair, values in zip(pairs.tolist(), per_period):
        tally = tallies[str(accounts[pair // len(period_names)])]
        period = period_names[pair % len(period_names)]
        tally.periods[period] = tally.periods[period] + values if period in tally.periods else values.copy()
    _add_examples(tallies, accounts, codes, predicted, fixed, labeled, k)
    return tallies


def _add_examples(tallies: dict[str, Tally], accounts: Sequence[str], codes: np.ndarray, predicted: np.ndarray,
                  fixed: np.ndarray, labeled: pd.DataFrame, k: int) -> None:
    """Each account's EXAMPLES most confident posts per label: (-fixed probability, post id, text),
    the smallest first, so ties fall to the post id whatever the order the posts came in.

    Only candidates are sorted as tuples: the posts whose key is no larger than the EXAMPLES-th
    smallest of their (account, label), found by a numeric sort of the whole chunk.
    """
    key = -fixed[np.arange(len(fixed)), predicted]
    group = codes.astype(np.int64) * k + predicted
    order = np.lexsort((key, group))
    sorted_group, sorted_key = group[order], key[order]
    starts = np.flatnonzero(np.concatenate([[True], sorted_group[1:] != sorted_group[:-1]]))
    ends = np.append(starts[1:], len(order))
    cut = sorted_key[np.minimum(starts + EXAMPLES - 1, ends - 1)]  # each group's EXAMPLES-th key (or its last)
    candidates = order[sorted_key <= np.repeat(cut, ends - starts)]
    post_ids = labeled["post_id"].astype(str).to_numpy(dtype=object)[candidates].tolist()
    shown = labeled["shown"].to_numpy(dtype=object)[candidates].tolist()
    rows = sorted(zip(group[candidates].tolist(), key[candidates].tolist(), post_ids, shown))
    found: dict[int, list[list[tuple[int, str, str]]]] = {}
    for g, row_key, post_id, text in rows:
        examples = found.setdefault(g // k, [[] for _ in range(k)])[g % k]
        if len(examples) < EXAMPLES:
            examples.append((row_key, post_id, text))
    for i, account in enumerate(accounts):
        tally = tallies[str(account)]
        tally.examples = _merge_examples(tally.examples, found.get(i, [[] for _ in range(k)]))


def _period_names(created_at: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Each post's month (``2024-03``) and week (``2024-03-04/2024-03-10``), None when undated.

    Computed on day numbers and named once per distinct period: formatting every post's date
    is the slow part otherwise.
    """
    stamps = pd.to_datetime(created_at, utc=True).dt.tz_convert(None).to_numpy(dtype="datetime64[ns]")
    dated = ~np.isnat(stamps)
    days = stamps.astype("datetime64[D]")
    monday = days - ((days.astype(np.int64) + 3) % 7).astype("timedelta64[D]")  # 1970-01-01 was a Thursday
    months = np.full(len(stamps), None, dtype=object)
    weeks = np.full(len(stamps), None, dtype=object)
    if dated.any():
        month_of = stamps[dated].astype("datetime64[M]")
        unique, inverse = np.unique(month_of, return_inverse=True)
        months[dated] = np.array([str(m) for m in unique], dtype=object)[inverse]
        unique, inverse = np.unique(monday[dated], return_inverse=True)
        names = np.array([f"{d}/{d + np.timedelta64(6, 'D')}" for d in unique], dtype=object)
        weeks[dated] = names[inverse]
    return months, weeks


def labeled_columns(posts: pd.DataFrame) -> pd.DataFrame:
    """The few columns of each post a profile still needs once the post is labeled."""
    repost = posts["is_repost"].to_numpy(dtype=bool)
    prefix = np.where(repost & posts["reposted_from"].notna().to_numpy(), "RT @" + posts["reposted_from"].fillna("").astype(str) + ": ", "")
    text = posts["text"].astype(str).replace("", "(no text)")
    return pd.DataFrame({
        "account": posts["account"].astype(str).to_numpy(),
        "post_id": posts["post_id"].astype(str).to_numpy(),
        "created_at": posts["created_at"].reset_index(drop=True),
        "reply_other": (posts["is_reply"].to_numpy(dtype=bool) & ~posts["is_self_reply"].to_numpy(dtype=bool)),
        "shown": prefix + text.to_numpy(dtype=object),
    })


def weekly_accounts(tallies: dict[str, Tally]) -> set[str]:
    """Accounts whose timeline spans under 90 days: their mix over time is shown per week."""
    day = 86400 * 10**9
    return {a for a, t in tallies.items() if t.first is not None and (t.last - t.first) // day < 90}


def behaviour_from(tally: Tally) -> dict[str, float]:
    """What an account does, from metadata alone (no classifier involved)."""
    n = max(tally.n, 1)
    counts = dict(zip(BEHAVIOUR_COUNTS, tally.behaviour.tolist()))
    duplicates = max(tally.n_keyed - tally.texts.distinct(), 0.0)
    return {
        "reply_rate": counts["reply_other"] / n,
        "thread_share": counts["self_reply"] / n,
        "reshare_rate": counts["reshare"] / n,
        "vanity_reshare_share": counts["vanity_reshare"] / n,
        "quote_share": counts["quote"] / n,
        "link_share": counts["link"] / n,
        "link_only_share": counts["link_only"] / n,
        "hashtags_per_post": counts["hashtags"] / n,
        "question_share": counts["question"] / n,
        "accounts_engaged_per_100": 100.0 * tally.engaged.distinct() / n,
        "duplicate_share": duplicates / n,
        "cross_posted_share": tally.n_keyed * tally.texts.multi_network_share() / n,
    }


def behaviour_metrics(posts: pd.DataFrame) -> dict[str, float]:
    """What one account does, from metadata alone (no classifier involved)."""
    tallies = tally_posts(posts)
    return behaviour_from(next(iter(tallies.values()))) if tallies else behaviour_from(Tally(""))


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
    labels = list(shares)
    return float(score_samples(np.array([[shares[c] for c in labels]]), np.array([behaviour["reply_rate"]]), labels,
                               behaviour, config)[0])


def score_samples(shares: np.ndarray, reply_rates: np.ndarray, labels: list[str], behaviour: dict[str, float],
                  config: dict[str, Any]) -> np.ndarray:
    """:func:`sociability_score` of many share vectors (rows) and reply rates at once."""
    score_cfg = config["score"]
    content = shares @ np.array([score_cfg["content_weights"].get(label, 0.0) for label in labels])
    rules = score_cfg["behaviour"]
    replies = np.minimum(reply_rates / rules["reply_rate_full"], 1.0)
    engagement = min(behaviour["accounts_engaged_per_100"] / rules["engaged_full"], 1.0)
    weights = score_cfg["weights"]
    total = weights["content"] * content + weights["replies"] * replies + weights["engagement"] * engagement
    penalty = 1.0 - rules["link_only_penalty"] * behaviour["link_only_share"] - rules["duplicate_penalty"] * behaviour["duplicate_share"]
    return 100.0 * np.clip(total * max(penalty, 0.0), 0.0, 1.0)


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

    For feeds too big for memory, :func:`sociability.scoring.score_feeds` streams them and gives
    the same profiles.

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
    method = check_method(method or config["shares"]["method"])
    posts = posts.reset_index(drop=True)
    if proba is None:
        proba = predict_by_account(estimator, posts, n_jobs)
    tallies = tally_posts(posts)
    tally_labels(tallies, labeled_columns(posts), proba, weekly_accounts(tallies))
    return [finish_profile(t, estimator, config, method) for t in tallies.values()]


def check_method(method: str) -> str:
    if method not in METHODS:
        raise SociabilityError(f"unknown share method {method!r}; choose one of {', '.join(METHODS)}")
    return method


def finish_profile(tally: Tally, estimator: Any, config: dict[str, Any], method: str) -> Profile:
    """The profile of an account from its merged tally."""
    classes = [str(c) for c in estimator.classes_]
    k = len(classes)
    shares_cfg = config["shares"]
    rates = {"confusion_rates": getattr(estimator, "confusion_rates_", None), "probability_rates": getattr(estimator, "probability_rates_", None)}
    n = max(tally.n, 1)
    cells = tally.cells if tally.cells is not None else np.zeros((k, 2), dtype=np.int64)
    moments = (tally.moments if tally.moments is not None else np.zeros((k + 2, k + 2), dtype=np.int64)) / FIXED_POINT
    counted = cells.sum(axis=1) / n
    mean_proba = moments[0, 1:k + 1] / n
    by_method = {m: dict(zip(classes, map(float, _shares(m, counted, mean_proba, rates)))) for m in METHODS}
    behaviour = behaviour_from(tally)
    point = by_method[method]
    samples, replies = _bootstrap(tally.account, method, cells, moments, n, shares_cfg, rates)
    scores = score_samples(samples, replies, classes, behaviour, config)
    level = shares_cfg.get("level", 0.95)
    alpha = (1 - level) / 2
    low, high = np.quantile(samples, [alpha, 1 - alpha], axis=0)
    # widen by the model's own share error on unseen accounts (measured when it was trained)
    model_error = np.asarray(getattr(estimator, "share_error_", {}).get(method, np.zeros(k)))
    z = float(np.sqrt(2) * erfinv(level))
    estimate = np.array([point[c] for c in classes])
    half_low = np.sqrt(np.square(estimate - low) + np.square(z * model_error))
    half_high = np.sqrt(np.square(high - estimate) + np.square(z * model_error))
    low, high = np.clip(estimate - half_low, 0, 1), np.clip(estimate + half_high, 0, 1)
    shares = {c: Interval(round(point[c], 4), round(float(low[j]), 4), round(float(high[j]), 4)) for j, c in enumerate(classes)}
    score = sociability_score(point, behaviour, config)
    score_low, score_high = np.quantile(scores, [alpha, 1 - alpha])
    name, description = archetype(point, behaviour, config)
    first = pd.Timestamp(tally.first, tz="UTC") if tally.first is not None else None
    last = pd.Timestamp(tally.last, tz="UTC") if tally.last is not None else None
    span_days = max((last - first).total_seconds() / 86400, 1.0) if first is not None else 1.0
    return Profile(
        account=tally.account,
        n_posts=tally.n,
        first_post=first.strftime("%Y-%m-%d") if first is not None else "",
        last_post=last.strftime("%Y-%m-%d") if last is not None else "",
        posts_per_day=round(tally.n / span_days, 3),
        platforms={k_: round(v / n, 4) for k_, v in sorted(tally.platforms.items(), key=lambda kv: (-kv[1], kv[0]))},
        method=method,
        shares=shares,
        shares_by_method={m: {c: round(v, 4) for c, v in s_.items()} for m, s_ in by_method.items()},
        score=Interval(round(score, 1), round(float(min(score_low, score)), 1), round(float(max(score_high, score)), 1)),
        archetype=name,
        archetype_description=description,
        behaviour={key: round(value, 4) for key, value in behaviour.items()},
        activity_by_hour=tally.hours.tolist(),
        activity_by_weekday=tally.weekdays.tolist(),
        mix_over_time=_mix_over_time(tally, classes),
        advice=advice(point, behaviour, config),
        examples={c: [text for _, _, text in (tally.examples[j] if tally.examples else [])] for j, c in enumerate(classes)},
        score_samples=scores,
    )


def _mix_over_time(tally: Tally, classes: list[str]) -> dict[str, dict[str, float]]:
    """Mean probability of each label per month (per week for timelines shorter than 90 days)."""
    if not tally.periods:
        return {}
    periods = sorted(tally.periods)
    values = np.array([tally.periods[p] for p in periods], dtype=np.float64)
    means = np.round(values[:, 1:] / FIXED_POINT / values[:, :1], 4).tolist()
    return {period: dict(zip(classes, row)) for period, row in zip(periods, means)}


def _shares(method: str, counted: np.ndarray, mean_proba: np.ndarray, rates: dict[str, Any]) -> np.ndarray:
    if method == "cc":
        return counted
    if method == "pcc":
        return mean_proba
    if method == "acc":
        return adjust(counted, rates["confusion_rates"])
    return adjust(mean_proba, rates["probability_rates"])


def _bootstrap(account: str, method: str, cells: np.ndarray, moments: np.ndarray, n: int, shares_cfg: dict[str, Any],
               rates: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Resampled shares and reply rates, as resampling the account's posts would give.

    Counted shares resample the label x reply counts (a multinomial: exactly what resampling
    posts does to them); probability means are drawn from their normal approximation, whose
    covariance the merged sums give. Seeded per account, so every run and engine agrees.
    """
    k = cells.shape[0]
    size = shares_cfg.get("bootstrap", 300)
    rng = np.random.default_rng([shares_cfg.get("seed", 0), stable_hash(account) % 2**32])
    if method in ("cc", "acc"):
        flat = cells.ravel() / max(cells.sum(), 1)
        draws = rng.multinomial(n, flat, size=size).reshape(size, k, 2) / n
        shares, replies = draws.sum(axis=2), draws[:, :, 1].sum(axis=1)
        if method == "acc":
            shares = np.array([adjust(s, rates["confusion_rates"]) for s in shares])
        return shares, replies
    mean = moments[0, 1:] / n
    covariance = (moments[1:, 1:] / n - np.outer(mean, mean)) / n
    draws = rng.multivariate_normal(mean, covariance, size=size, method="eigh", check_valid="ignore")
    shares, replies = np.clip(draws[:, :k], 0, 1), np.clip(draws[:, k], 0, 1)
    if method == "pacc":
        shares = np.array([adjust(s, rates["probability_rates"]) for s in shares])
    return shares, replies


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
    return Comparison(ranked, pd.DataFrame(rows), level)


def score_differences(ranked: Sequence[Profile], level: float = 0.95) -> pd.DataFrame:
    """Each pair of profiles (ranked by score): the score difference and its interval from the samples."""
    alpha = (1 - level) / 2
    differences = []
    for i, a in enumerate(ranked):
        others = ranked[i + 1:]
        if not others:
            break
        n = min([len(a.score_samples)] + [len(b.score_samples) for b in others])
        if n:  # all of a's pairs at once: one quantile call per account, not per pair
            diffs = a.score_samples[:n][None, :] - np.vstack([b.score_samples[:n] for b in others])
            lows, highs = np.quantile(diffs, [alpha, 1 - alpha], axis=1)
        else:
            lows = highs = np.full(len(others), np.nan)
        for b, low, high in zip(others, lows, highs):
            differences.append({"higher": a.account, "lower": b.account,
                                "difference": round(a.score.estimate - b.score.estimate, 1),
                                "low": round(float(low), 1), "high": round(float(high), 1),
                                "beyond_noise": bool(n and (low > 0 or high < 0))})
    return pd.DataFrame(differences, columns=["higher", "lower", "difference", "low", "high", "beyond_noise"])
