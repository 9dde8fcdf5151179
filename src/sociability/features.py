"""Features of a post and of the account around it, as scikit-learn transformers.

* :class:`PostFeaturizer` turns the canonical post table into normalised text (the account's own
  handle becomes ``xself``, other handles ``xuser``, links ``xurl``, with context markers such
  as ``xrt`` for a re-share) plus structural and rule-signal columns.
* :class:`HashedCharNgrams` counts character n-grams with numpy over the whole batch at once:
  the accuracy of character n-grams without the cost of scikit-learn's Python analyzers.
* :func:`account_features` summarises each account's timeline (link, reply and re-share
  rates, first-person rate, how often it names itself...), because the labeling rulings depend
  on who is posting: an organisation broadcasting a link is promoting, a person sharing one is not.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .posts import is_link_only, same_account
from .text import Lexicon, SocialNLP, is_emoji, is_url

MARKERS = {"is_repost": "xrt", "is_quote": "xquote", "is_reply_other": "xreply", "is_self_reply": "xthread"}
STRUCTURAL = [
    "is_repost", "is_quote", "is_reply_other", "is_self_reply", "mentions_self", "repost_of_self",
    "quote_mentions_self", "starts_with_mention", "link_only", "truncated", "no_text",
    "n_mentions", "n_urls", "n_hashtags", "n_emoji", "n_chars", "n_tokens", "exclaim", "caps_ratio",
]
_SIGNALS_CACHE: dict[tuple[str, str], SocialNLP] = {}


def _social_nlp(lexicon: str, spacy_model: str) -> SocialNLP:
    key = (lexicon, spacy_model)
    if key not in _SIGNALS_CACHE:
        _SIGNALS_CACHE[key] = SocialNLP(Lexicon.from_config(lexicon), spacy_model)
    return _SIGNALS_CACHE[key]


class PostFeaturizer(TransformerMixin, BaseEstimator):
    """Canonical posts to normalised text + structural + rule-signal columns.

    Parameters
    ----------
    lexicon : config file of rule signals (``configs/lexicon.toml``).
    spacy_model : ``"blank:en"`` or an installed spaCy pipeline name.
    include_quoted : append the quoted post's text (after ``xquoted``) to a quote post's text.
    """

    def __init__(self, lexicon: str = "lexicon.toml", spacy_model: str = "blank:en", include_quoted: bool = True) -> None:
        self.lexicon = lexicon
        self.spacy_model = spacy_model
        self.include_quoted = include_quoted

    def fit(self, X: pd.DataFrame, y: Sequence | None = None) -> PostFeaturizer:
        self.signal_names_ = _social_nlp(self.lexicon, self.spacy_model).signal_names
        return self

    def get_feature_names_out(self, input_features: Sequence[str] | None = None) -> np.ndarray:
        check_is_fitted(self, "signal_names_")
        return np.array(["norm_text", *STRUCTURAL, *[f"sig_{s}" for s in self.signal_names_]], dtype=object)

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        check_is_fitted(self, "signal_names_")
        nlp = _social_nlp(self.lexicon, self.spacy_model)
        rows = X.to_dict(orient="records") if isinstance(X, pd.DataFrame) else list(X)
        texts = [str(r.get("text") or "") for r in rows]
        out_text, structural, signals = [], [], []
        for row, text in zip(rows, texts):
            account = row.get("account") or ""
            raw = nlp.token_texts(text)
            tokens = _normalise_tokens(raw, account)
            markers = [m for key, m in MARKERS.items() if _flag(row, key)]
            norm = " ".join(markers + tokens)
            quoted = row.get("quoted_text")
            quote_self = False
            if self.include_quoted and row.get("is_quote") and isinstance(quoted, str) and quoted:
                quoted_tokens = _normalise_tokens(nlp.token_texts(quoted), account)
                quote_self = "xself" in quoted_tokens
                norm += " xquoted " + " ".join(quoted_tokens)
            out_text.append(norm)
            structural.append(_structural(row, raw, tokens, quote_self))
            sig = nlp.count_signals(raw)
            signals.append([math.log1p(sig[name]) for name in self.signal_names_])
        frame = pd.DataFrame(structural, columns=STRUCTURAL, index=X.index if isinstance(X, pd.DataFrame) else None)
        frame.insert(0, "norm_text", out_text)
        sig_frame = pd.DataFrame(signals, columns=[f"sig_{s}" for s in self.signal_names_], index=frame.index)
        return pd.concat([frame, sig_frame], axis=1)


def _flag(row: dict, key: str) -> bool:
    if key == "is_reply_other":
        return bool(row.get("is_reply")) and not bool(row.get("is_self_reply"))
    return bool(row.get(key))


def _normalise_tokens(raw: list[str], account: str) -> list[str]:
    """Lower-cased tokens with the account's handle as xself, others as xuser, links as xurl."""
    tokens = []
    for text in raw:
        if text == " ":
            continue
        if text.startswith("@") and len(text) > 1:
            handle = text[1:].lower().rstrip(".")
            tokens.append("xself" if _names_account(handle, account) else "xuser")
        elif is_url(text.lower()):
            tokens.append("xurl")
        elif text[:1].isdigit():
            tokens.append("xnum" if not text.isalpha() else text.lower())
        else:
            tokens.append(text.lower())
    return tokens


