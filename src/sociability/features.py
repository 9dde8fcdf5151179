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

import itertools
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from .posts import is_link_only, same_account
from .text import Lexicon, SocialNLP, chunk_tokens, is_emoji, is_url

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
        X = X if isinstance(X, pd.DataFrame) else pd.DataFrame(list(X))
        n = len(X)
        texts = _strings(X, "text")
        accounts = _strings(X, "account")
        repost, quote, reply, self_reply = (_bools(X, c) for c in ("is_repost", "is_quote", "is_reply", "is_self_reply"))
        reply_other = reply & ~self_reply
        marker_flags = [(repost, "xrt"), (quote, "xquote"), (reply_other, "xreply"), (self_reply, "xthread")]
        quoted_texts = X["quoted_text"].tolist() if "quoted_text" in X else [None] * n
        chunks = _chunk_cache(nlp, self.signal_names_)
        names = self.signal_names_
        chunks.make_room()
        chunk_ids = chunks.ids_of(texts)
        stats, has_start, has_handle, has_hits = chunks.sums(chunk_ids)
        norm_texts: list[str] = []
        per_post = np.zeros((n, 6))  # quote_self, n_emoji, n_tokens, n_alpha, n_upper, link_only
        per_post[:, 1:5] = stats
        signals = np.zeros((n, len(names)))
        for i in range(n):
            ids = chunk_ids[i]
            body = chunks.text_of(ids, accounts[i] if has_handle[i] else None)
            markers = [m for flags, m in marker_flags if flags[i]]
            norm = " ".join(markers) + (" " + body if body else "") if markers else body
            quoted = quoted_texts[i]
            if self.include_quoted and quote[i] and isinstance(quoted, str) and quoted:
                quoted_norm = chunks.text_of(chunks.ids_of([quoted])[0], accounts[i])
                per_post[i, 0] = "xself" in quoted_norm.split(" ")
                norm += " xquoted " + quoted_norm
            norm_texts.append(norm)
            if has_hits[i] or has_start[i]:
                signals[i] = chunks.signal_counts(ids, has_start[i])
        per_post[:, 5] = [is_link_only(t) for t in texts]
        structural = _structural(X, texts, accounts, repost, quote, reply_other, self_reply, per_post)
        frame = pd.DataFrame(structural, columns=STRUCTURAL, index=X.index)
        frame.insert(0, "norm_text", norm_texts)
        sig_frame = pd.DataFrame(np.log1p(signals), columns=[f"sig_{s}" for s in names], index=X.index)
        return pd.concat([frame, sig_frame], axis=1)


def _strings(X: pd.DataFrame, column: str) -> list[str]:
    if column not in X:
        return [""] * len(X)
    return [v if isinstance(v, str) else ("" if v is None or v != v else str(v)) for v in X[column].tolist()]


def _bools(X: pd.DataFrame, column: str) -> np.ndarray:
    if column not in X:
        return np.zeros(len(X), dtype=bool)
    return X[column].fillna(False).to_numpy(dtype=bool)


def _lengths(X: pd.DataFrame, column: str) -> np.ndarray:
    if column not in X:
        return np.zeros(len(X))
    return np.array([len(v) if isinstance(v, (list, tuple, np.ndarray)) else 0 for v in X[column].tolist()], dtype=float)


