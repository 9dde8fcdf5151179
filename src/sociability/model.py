"""The post classifier: text model, account context, calibrated probabilities.

Two stages, both scikit-learn:

1. **Text model**: word n-gram TF-IDF, hashed character n-gram TF-IDF and structural/rule-signal
   columns of :class:`~sociability.features.PostFeaturizer`, into a logistic regression.
2. **Context model**: the text model's (out-of-fold) probabilities; the probability that the
   account is an organisation, from an account model that reads the account's whole timeline
   (its own words and the rates of :func:`~sociability.features.account_features`; trained when
   the labeled data says which accounts are organisations); the account's average text-model
   probabilities; the post's structure; and their interactions, into a second logistic
   regression calibrated with :class:`~sklearn.calibration.CalibratedClassifierCV`.

The second stage is what lets the same link post read as brand broadcasting from an organisation
and as personal sharing from a person. A single post without a timeline is its own (one-post)
account, whose averages are shrunk toward the average account.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.model_selection import GroupKFold, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler, normalize
from sklearn.utils.validation import check_is_fitted
import scipy.sparse as sp

from .features import (
    ACCOUNT_FEATURES,
    STRUCTURAL,
    TextFeatures,
    PostFeaturizer,
    account_features,
    account_prior,
    account_rates,
    account_summary,
)

LABELS: list[str] = ["self_promotion", "vanity_retweet", "personal_sharing", "genuine_conversation"]
"""The four kinds of post, in the order probability columns use."""

POST_CONTEXT = ["is_repost", "mentions_self", "is_reply_other", "is_self_reply", "n_urls", "link_only"]
"""The post's own structure, as the context stage sees it."""

FIXED_POINT = 2.0**32
"""Sums are kept as integers in units of 2**-32, so adding shares in any order gives the same bits."""

TEXT_BATCH = 2048
"""Posts whose n-gram matrix is built at once when predicting (bounds the memory of a chunk)."""


def to_fixed(values: pd.DataFrame) -> pd.DataFrame:
    return np.rint(values * FIXED_POINT).astype(np.int64)


@dataclass
class ContextSums:
    """What the context stage needs to know of each account, summed over any share of its posts.

    ``table`` holds, per account, the sums behind its summary rates and of the text stage's
    probabilities (fixed point); ``words`` counts the words of its own posts (a vector over the
    account model's vocabulary, so its size does not grow with the posts). The posts of an
    account may arrive in any number of chunks, processes or cluster partitions: adding their
    sums gives the same total, hence the same predictions, as one pass over all of them.
    """

    table: pd.DataFrame
    words: dict[str, np.ndarray]

    @classmethod
    def combine(cls, parts: Iterable[ContextSums]) -> ContextSums:
        parts = list(parts)
        tables = [p.table for p in parts if len(p.table)]
        table = pd.concat(tables).groupby(level=0, sort=False).sum() if tables else pd.DataFrame()
        words: dict[str, np.ndarray] = {}
        for part in parts:
            for account, counts in part.words.items():
                words[account] = words[account] + counts if account in words else counts
        return cls(table, words)


def _fit_predict(model: Pipeline, F: pd.DataFrame, y: np.ndarray, train_idx: np.ndarray, test_idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One cross-validation fold: fit on train, probabilities on test (runs in a worker)."""
    fitted = clone(model).fit(F.iloc[train_idx], y[train_idx])
    return fitted.classes_, fitted.predict_proba(F.iloc[test_idx])


def _split_groups(y: np.ndarray, groups: np.ndarray | None, n_splits: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Folds that keep each account on one side (grouped), else stratified folds."""
    if groups is not None and len(np.unique(groups)) >= n_splits:
        return list(GroupKFold(n_splits=n_splits).split(np.zeros(len(y)), y, groups))
    return list(StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed).split(np.zeros(len(y)), y))