def _names_account(handle: str, account: str) -> bool:
    """A handle naming the account; a Mastodon account's user name counts on any server."""
    if same_account(handle, account):
        return True
    local = handle.split("@")[0]
    return "@" in account and bool(local) and local == account.split("@")[0]


def _structural(row: dict, raw: list[str], tokens: list[str], quote_self: bool) -> list[float]:
    text = str(row.get("text") or "")
    letters = list(filter(str.isalpha, text))
    urls = row.get("urls")
    mentions = row.get("mentions")
    hashtags = row.get("hashtags")
    n_urls = len(urls) if urls is not None else tokens.count("xurl")
    return [
        float(bool(row.get("is_repost"))),
        float(bool(row.get("is_quote"))),
        float(_flag(row, "is_reply_other")),
        float(bool(row.get("is_self_reply"))),
        float(bool(row.get("mentions_self"))),
        float(bool(row.get("is_repost")) and same_account(row.get("reposted_from"), row.get("account"))),
        float(quote_self),
        float(text.lstrip().startswith("@")),
        float(is_link_only(text)),
        float(text.rstrip().endswith("…")),
        float(not text.strip()),
        math.log1p(len(mentions) if mentions is not None else 0),
        math.log1p(n_urls),
        math.log1p(len(hashtags) if hashtags is not None else 0),
        math.log1p(sum(1 for t in raw if is_emoji(t))),
        math.log1p(len(text)) / 6.0,
        math.log1p(len(tokens)) / 4.0,
        float("!" in text),
        (sum(map(str.isupper, letters)) / len(letters)) if len(letters) >= 8 else 0.0,
    ]