class _ChunkCache:
    """What the featurizer needs of each space-separated chunk of text, computed once per chunk.

    spaCy tokenizes each chunk on its own, so a chunk's tokens, normalised tokens, emoji and
    letter counts and word signals are the same wherever it appears; posts repeat most of their
    chunks. Each chunk gets a number, and a post becomes the list of its chunks' numbers (a
    dictionary lookup per word); counts are then summed for a whole batch of posts in numpy.
    Only @handles depend on who is posting, and they are resolved per post.

    Bounded: once it holds ``limit`` chunks, the next batch starts with only the ``limit // 2``
    chunks used most (common words and punctuation), and the rest is forgotten. A stream keeps
    its hot chunks, so a small cache hits about as often as a large one, and memory stays flat.
    """

    def __init__(self, nlp: SocialNLP, signal_names: Sequence[str], limit: int = 50_000) -> None:
        self.nlp = nlp
        self.index = {name: j for j, name in enumerate(signal_names)}
        self.n_signals = len(signal_names)
        self.limit = limit
        self.words = {w: [self.index[s] for s in names] for w, names in nlp.word_signals.items()}
        self.starts = nlp.phrase_starts
        self.phrases = {k: [self.index[s] for s in names] for k, names in nlp.phrase_signals.items()}
        self.longest = nlp.longest_phrase
        self._clear()
        self._add("", (), (" ",), (0, 0, 0, 0), (), False, False)  # "" between two spaces: number 0

    def _clear(self, size: int = 1024) -> None:
        self.tokenizer = self.nlp.fresh_tokenizer()  # its vocabulary grows with the cache: cleared with it
        self.ids: dict[str, int] = {}
        self.norm: list[tuple[str, ...]] = []  # normalised tokens (handles unresolved)
        self.text: list[str] = []  # the same, joined by spaces
        self.lowered: list[tuple[str, ...]] = []  # every token lower-cased, whitespace as " " (for phrases)
        self.hits: list[tuple[int, ...]] = []  # word signals
        self.stats = np.zeros((size, 4), dtype=np.int32)  # emoji, tokens, letters, upper-case letters
        self.flags = np.zeros((size, 3), dtype=bool)  # has a phrase start, a handle, a word signal
        self.uses = np.zeros(size, dtype=np.int64)  # times seen in the texts of batches

    def _add(self, chunk: str, norm: tuple[str, ...], lowered: tuple[str, ...], stats: tuple[int, ...],
             hits: tuple[int, ...], has_start: bool, has_handle: bool) -> int:
        i = len(self.text)
        if i == len(self.stats):
            self.stats = np.concatenate([self.stats, np.zeros_like(self.stats)])
            self.flags = np.concatenate([self.flags, np.zeros_like(self.flags)])
            self.uses = np.concatenate([self.uses, np.zeros_like(self.uses)])
        self.ids[chunk] = i
        self.norm.append(norm)
        self.text.append(" ".join(norm))
        self.lowered.append(lowered)
        self.hits.append(hits)
        self.stats[i] = stats
        self.flags[i] = (has_start, has_handle, bool(hits))
        return i

    def _learn(self, chunk: str) -> int:
        raw = chunk_tokens(self.tokenizer, chunk)
        norm, lowered, hits = [], [], []
        n_emoji = has_start = has_handle = 0
        for text in raw:
            low = text.lower()
            low = text if low == text else low  # most chunks are lower-case already: keep one string
            lowered.append(low)
            hits.extend(self.words.get(low, ()))
            has_start = has_start or low in self.starts
            if text == " ":
                continue
            if text.startswith("@") and len(text) > 1:
                norm.append(text)  # resolved per post: xself or xuser
                has_handle = True
            elif is_url(low):
                norm.append("xurl")
            elif text[:1].isdigit():
                norm.append("xnum" if not text.isalpha() else low)
            else:
                norm.append(low)
            n_emoji += is_emoji(text)
        letters = [c for c in chunk if c.isalpha()]
        stats = (n_emoji, len(norm), len(letters), sum(map(str.isupper, letters)))
        kept, spaced = tuple(norm), tuple(lowered)
        spaced = kept if spaced == kept else spaced  # the same tuple for a plain word: half the memory
        return self._add(chunk, kept, spaced, stats, tuple(hits), bool(has_start), bool(has_handle))

    def make_room(self) -> None:
        """Forget all but the most used chunks of a full cache; called before a batch, as the
        numbers of a batch's chunks must hold to its end."""
        n = len(self.text)
        if n < self.limit:
            return
        uses = self.uses[:n].copy()
        uses[0] = uses.max() + 1  # "" keeps number 0
        keep = np.sort(np.argsort(-uses, kind="stable")[:max(1, self.limit // 2)])
        chunk_of = {i: chunk for chunk, i in self.ids.items()}
        norm, text, lowered, hits, stats, flags = self.norm, self.text, self.lowered, self.hits, self.stats, self.flags
        self._clear(size=self.limit)
        for new, i in enumerate(keep.tolist()):
            self.ids[chunk_of[i]] = new
            self.norm.append(norm[i])
            self.text.append(text[i])
            self.lowered.append(lowered[i])
            self.hits.append(hits[i])
        self.stats[:len(keep)], self.flags[:len(keep)] = stats[keep], flags[keep]
        self.uses[:len(keep)] = uses[keep] // 2  # older uses count for less

    def ids_of(self, texts: Sequence[str]) -> list[list[int]]:
        """Each text as the numbers of its chunks (learning the chunks not seen yet)."""
        get = self.ids.get
        out = []
        for text in texts:
            ids = [get(chunk, -1) for chunk in text.split(" ")]
            if -1 in ids:
                ids = [i if i >= 0 else self._id(chunk) for i, chunk in zip(ids, text.split(" "))]
            out.append(ids)
        return out

    def _id(self, chunk: str) -> int:
        i = self.ids.get(chunk)  # a new chunk may come twice in one text
        return self._learn(chunk) if i is None else i

    def sums(self, chunk_ids: list[list[int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per text: summed stats, and whether any chunk has a phrase start, a handle, a word signal."""
        if not chunk_ids:
            return np.zeros((0, 4), dtype=np.int64), *(np.zeros(0, dtype=bool),) * 3
        lengths = np.fromiter(map(len, chunk_ids), dtype=np.int64, count=len(chunk_ids))
        flat = np.fromiter(itertools.chain.from_iterable(chunk_ids), dtype=np.int64, count=int(lengths.sum()))
        offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])  # every text has at least one chunk
        self.uses[:len(self.text)] += np.bincount(flat, minlength=len(self.text))
        stats = np.add.reduceat(self.stats[flat], offsets, axis=0)
        flags = np.logical_or.reduceat(self.flags[flat], offsets, axis=0)
        return stats, flags[:, 0], flags[:, 1], flags[:, 2]

    def text_of(self, ids: list[int], account: str | None = None) -> str:
        """The normalised text of a post; with ``account``, each @handle resolved for it (xself or
        xuser), else the chunks' texts joined as they are (a post without handles)."""
        if account is None:
            text = self.text
            return " ".join([t for t in (text[i] for i in ids) if t])
        out: list[str] = []
        handles = self.flags[:, 1]
        for i in ids:
            if handles[i]:
                out.extend(_resolve_handle(t, account) if t.startswith("@") else t for t in self.norm[i])
            else:
                out.extend(self.norm[i])
        return " ".join(out)

    def signal_counts(self, ids: list[int], has_start: bool) -> list[float]:
        """Word-signal counts, plus phrase-signal matches when a phrase can start."""
        counts = [0.0] * self.n_signals
        for i in ids:
            for j in self.hits[i]:
                counts[j] += 1
        if has_start:
            self.count_phrases([t for i in ids for t in self.lowered[i]], counts)
        return counts

    def count_phrases(self, lowered: list[str], counts: list[float]) -> None:
        """Add phrase-signal matches (PhraseMatcher semantics: every match, overlapping too)."""
        phrases, starts, longest = self.phrases, self.starts, self.longest
        for i, token in enumerate(lowered):
            if token not in starts:
                continue
            for n in range(1, min(longest, len(lowered) - i) + 1):
                for j in phrases.get(tuple(lowered[i:i + n]), ()):
                    counts[j] += 1


_CHUNK_CACHES: dict[tuple[int, tuple[str, ...]], _ChunkCache] = {}


def _chunk_cache(nlp: SocialNLP, signal_names: Sequence[str]) -> _ChunkCache:
    key = (id(nlp), tuple(signal_names))
    if key not in _CHUNK_CACHES:
        _CHUNK_CACHES[key] = _ChunkCache(nlp, signal_names)
    return _CHUNK_CACHES[key]


def _resolve_handle(token: str, account: str) -> str:
    return "xself" if _names_account(token[1:].lower().rstrip("."), account) else "xuser"


def _names_account(handle: str, account: str) -> bool:
    """A handle naming the account; a Mastodon account's user name counts on any server."""
    if same_account(handle, account):
        return True
    local = handle.split("@")[0]
    return "@" in account and bool(local) and local == account.split("@")[0]


def _structural(X: pd.DataFrame, texts: list[str], accounts: list[str], repost: np.ndarray, quote: np.ndarray,
                reply_other: np.ndarray, self_reply: np.ndarray, per_post: np.ndarray) -> np.ndarray:
    """The STRUCTURAL columns, as one array (columns in STRUCTURAL order)."""
    quote_self, n_emoji, n_tokens, n_alpha, n_upper, link_only = per_post.T
    reposted_from = X["reposted_from"].tolist() if "reposted_from" in X else [None] * len(X)
    repost_of_self = np.array([bool(r) and same_account(f, a) for r, f, a in zip(repost, reposted_from, accounts)], dtype=float)
    stripped = [t.strip() for t in texts]
    with np.errstate(invalid="ignore", divide="ignore"):
        caps = np.where(n_alpha >= 8, n_upper / np.maximum(n_alpha, 1), 0.0)
    return np.column_stack([
        repost, quote, reply_other, self_reply, _bools(X, "mentions_self"), repost_of_self, quote_self,
        [t.startswith("@") for t in stripped],
        link_only,
        [t.endswith("…") for t in stripped],
        [not t for t in stripped],
        np.log1p(_lengths(X, "mentions")),
        np.log1p(_lengths(X, "urls")),
        np.log1p(_lengths(X, "hashtags")),
        np.log1p(n_emoji),
        np.log1p([len(t) for t in texts]) / 6.0,
        np.log1p(n_tokens) / 4.0,
        ["!" in t for t in texts],
        caps,
    ]).astype(np.float64)


_P = np.uint64(1099511628211)
_P_INVERSE = np.uint64(pow(1099511628211, -1, 2**64))
_MIX = np.uint64(0x9E3779B97F4A7C15)


def _mix(h: np.ndarray) -> np.ndarray:
    """Spread a hash's low bits into its top bits, which pick the bucket."""
    return (h ^ (h >> np.uint64(29))) * _MIX


class HashedNgrams(TransformerMixin, BaseEstimator):
    """Word or character n-grams, hashed, TF-IDF weighted and L2-normalised, all in numpy.

    The text of a whole batch is one array of code points, and every n-gram of every text is
    hashed in a handful of array operations: no Python loop per n-gram or per token, which is
    where scikit-learn's own vectorizers spend their time. Windows never cross from one text into
    the next. Term frequency is the raw count (a repeated n-gram is a repeated entry), and entries
    come out already grouped by row, so the sparse matrix is built without sorting.

    Parameters
    ----------
    analyzer : ``"word"`` (space-separated tokens of the normalised text) or ``"char"`` (code
        points of the text padded with one space each side).
    ngram_range : smallest and largest n.
    n_features : hash buckets.
    min_df : keep only buckets seen in at least this many training texts; the others can carry no
        learned weight, and dropping them makes the linear model several times faster to fit.
    batch_size : texts hashed at once (bounds the memory of a transform).
    """

    def __init__(self, analyzer: str = "char", ngram_range: tuple[int, int] = (2, 5), n_features: int = 2**18,
                 min_df: int = 2, batch_size: int = 1024) -> None:
        self.analyzer = analyzer
        self.ngram_range = ngram_range
        self.n_features = n_features
        self.min_df = min_df
        self.batch_size = batch_size

    def fit(self, X: Sequence[str] | pd.Series, y: Sequence | None = None) -> HashedNgrams:
        if self.analyzer not in ("word", "char"):
            raise ValueError(f"analyzer must be 'word' or 'char', got {self.analyzer!r}")
        texts = _as_texts(X)
        rows, buckets = self._hash(texts)
        pairs = np.unique(rows.astype(np.int64) * int(self.n_features) + buckets)
        document_frequency = np.bincount(pairs % int(self.n_features), minlength=int(self.n_features))
        self.columns_ = np.flatnonzero(document_frequency >= self.min_df)
        self.n_features_out_ = len(self.columns_)
        self.idf_ = np.log((1 + len(texts)) / (1 + document_frequency[self.columns_])) + 1.0
        self.lookup_ = np.full(int(self.n_features), -1, dtype=np.int32)
        self.lookup_[self.columns_] = np.arange(len(self.columns_), dtype=np.int32)
        self.names_ = self._names(texts) if self.analyzer == "word" else None
        return self

    def get_feature_names_out(self, input_features: Sequence[str] | None = None) -> np.ndarray:
        check_is_fitted(self, "columns_")
        if self.names_ is not None:
            return np.asarray(self.names_, dtype=object)
        return np.array([f"{self.analyzer}_hash_{i}" for i in self.columns_], dtype=object)

    def transform(self, X: Sequence[str] | pd.Series) -> sp.csr_matrix:
        check_is_fitted(self, "columns_")
        texts = _as_texts(X)
        rows, columns, values = self.entries(texts)
        indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=len(texts)))])
        return sp.csr_matrix((values, columns, indptr), shape=(len(texts), self.n_features_out_))

    def entries(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Row, column and TF-IDF value of every kept n-gram occurrence, grouped by row."""
        check_is_fitted(self, "columns_")
        size = max(int(self.batch_size), 1)
        parts = []
        for offset in range(0, len(texts), size):
            batch = texts[offset:offset + size]
            rows, buckets = self._hash(batch)
            columns = self.lookup_[buckets]
            keep = columns >= 0
            rows, columns = rows[keep], columns[keep]
            values = self.idf_[columns]
            norms = np.sqrt(np.bincount(rows, weights=values * values, minlength=len(batch)))
            values /= np.where(norms > 0, norms, 1.0)[rows]
            parts.append((rows + offset, columns, values))
        if not parts:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int32), np.zeros(0)
        return tuple(np.concatenate(arrays) for arrays in zip(*parts))  # type: ignore[return-value]

    def _bits(self) -> int:
        bits = int(self.n_features).bit_length() - 1
        if 1 << bits != int(self.n_features):
            raise ValueError(f"n_features must be a power of two, got {self.n_features}")
        return bits

    def _hash(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Row and bucket of every n-gram occurrence, in row order."""
        if not texts:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        if self.analyzer == "char":
            joined = "\x00".join(f" {t} " for t in texts)
        else:
            joined = "\x00".join(texts)
        codes = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
        doc_of = np.cumsum(codes == 0)
        hashes, valid, rows = (self._char_grams if self.analyzer == "char" else self._word_grams)(codes, doc_of)
        keep = valid.ravel()
        buckets = (_mix(hashes.ravel()[keep]) >> np.uint64(64 - self._bits())).astype(np.int64)
        return rows.ravel()[keep], buckets

    def _char_grams(self, codes: np.ndarray, doc_of: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """FNV-style hashes of every window, extended one character at a time (n -> n+1)."""
        low, high = self.ngram_range
        length = len(codes)
        width = high - low + 1
        hashes = np.zeros((length, width), dtype=np.uint64)
        valid = np.zeros((length, width), dtype=bool)
        is_sep = codes == 0
        sep_cum = np.concatenate([[0], np.cumsum(is_sep)])
        h = np.full(length, np.uint64(14695981039346656037))
        for n in range(1, high + 1):
            count = length - n + 1
            if count <= 0:
                break
            h = (h[:count] ^ codes[n - 1:n - 1 + count]) * _P
            if n >= low:
                hashes[:count, n - low] = h ^ np.uint64(n)
                valid[:count, n - low] = (sep_cum[n:n + count] - sep_cum[:count]) == 0
        rows = np.repeat(doc_of[:, None], width, axis=1)
        return hashes, valid, rows

    def _word_grams(self, codes: np.ndarray, doc_of: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Polynomial hashes of space-separated tokens (from prefix sums), then of token runs."""
        low, high = self.ngram_range
        is_sep = (codes == 0) | (codes == 32)
        previous_sep = np.concatenate([[True], is_sep[:-1]])
        next_sep = np.concatenate([is_sep[1:], [True]])
        starts = np.flatnonzero(~is_sep & previous_sep)
        ends = np.flatnonzero(~is_sep & next_sep) + 1
        powers = np.cumprod(np.full(len(codes), _P))
        inverse = np.cumprod(np.full(len(codes), _P_INVERSE))
        prefix = np.concatenate([[np.uint64(0)], np.cumsum(codes * powers)])
        # token hash: sum of c_j * P^(j+1) over the token, shifted back to its start
        unigrams = _mix((prefix[ends] - prefix[starts]) * inverse[starts])
        token_doc = doc_of[starts]
        count = len(starts)
        width = high - low + 1
        hashes = np.zeros((count, width), dtype=np.uint64)
        valid = np.zeros((count, width), dtype=bool)
        h = np.zeros(count, dtype=np.uint64)
        for n in range(1, high + 1):
            span = count - n + 1
            if span <= 0:
                break
            h = h[:span] * _MIX + unigrams[n - 1:n - 1 + span]
            if n >= low:
                hashes[:span, n - low] = h ^ np.uint64(n)
                valid[:span, n - low] = token_doc[n - 1:n - 1 + span] == token_doc[:span]
        rows = np.repeat(token_doc[:, None], width, axis=1)
        return hashes, valid, rows

    def _names(self, texts: list[str]) -> list[str]:
        """A readable name per kept word bucket: its most frequent training n-gram."""
        low, high = self.ngram_range
        counts: dict[str, int] = {}
        for text in texts:
            tokens = text.split()
            for n in range(low, high + 1):
                for i in range(len(tokens) - n + 1):
                    gram = " ".join(tokens[i:i + n])
                    counts[gram] = counts.get(gram, 0) + 1
        names = [f"word_hash_{i}" for i in self.columns_]
        best: dict[int, int] = {}
        for n in range(low, high + 1):
            grams = [g for g in counts if g.count(" ") == n - 1]
            if not grams:
                continue
            codes = np.frombuffer("\x00".join(grams).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
            hashes, _, rows = self._word_grams(codes, np.cumsum(codes == 0))
            first = np.searchsorted(rows[:, 0], np.arange(len(grams)))  # each gram's first token
            buckets = (_mix(hashes[first, n - low]) >> np.uint64(64 - self._bits())).astype(np.int64)
            for gram, column in zip(grams, self.lookup_[buckets].tolist()):
                if column >= 0 and counts[gram] > best.get(column, 0):
                    best[column] = counts[gram]
                    names[column] = gram
        return names


class TextFeatures(TransformerMixin, BaseEstimator):
    """The text stage's input as one sparse matrix: word and character n-grams, scaled numbers.

    What a ColumnTransformer of two vectorizers and a scaler gives, without its conversions:
    each block is built in CSR form directly and the blocks are stacked side by side, where the
    ColumnTransformer went through COO and sorted every row's indices (more than the hashing cost).

    Parameters
    ----------
    word_ngrams, word_features, word_min_df : word n-grams of ``norm_text`` (see :class:`HashedNgrams`).
    char_ngrams, char_features, use_chars : character n-grams of ``norm_text``.
    numeric : numeric columns (structure and rule signals), standardised.
    """

    def __init__(self, word_ngrams: tuple[int, int] = (1, 2), word_features: int = 2**20, word_min_df: int = 2,
                 char_ngrams: tuple[int, int] = (2, 5), char_features: int = 2**18, use_chars: bool = True,
                 numeric: Sequence[str] = ()) -> None:
        self.word_ngrams = word_ngrams
        self.word_features = word_features
        self.word_min_df = word_min_df
        self.char_ngrams = char_ngrams
        self.char_features = char_features
        self.use_chars = use_chars
        self.numeric = numeric

    def fit(self, F: pd.DataFrame, y: Sequence | None = None) -> TextFeatures:
        texts = _as_texts(F["norm_text"])
        self.words_ = HashedNgrams("word", tuple(self.word_ngrams), self.word_features, self.word_min_df).fit(texts)
        self.chars_ = HashedNgrams("char", tuple(self.char_ngrams), self.char_features).fit(texts) if self.use_chars else None
        self.scaler_ = StandardScaler().fit(F[list(self.numeric)].to_numpy(dtype=np.float64)) if self.numeric else None
        self.n_features_out_ = len(self.get_feature_names_out())
        return self

    def get_feature_names_out(self, input_features: Sequence[str] | None = None) -> np.ndarray:
        check_is_fitted(self, "words_")
        names = [f"words__{n}" for n in self.words_.get_feature_names_out()]
        if self.chars_ is not None:
            names += [f"chars__{n}" for n in self.chars_.get_feature_names_out()]
        names += [f"structure__{n}" for n in self.numeric]
        return np.asarray(names, dtype=object)

    def transform(self, F: pd.DataFrame) -> sp.csr_matrix:
        check_is_fitted(self, "words_")
        texts = _as_texts(F["norm_text"])
        blocks = [self.words_.transform(texts)]
        if self.chars_ is not None:
            blocks.append(self.chars_.transform(texts))
        if self.scaler_ is not None:
            blocks.append(sp.csr_matrix(self.scaler_.transform(F[list(self.numeric)].to_numpy(dtype=np.float64))))
        return sp.hstack(blocks, format="csr")


def _as_texts(X: Sequence[str] | pd.Series | pd.DataFrame) -> list[str]:
    if isinstance(X, pd.DataFrame):
        X = X.iloc[:, 0]
    return [t if isinstance(t, str) else "" for t in (X.tolist() if hasattr(X, "tolist") else list(X))]


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
    out = account_summary(account_rates(accounts, post_features), prior, strength)
    return out.loc[accounts.to_numpy()].set_index(post_features.index)


def account_summary(sums: pd.DataFrame, prior: pd.Series, strength: float) -> pd.DataFrame:
    """One summary row per account from its :func:`account_rates` sums (which merge by adding)."""
    out = pd.DataFrame(index=sums.index)
    for name in ACCOUNT_FEATURES:
        if name == "acc_n_posts":
            out[name] = np.log1p(sums["_posts"]) / 5.0
            continue
        count = sums["_posts"] if name in ("acc_repost", "acc_mentions_self") else sums["_originals"]
        out[name] = (sums[name] + strength * prior[name]) / (count + strength)
    return out


def account_prior(accounts: pd.Series, post_features: pd.DataFrame) -> pd.Series:
    """The average account (mean of per-account rates), used to shrink short timelines."""
    raw = account_features(accounts, post_features, pd.Series(0.0, index=ACCOUNT_FEATURES), 0.0)
    per_account = raw.groupby(accounts.to_numpy()).first()
    return per_account.mean().fillna(0.0)