class SociabilityClassifier(ClassifierMixin, BaseEstimator):
    """Label posts as self_promotion, vanity_retweet, personal_sharing or genuine_conversation.

    ``X`` is the canonical post table (:data:`sociability.COLUMNS`); all posts of an account in
    ``X`` are its timeline, which the context stage summarises.

    Parameters
    ----------
    word_ngrams, word_min_df, word_features : word n-gram range, minimum document frequency and
        hash buckets.
    char_ngrams, char_features : character n-gram range and hash buckets (``use_chars``).
    use_chars, use_signals, use_account : switch feature groups on or off.
    text_estimator : ``"logistic"`` (LogisticRegression, inverse regularisation ``C``) or ``"sgd"``
        (SGDClassifier with log loss, regularisation ``alpha``: much faster on large data).
    context_C : inverse regularisation of the context model.
    account_C : inverse regularisation of the organisation-vs-person account model (trained when
        the labeled data has an ``account_kind`` column).
    account_strength : pseudo-posts of the average account mixed into each account summary.
    calibration : ``"sigmoid"``, ``"isotonic"`` or ``"none"``.
    cv : folds for out-of-fold probabilities and calibration (grouped by account).
    class_weight : passed to both logistic regressions.
    lexicon, spacy_model : rule-signal config and spaCy pipeline (see :mod:`sociability.text`).
    n_jobs : processes for the cross-validation folds (joblib).
    random_state : seed for fold shuffling.
    """

    def __init__(
        self,
        word_ngrams: tuple[int, int] = (1, 2),
        word_min_df: int = 2,
        word_features: int = 2**20,
        char_ngrams: tuple[int, int] = (2, 5),
        char_features: int = 2**18,
        use_chars: bool = True,
        use_signals: bool = True,
        use_account: bool = True,
        text_estimator: str = "logistic",
        C: float = 4.0,
        alpha: float = 3e-5,
        context_C: float = 0.1,
        account_C: float = 1.0,
        account_strength: float = 5.0,
        calibration: str = "sigmoid",
        cv: int = 5,
        class_weight: str | None = "balanced",
        lexicon: str = "lexicon.toml",
        spacy_model: str = "blank:en",
        n_jobs: int | None = None,
        random_state: int = 0,
    ) -> None:
        self.word_ngrams = word_ngrams
        self.word_min_df = word_min_df
        self.word_features = word_features
        self.char_ngrams = char_ngrams
        self.char_features = char_features
        self.use_chars = use_chars
        self.use_signals = use_signals
        self.use_account = use_account
        self.text_estimator = text_estimator
        self.C = C
        self.alpha = alpha
        self.context_C = context_C
        self.account_C = account_C
        self.account_strength = account_strength
        self.calibration = calibration
        self.cv = cv
        self.class_weight = class_weight
        self.lexicon = lexicon
        self.spacy_model = spacy_model
        self.n_jobs = n_jobs
        self.random_state = random_state

    # ------------------------------------------------------------------ building blocks

    def _text_pipeline(self, signal_columns: list[str]) -> Pipeline:
        numeric = STRUCTURAL + (signal_columns if self.use_signals else [])
        features = TextFeatures(tuple(self.word_ngrams), self.word_features, self.word_min_df, tuple(self.char_ngrams),
                                self.char_features, self.use_chars, numeric)
        return Pipeline([("features", features), ("model", self._text_estimator())])

    def _text_estimator(self) -> Any:
        if self.text_estimator == "sgd":
            return SGDClassifier(loss="log_loss", alpha=self.alpha, class_weight=self.class_weight, max_iter=50,
                                 tol=1e-4, random_state=self.random_state)
        if self.text_estimator == "logistic":
            return LogisticRegression(C=self.C, max_iter=3000, tol=1e-3, class_weight=self.class_weight)
        raise ValueError(f"text_estimator must be 'logistic' or 'sgd', got {self.text_estimator!r}")

    def _account_table(self, X: pd.DataFrame, F: pd.DataFrame) -> pd.DataFrame:
        """One row per account: the text of its own (non re-shared) posts and its behaviour rates."""
        accounts = X["account"].astype(str).reset_index(drop=True)
        rates = F[STRUCTURAL + [c for c in F.columns if c.startswith("sig_")]].reset_index(drop=True)
        acc = account_features(accounts, rates, self.account_prior_, self.account_strength)
        acc.index = accounts.to_numpy()
        table = acc[~acc.index.duplicated()].copy()
        own = ~X["is_repost"].to_numpy(dtype=bool)
        texts = pd.Series(F["norm_text"].to_numpy()[own]).groupby(accounts.to_numpy()[own]).agg(" ".join)
        table.insert(0, "account_text", texts.reindex(table.index).fillna(""))
        return table

    def _account_pipeline(self) -> Pipeline:
        return Pipeline([
            ("features", ColumnTransformer([
                ("words", TfidfVectorizer(token_pattern=r"\S+", lowercase=False, min_df=2, sublinear_tf=True), "account_text"),
                ("rates", StandardScaler(), ACCOUNT_FEATURES),
            ])),
            ("model", LogisticRegression(C=self.account_C, max_iter=3000, class_weight="balanced")),
        ])

    def _context_matrix(self, P: np.ndarray, org: np.ndarray, acc_probs: np.ndarray, post: np.ndarray) -> np.ndarray:
        """Text-model logits, the account's organisation score, their interactions, post structure."""
        logits = np.log(np.clip(P, 1e-4, 1)) - np.log(np.clip(1 - P, 1e-4, 1))
        org_logit = (np.log(np.clip(org, 1e-3, 1)) - np.log(np.clip(1 - org, 1e-3, 1)))[:, None]
        return np.hstack([logits, org_logit, logits * org_logit, acc_probs, post, post * org_logit]).astype(np.float64)

    def _account_probs(self, accounts: np.ndarray, P: np.ndarray) -> np.ndarray:
        """Each post's account average of P, shrunk toward the average account."""
        sums = pd.DataFrame(P).groupby(accounts, sort=False).agg(["sum", "count"])
        return np.column_stack([
            ((sums[(j, "sum")] + self.account_strength * self.prob_prior_[j]) / (sums[(j, "count")] + self.account_strength)).loc[accounts].to_numpy()
            for j in range(P.shape[1])
        ])

    def _org_scores(self, model: Pipeline, table: pd.DataFrame, accounts: pd.Series) -> np.ndarray:
        """Each post's probability that its account is an organisation."""
        if model is None:
            return np.full(len(accounts), 0.5)
        scores = pd.Series(model.predict_proba(table)[:, list(model.classes_).index(True)], index=table.index)
        return scores.loc[accounts.astype(str).to_numpy()].to_numpy()

    # ------------------------------------------------------------------ estimator API

    def fit(self, X: pd.DataFrame, y: Sequence[str], groups: Sequence[str] | None = None) -> SociabilityClassifier:
        """Learn from labeled posts; folds keep each account on one side (``groups`` or ``X.account``).

        Besides the fitted stages this sets ``oof_proba_``: out-of-fold probabilities of the whole
        model for every training post, i.e. cross-validated predictions on unseen accounts.
        """
        y = np.asarray(y, dtype=object)
        if len(X) != len(y):
            raise ValueError(f"X has {len(X)} posts but y has {len(y)} labels")
        X = X.reset_index(drop=True)
        present = sorted(set(y), key=lambda c: LABELS.index(c) if c in LABELS else len(LABELS))
        self.classes_ = np.array(present, dtype=object)
        groups_arr = np.asarray(groups if groups is not None else X["account"], dtype=object)
        self.featurizer_ = PostFeaturizer(self.lexicon, self.spacy_model).fit(X)
        F = self.featurizer_.transform(X)
        text_model = self._text_pipeline([c for c in F.columns if c.startswith("sig_")])
        folds = _split_groups(y, groups_arr, self.cv, self.random_state)
        fitted = Parallel(n_jobs=self.n_jobs)(
            delayed(_fit_predict)(text_model, F, y, train_idx, test_idx) for train_idx, test_idx in folds
        )
        oof = np.zeros((len(y), len(self.classes_)))
        for (_, test_idx), (fold_classes, proba) in zip(folds, fitted):
            oof[test_idx] = self._aligned(fold_classes, proba)
        self.text_model_ = text_model.fit(F, y)
        if not self.use_account:
            self.context_model_ = self.account_model_ = None
            self.text_model_ = self._calibrated(text_model, folds).fit(F, y)
            self.oof_proba_ = self._oof_calibrated(oof, y, folds)
            self._fit_quantification(y, groups_arr)
            return self
        accounts = X["account"].astype(str)
        rates = F[STRUCTURAL + [c for c in F.columns if c.startswith("sig_")]]
        self.account_prior_ = account_prior(accounts, rates)
        self.prob_prior_ = pd.DataFrame(oof).groupby(accounts.to_numpy()).mean().mean()
        table = self._account_table(X, F)
        org = np.full(len(X), 0.5)
        self.account_model_ = None
        kinds = self._account_kinds(X)
        if kinds is not None:
            is_org = kinds.reindex(table.index).eq("organisation")
            for train_idx, test_idx in folds:
                mask = table.index.isin(set(accounts.iloc[train_idx]))
                if is_org[mask].nunique() == 2:
                    fold_model = self._account_pipeline().fit(table[mask], is_org[mask])
                    org[test_idx] = self._org_scores(fold_model, table[~mask], accounts.iloc[test_idx])
            self.account_model_ = self._account_pipeline().fit(table, is_org)
        C = self._context_matrix(oof, org, self._account_probs(accounts.to_numpy(), oof), F[POST_CONTEXT].to_numpy())
        context = Pipeline([
            ("scale", StandardScaler()),
            ("model", LogisticRegression(C=self.context_C, max_iter=3000, class_weight=self.class_weight)),
        ])
        self.oof_proba_ = self._oof_calibrated(C, y, folds, context)
        self.context_model_ = self._calibrated(context, folds).fit(C, y)
        self._fit_quantification(y, groups_arr)
        return self

    def _fit_quantification(self, y: np.ndarray, accounts: np.ndarray | None = None) -> None:
        """How the model errs on unseen accounts, for adjusted share estimates in profiles.

        ``confusion_rates_[i, j]``: share of posts of true label i predicted j (out of fold);
        ``probability_rates_[i, j]``: mean probability of j given to posts of true label i.
        """
        k = len(self.classes_)
        predicted = np.argmax(self.oof_proba_, axis=1)
        self.confusion_rates_ = np.zeros((k, k))
        self.probability_rates_ = np.zeros((k, k))
        for i, label in enumerate(self.classes_):
            rows = y == label
            self.confusion_rates_[i] = np.bincount(predicted[rows], minlength=k) / max(rows.sum(), 1)
            self.probability_rates_[i] = self.oof_proba_[rows].mean(axis=0)
        self.share_error_ = self._share_errors(y, accounts) if accounts is not None else {}

    def _share_errors(self, y: np.ndarray, accounts: np.ndarray, min_posts: int = 15) -> dict[str, list[float]]:
        """Root-mean-square error of each label's estimated share over held-out training accounts.

        Profiles add it to their bootstrap intervals: resampling posts measures sampling noise,
        this measures how far the classifier's shares stray on accounts it never saw.
        """
        from .profiles import METHODS, estimate_shares

        rates = {"confusion_rates": self.confusion_rates_, "probability_rates": self.probability_rates_}
        errors: dict[str, list[np.ndarray]] = {m: [] for m in METHODS}
        sampling: list[np.ndarray] = []
        for account in np.unique(accounts):
            rows = accounts == account
            if rows.sum() < min_posts:
                continue
            truth = np.array([(y[rows] == c).mean() for c in self.classes_])
            sampling.append(truth * (1 - truth) / rows.sum())
            for method in METHODS:
                errors[method].append(estimate_shares(self.oof_proba_[rows], method, **rates) - truth)
        if not sampling:
            return {}
        # short training timelines make errors noisy: remove the part sampling alone explains
        noise = np.mean(sampling, axis=0)
        return {m: np.sqrt(np.clip(np.mean(np.square(e), axis=0) - noise, 0, None)).round(4).tolist() for m, e in errors.items()}

    def _oof_calibrated(self, features: np.ndarray, y: np.ndarray, folds: list, estimator: Any = None) -> np.ndarray:
        """Out-of-fold probabilities of the final (calibrated) stage, for cross-validated metrics."""
        if estimator is None:  # text-only model: the out-of-fold text probabilities are the answer
            return features
        oof = np.zeros((len(y), len(self.classes_)))
        inner = max(2, min(self.cv - 1, 3))
        for train_idx, test_idx in folds:
            model = clone(estimator)
            if self.calibration != "none":
                model = CalibratedClassifierCV(model, method=self.calibration, cv=inner)
            model.fit(features[train_idx], y[train_idx])
            oof[test_idx] = self._aligned(model, model.predict_proba(features[test_idx]))
        return oof

    @staticmethod
    def _account_kinds(X: pd.DataFrame) -> pd.Series | None:
        """``organisation``/``person`` per account, when the labeled data says (else no account model)."""
        if "account_kind" not in X or X["account_kind"].isna().all():
            return None
        kinds = X[["account", "account_kind"]].dropna().astype(str)
        kinds = kinds.groupby("account")["account_kind"].agg(lambda k: k.mode().iloc[0])
        return kinds if kinds.nunique() == 2 else None

    def _calibrated(self, estimator: Any, folds: list) -> Any:
        if self.calibration == "none":
            return estimator
        return CalibratedClassifierCV(estimator, method=self.calibration, cv=folds)

    def _aligned(self, model: Any, proba: np.ndarray) -> np.ndarray:
        """Probabilities in ``self.classes_`` order, zero for a class a fold never saw."""
        out = np.zeros((proba.shape[0], len(self.classes_)))
        index = {c: i for i, c in enumerate(self.classes_)}
        classes = model.classes_ if hasattr(model, "classes_") else model
        for j, c in enumerate(classes):
            out[:, index[c]] = proba[:, j]
        return out

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Probability of each label in ``classes_`` order; X's accounts are the timelines."""
        check_is_fitted(self, "text_model_")
        if len(X) == 0:
            return np.zeros((0, len(self.classes_)))
        F, P = self.text_stage(X)
        if self.context_model_ is None:
            return P
        context = self.account_context(self.context_sums(X, F, P))
        return self.context_stage(X["account"].astype(str).to_numpy(), F[POST_CONTEXT].to_numpy(), P, context)

    # The same prediction in three steps, for feeds that arrive in chunks (see sociability.scoring):
    # text_stage and context_sums per chunk; account_context once on the merged sums; then
    # context_stage per chunk.

    def text_stage(self, X: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
        """The post features and the first stage's probabilities (from the post alone)."""
        check_is_fitted(self, "text_model_")
        F = self.featurizer_.transform(X)
        return F, self._text_model_proba(F)

    def _text_model_proba(self, F: pd.DataFrame) -> np.ndarray:
        """The text model's probabilities, TEXT_BATCH posts at a time.

        A post has hundreds of n-grams: the sparse matrix of 10,000 posts takes a few hundred MB
        for a moment, a slice of them a few dozen. The rows are independent, so slicing changes
        no figure.
        """
        parts = [self.text_model_.predict_proba(F.iloc[start:start + TEXT_BATCH]) for start in range(0, len(F), TEXT_BATCH)]
        proba = np.concatenate(parts) if parts else np.zeros((0, len(self.text_model_.classes_)))
        return self._aligned(self.text_model_, proba)

    def context_sums(self, X: pd.DataFrame, F: pd.DataFrame, P: np.ndarray) -> ContextSums:
        """This chunk's share of each account's sums (merge with :meth:`ContextSums.combine`)."""
        accounts = X["account"].astype(str).reset_index(drop=True)
        rates = F[STRUCTURAL + [c for c in F.columns if c.startswith("sig_")]].reset_index(drop=True)
        sums = account_rates(accounts, rates)
        probs = pd.DataFrame(P, columns=[f"_p{j}" for j in range(P.shape[1])]).groupby(accounts.to_numpy(), sort=False).sum()
        table = to_fixed(pd.concat([sums, probs.reindex(sums.index)], axis=1))
        words: dict[str, np.ndarray] = {}
        vocabulary = self._account_vocabulary()
        if vocabulary is not None:
            own = ~X["is_repost"].to_numpy(dtype=bool)
            texts: dict[str, list[str]] = {}
            for account, text in zip(accounts.to_numpy()[own], F["norm_text"].to_numpy()[own]):
                texts.setdefault(account, []).append(text)
            for account, parts in texts.items():
                found = [(vocabulary[w], c) for w, c in Counter(" ".join(parts).split()).items() if w in vocabulary]
                counts = np.zeros(len(vocabulary), dtype=np.int64)
                if found:
                    index, values = zip(*found)
                    counts[list(index)] = values
                words[account] = counts
        return ContextSums(table, words)

    def account_context(self, sums: ContextSums) -> pd.DataFrame:
        """Per account: its organisation score and average text-stage probabilities (shrunk)."""
        table = sums.table / FIXED_POINT
        summary = account_summary(table, self.account_prior_, self.account_strength)
        out = pd.DataFrame(index=table.index)
        out["organisation"] = self._organisation(summary, sums.words)
        for j in range(len(self.classes_)):
            out[f"p{j}"] = (table[f"_p{j}"] + self.account_strength * self.prob_prior_[j]) / (table["_posts"] + self.account_strength)
        return out

    def context_stage(self, accounts: np.ndarray, post: np.ndarray, P: np.ndarray, context: pd.DataFrame) -> np.ndarray:
        """Final probabilities of posts, given their accounts' context (from :meth:`account_context`)."""
        rows = context.loc[accounts]
        acc_probs = rows[[f"p{j}" for j in range(len(self.classes_))]].to_numpy()
        C = self._context_matrix(P, rows["organisation"].to_numpy(), acc_probs, post)
        return self._aligned(self.context_model_, self.context_model_.predict_proba(C))

    def _account_vocabulary(self) -> dict[str, int] | None:
        if getattr(self, "account_model_", None) is None:
            return None
        return self.account_model_.named_steps["features"].named_transformers_["words"].vocabulary_

    def _organisation(self, summary: pd.DataFrame, words: dict[str, np.ndarray]) -> np.ndarray:
        """What the account model's pipeline computes from the joined text, from word counts."""
        if getattr(self, "account_model_", None) is None:
            return np.full(len(summary), 0.5)
        columns = self.account_model_.named_steps["features"]
        vectorizer = columns.named_transformers_["words"]
        none = np.zeros(len(vectorizer.vocabulary_), dtype=np.int64)
        counts = sp.csr_matrix(np.vstack([words.get(account, none) for account in summary.index]).astype(np.float64))
        counts.data = np.log(counts.data) + 1.0  # sublinear tf, as the vectorizer
        text = normalize(counts @ sp.diags(vectorizer.idf_))
        rates = columns.named_transformers_["rates"].transform(summary[ACCOUNT_FEATURES])
        matrix = sp.hstack([text, sp.csr_matrix(rates)], format="csr")
        model = self.account_model_.named_steps["model"]
        return model.predict_proba(matrix)[:, list(model.classes_).index(True)]

    def organisation_scores(self, X: pd.DataFrame) -> pd.Series:
        """Probability that each account in X is an organisation, from its timeline (NaN without an account model)."""
        check_is_fitted(self, "text_model_")
        if getattr(self, "account_model_", None) is None:
            return pd.Series(np.nan, index=pd.Index(X["account"].astype(str).unique()))
        F, P = self.text_stage(X)
        return self.account_context(self.context_sums(X, F, P))["organisation"]

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def text_proba(self, X: pd.DataFrame) -> np.ndarray:
        """The first stage alone: probabilities from the post's own text and structure."""
        return self.text_stage(X)[1]


PARALLEL_MIN_POSTS = 4000
"""Below this many posts, worker start-up costs more than it saves."""


def predict_by_account(estimator: SociabilityClassifier, posts: pd.DataFrame, n_jobs: int | None = 1) -> np.ndarray:
    """``predict_proba`` spread over processes, each taking whole accounts.

    An account's posts are its context, so they always stay together; the result is the same as
    one call on all posts. ``n_jobs`` None or < 1 means all cores.
    """
    jobs = n_jobs if n_jobs and n_jobs > 0 else (os.cpu_count() or 1)
    if jobs == 1 or len(posts) < PARALLEL_MIN_POSTS or posts["account"].nunique() < 2:
        return estimator.predict_proba(posts)
    sizes = posts.groupby("account", sort=False).size().sort_values(ascending=False)
    chunks: list[list[str]] = [[] for _ in range(jobs * 2)]
    load = np.zeros(len(chunks))
    for account, size in sizes.items():  # largest first into the lightest chunk
        lightest = int(np.argmin(load))
        chunks[lightest].append(account)
        load[lightest] += size
    indices = [np.flatnonzero(posts["account"].isin(set(chunk)).to_numpy()) for chunk in chunks if chunk]
    parts = Parallel(n_jobs=jobs)(delayed(estimator.predict_proba)(posts.iloc[index]) for index in indices)
    proba = np.zeros((len(posts), len(estimator.classes_)))
    for index, part in zip(indices, parts):
        proba[index] = part
    return proba


def predict_posts(estimator: SociabilityClassifier, posts: pd.DataFrame, n_jobs: int | None = 1) -> pd.DataFrame:
    """The posts with ``label`` and one ``p_<label>`` probability column per label appended."""
    proba = predict_by_account(estimator, posts, n_jobs) if len(posts) else np.zeros((0, len(estimator.classes_)))
    out = posts.reset_index(drop=True).copy()
    out["label"] = estimator.classes_[np.argmax(proba, axis=1)] if len(posts) else pd.Series([], dtype=object)
    for j, label in enumerate(estimator.classes_):
        out[f"p_{label}"] = proba[:, j]
    return out
