"""The language layer: a spaCy pipeline with social-media tokenizer rules and rule signals.

spaCy does the language work: a ``spacy.blank("en")`` pipeline by default (a full pipeline such
as ``en_core_web_sm`` only when installed and named in the config), a tokenizer that keeps
@mentions, #hashtags, URLs, cashtags and emoji whole, and PhraseMatcher / Matcher rules, read from
``configs/lexicon.toml``, for calls to action, sales language, gratitude, congratulation, first-
and second-person address, questions, life events and feelings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import spacy
from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokenizer import Tokenizer
from spacy.tokens import Doc

from .config import load_toml
from .errors import SociabilityError
from .posts import URL_PATTERN

# Emoji and pictographs (incl. flags, skin tones, joiners) kept together as one token.
EMOJI = "[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\uFE0F\u200D\U0001F3FB-\U0001F3FF]"
_TOKEN_MATCH = re.compile(
    r"^(?:https?://\S+|www\.\S+"                                  # URLs
    r"|@[\w.\-]*\w(?:@[\w\-]+(?:\.[\w\-]+)+)?"                     # @mentions, @user@host
    r"|[#＃][\w\-]*\w|\$[A-Za-z]{1,6}"                             # #hashtags, $CASHTAGS
    rf"|{EMOJI}+|[:;=][\-']?[()DPpO/\\|*]+|<3)$"                    # emoji, emoticons
)
_PREFIX = re.compile(r"""^(?:[(\[{"'“‘«¿¡*~_>]|\.{2,}|…|RT:)""")
_SUFFIX = re.compile(rf"""(?:[)\]}}"'”’»*~_,.!?:;…]|{EMOJI}|'s|’s|n't|n’t|'re|'ll|'ve|'m|'d)$""", re.IGNORECASE)
_INFIX = re.compile(rf"""(?<=[A-Za-z])[.!?,;:/+&](?=[A-Za-z])|--+|—|–|(?<=\w)\.{{2,}}(?=\w)|(?<=\w)(?={EMOJI})|(?<={EMOJI})(?=\w)""")


def social_tokenizer(nlp: Language) -> Tokenizer:
    """A tokenizer for posts: URLs, handles, hashtags, cashtags and emoji stay whole."""
    return Tokenizer(
        nlp.vocab,
        rules={},
        prefix_search=_PREFIX.search,
        suffix_search=_SUFFIX.search,
        infix_finditer=_INFIX.finditer,
        token_match=_TOKEN_MATCH.match,
        url_match=None,
    )


def is_url(token: str) -> bool:
    return bool(URL_PATTERN.match(token))


_EMOJI_RUN = re.compile(f"{EMOJI}+")


def is_emoji(token: str) -> bool:
    return not token.isascii() and _EMOJI_RUN.fullmatch(token) is not None


@dataclass(frozen=True)
class Lexicon:
    """Named phrase lists (PhraseMatcher) and word lists (Matcher on LOWER)."""

    phrases: dict[str, tuple[str, ...]]
    words: dict[str, tuple[str, ...]]

    @classmethod
    def from_config(cls, path: str | Path = "lexicon.toml") -> Lexicon:
        config = load_toml(path).get("signals", {})
        phrases, words = {}, {}
        for name, spec in config.items():
            if not isinstance(spec, dict) or not ({"phrases", "words"} & set(spec)):
                raise SociabilityError(f"{path}: signal {name!r} needs a 'phrases' or 'words' list")
            if "phrases" in spec:
                phrases[name] = tuple(str(p).lower() for p in spec["phrases"])
            if "words" in spec:
                words[name] = tuple(str(w).lower() for w in spec["words"])
        return cls(phrases, words)

    @property
    def names(self) -> list[str]:
        return sorted(set(self.phrases) | set(self.words))


class SocialNLP:
    """spaCy pipeline + matchers; turns texts into Docs and Docs into signal counts."""

    def __init__(self, lexicon: Lexicon, model: str = "blank:en") -> None:
        self.lexicon = lexicon
        self.model = model
        self.nlp = load_pipeline(model)
        self.phrase_matcher = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        for name, phrases in lexicon.phrases.items():
            self.phrase_matcher.add(name, list(self.nlp.tokenizer.pipe(phrases)))
        self.matcher = Matcher(self.nlp.vocab)
        for name, words in lexicon.words.items():
            self.matcher.add(name, [[{"LOWER": {"IN": list(words)}}]])
        self.signal_names = lexicon.names
        # The same rules as token tuples, for the featurizer's fast path (features._ChunkCache),
        # which matches them on remembered tokens instead of building a Doc per post.
        self.phrase_signals: dict[tuple[str, ...], list[str]] = {}
        for name, phrases in lexicon.phrases.items():
            for doc in self.nlp.tokenizer.pipe(phrases):
                key = tuple(t.lower_ for t in doc)
                if name not in self.phrase_signals.setdefault(key, []):
                    self.phrase_signals[key].append(name)
        self.longest_phrase = max((len(k) for k in self.phrase_signals), default=1)
        self.phrase_starts = {key[0] for key in self.phrase_signals}
        self.word_signals: dict[str, list[str]] = {}
        for name, words in lexicon.words.items():
            for word in words:
                if name not in self.word_signals.setdefault(word, []):
                    self.word_signals[word].append(name)

    def fresh_tokenizer(self) -> Tokenizer:
        """A tokenizer on its own vocabulary, for a chunk cache.

        spaCy's vocabulary keeps every string it has tokenized; on a stream of millions of posts
        (new links, handles, numbers) it would grow without end, so a cache's tokenizer is
        replaced, with its vocabulary, whenever the cache lets pieces go.
        """
        return social_tokenizer(spacy.blank(self.nlp.lang))

    def pipe(self, texts: Iterable[str], batch_size: int = 1000) -> Iterator[Doc]:
        """Docs for texts: the tokenizer alone for a blank pipeline, the full pipeline otherwise."""
        if self.model.startswith("blank:"):
            return self.nlp.tokenizer.pipe(texts, batch_size=batch_size)
        return self.nlp.pipe(texts, batch_size=batch_size)

    def signals(self, doc: Doc) -> dict[str, int]:
        """How often each signal fires in a doc."""
        counts = dict.fromkeys(self.signal_names, 0)
        strings = self.nlp.vocab.strings
        for match_id, _, _ in self.phrase_matcher(doc):
            counts[strings[match_id]] += 1
        for match_id, _, _ in self.matcher(doc):
            counts[strings[match_id]] += 1
        return counts


def chunk_tokens(tokenizer: Tokenizer, chunk: str) -> tuple[str, ...]:
    """The tokens of one space-free chunk, whitespace tokens as ``" "``."""
    if chunk.isalnum() or _TOKEN_MATCH.fullmatch(chunk):
        return (chunk,)  # what the tokenizer does with a plain word, link or handle
    return tuple(" " if t.is_space else t.text for t in tokenizer(chunk))


@lru_cache(maxsize=4)
def load_pipeline(model: str = "blank:en") -> Language:
    """``blank:en`` (no download needed) or an installed spaCy package such as ``en_core_web_sm``."""
    if model.startswith("blank:"):
        nlp = spacy.blank(model.split(":", 1)[1])
    else:
        try:
            nlp = spacy.load(model, disable=["parser", "ner", "lemmatizer"])
        except OSError:
            raise SociabilityError(
                f"spaCy pipeline {model!r} is not installed (python -m spacy download {model}), "
                "or use the default 'blank:en'"
            ) from None
    nlp.tokenizer = social_tokenizer(nlp)
    return nlp