class HashedCharNgrams(TransformerMixin, BaseEstimator):
    """Character n-gram counts hashed into a fixed number of columns, computed with numpy.

    Equivalent in spirit to ``HashingVectorizer(analyzer="char")`` but vectorised over the batch:
    every n-gram of every text is hashed in a handful of array operations, with no Python loop
    per n-gram. Windows never cross from one text into the next.

    Parameters
    ----------
    ngram_range : smallest and largest n.
    n_features : number of hash buckets.
    min_df : keep only buckets seen in at least this many training texts; the others can carry no
        learned weight, and dropping them makes the linear model several times faster to fit.
    """

    def __init__(self, ngram_range: tuple[int, int] = (2, 5), n_features: int = 2**18, min_df: int = 2) -> None:
        self.ngram_range = ngram_range
        self.n_features = n_features
        self.min_df = min_df

    def fit(self, X: Sequence[str], y: Sequence | None = None) -> HashedCharNgrams:
        counts = self._hash(X)
        document_frequency = np.bincount(counts.indices, minlength=counts.shape[1])
        self.columns_ = np.flatnonzero(document_frequency >= self.min_df)
        self.n_features_out_ = len(self.columns_)
        return self

    def get_feature_names_out(self, input_features: Sequence[str] | None = None) -> np.ndarray:
        check_is_fitted(self, "columns_")
        return np.array([f"char_hash_{i}" for i in self.columns_], dtype=object)

    def transform(self, X: Sequence[str] | pd.Series) -> sp.csr_matrix:
        check_is_fitted(self, "columns_")
        return self._hash(X)[:, self.columns_]

    def _hash(self, X: Sequence[str] | pd.Series) -> sp.csr_matrix:
        """Counts in all ``n_features`` buckets."""
        n_buckets = int(self.n_features)
        texts = [f" {t} " for t in (X.tolist() if hasattr(X, "tolist") else list(X))]
        n_docs = len(texts)
        if n_docs == 0:
            return sp.csr_matrix((0, n_buckets), dtype=np.float64)
        codes = np.frombuffer("\x00".join(texts).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
        is_sep = codes == 0
        doc_of = np.cumsum(is_sep)  # index of the text each character belongs to
        sep_cum = np.concatenate([[0], np.cumsum(is_sep)])
        rows, cols = [], []
        mask64 = np.uint64(0xFFFFFFFFFFFFFFFF)
        low, high = self.ngram_range
        for n in range(low, high + 1):
            if len(codes) < n:
                continue
            count = len(codes) - n + 1
            h = np.full(count, np.uint64(1469598103934665603 + n))
            for k in range(n):
                h = (h ^ codes[k:k + count]) * np.uint64(1099511628211) & mask64
            valid = (sep_cum[n:n + count] - sep_cum[:count]) == 0
            rows.append(doc_of[:count][valid])
            cols.append((h[valid] % np.uint64(n_buckets)).astype(np.int64))
        if not rows:
            return sp.csr_matrix((n_docs, n_buckets), dtype=np.float64)
        row = np.concatenate(rows)
        col = np.concatenate(cols)
        data = np.ones(len(row), dtype=np.float64)
        matrix = sp.csr_matrix((data, (row, col)), shape=(n_docs, n_buckets))
        matrix.sum_duplicates()
        return matrix


ACCOUNT_FEATURES = [
    "acc_n_posts", "acc_repost", "acc_reply_other", "acc_self_reply", "acc_link", "acc_link_only",
    "acc_hashtag", "acc_mention", "acc_mentions_self", "acc_first_person", "acc_first_plural",
    "acc_second_person", "acc_question", "acc_emoji", "acc_cta", "acc_sales", "acc_own_content",
    "acc_gratitude", "acc_feeling", "acc_length",
]
_ACCOUNT_SOURCES = {
    "acc_repost": "is_repost", "acc_reply_other": "is_reply_other", "acc_self_reply": "is_self_reply",
    "acc_link": "n_urls", "acc_link_only": "link_only", "acc_hashtag": "n_hashtags", "acc_mention": "n_mentions",
    "acc_mentions_self": "mentions_self", "acc_first_person": "sig_first_person_singular",
    "acc_first_plural": "sig_first_person_plural", "acc_second_person": "sig_second_person",
    "acc_question": "sig_question", "acc_emoji": "n_emoji", "acc_cta": "sig_call_to_action",
    "acc_sales": "sig_sales", "acc_own_content": "sig_own_content", "acc_gratitude": "sig_gratitude",
    "acc_feeling": "sig_feeling", "acc_length": "n_chars",
}


def account_rates(accounts: pd.Series, post_features: pd.DataFrame) -> pd.DataFrame:
    """Per-account sums and counts of the post features an account summary is made of.

    Only original posts (not re-shares) count for the voice features, since a re-share's text
    was written by someone else.
    """
    values = pd.DataFrame(index=post_features.index)
    originals = 1.0 - post_features["is_repost"]
    for name, source in _ACCOUNT_SOURCES.items():
        column = post_features[source]
        present = column if name == "acc_length" else (column > 0).astype(float)
        values[name] = present if name in ("acc_repost", "acc_mentions_self") else present * originals
    values["_originals"] = originals
    values["_posts"] = 1.0
    values["account"] = accounts.to_numpy()
    return values.groupby("account", sort=False).sum()


def account_features(accounts: pd.Series, post_features: pd.DataFrame, prior: pd.Series, strength: float) -> pd.DataFrame:
    """Each post's account summary, shrunk toward ``prior`` for short timelines.

    A rate is ``(sum + strength * prior) / (count + strength)``: an account with one post gets
    nearly the prior, one with hundreds gets its own rate.
    """
    sums = account_rates(accounts, post_features)
    out = pd.DataFrame(index=sums.index)
    for name in ACCOUNT_FEATURES:
        if name == "acc_n_posts":
            out[name] = np.log1p(sums["_posts"]) / 5.0
            continue
        count = sums["_posts"] if name in ("acc_repost", "acc_mentions_self") else sums["_originals"]
        out[name] = (sums[name] + strength * prior[name]) / (count + strength)
    return out.loc[accounts.to_numpy()].set_index(post_features.index)


def account_prior(accounts: pd.Series, post_features: pd.DataFrame) -> pd.Series:
    """The average account (mean of per-account rates), used to shrink short timelines."""
    raw = account_features(accounts, post_features, pd.Series(0.0, index=ACCOUNT_FEATURES), 0.0)
    per_account = raw.groupby(accounts.to_numpy()).first()
    return per_account.mean().fillna(0.0)
