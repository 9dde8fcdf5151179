"""The spaCy language layer: social tokenizer rules and each rule signal on real-shaped posts."""

from __future__ import annotations

import pytest

from sociability.text import Lexicon, SocialNLP


@pytest.fixture(scope="module")
def nlp() -> SocialNLP:
    return SocialNLP(Lexicon.from_config())


def tokens(nlp: SocialNLP, text: str) -> list[str]:
    return [t.text for t in next(nlp.pipe([text])) if not t.is_space]


def test_tokenizer_keeps_social_tokens_whole(nlp):
    words = tokens(nlp, "RT @Dana_Codes: slides up at https://t.co/Ab3xYz9QwE #PyConf2019!! 🎉🎉 $AAPL :) cc @wren@fosstodon.org")
    for whole in ("@Dana_Codes", "https://t.co/Ab3xYz9QwE", "#PyConf2019", "🎉🎉", "$AAPL", ":)", "@wren@fosstodon.org"):
        assert whole in words
    assert words.count("!") == 2


@pytest.mark.parametrize(
    "signal, text",
    [
        ("call_to_action", "Early bird tickets for #SDSW close Friday, register now at https://t.co/x1y2z3"),
        ("call_to_action", "New summer menu is here, link in bio"),
        ("sales", "Flash sale: 20% off all prints this weekend only"),
        ("own_content", "New blog post: my notes from the pandas sprint https://example.com/p"),
        ("own_content", "We're excited to announce our new partnership with @citybikes"),
        ("gratitude", "@jo_eats thank you so much for coming in last night!"),
        ("gratitude", "#FF @maplecafe @spokeandchain @alderlibrary"),
        ("congratulation", "Congrats @archie on the new role, well deserved"),
        ("life_event", "Took my daughter to her first swim lesson this morning"),
        ("feeling", "ugh, I hate when the train just sits outside the station"),
        ("first_person_singular", "I finally fixed my bike"),
        ("first_person_plural", "We are open late on Thursdays"),
        ("second_person", "did you ever get the wheel build working on ARM"),
        ("question", "What's everyone reading this weekend?"),
    ],
)
def test_each_signal_fires(nlp, signal, text):
    counts = nlp.signals(next(nlp.pipe([text])))
    assert counts[signal] >= 1, counts


def test_signals_stay_quiet_on_plain_text(nlp):
    counts = nlp.signals(next(nlp.pipe(["Burned the pancakes again. Third Sunday in a row."])))
    assert counts["call_to_action"] == counts["sales"] == counts["gratitude"] == counts["congratulation"] == 0


def assert_fast_path_matches_spacy(nlp: SocialNLP, texts: list[str]) -> None:
    """The featurizer's path (chunks tokenized once and remembered, phrases matched on token
    tuples, phrase matching skipped when no phrase can start) against spaCy's Doc and matchers."""
    from sociability.features import _ChunkCache

    cache = _ChunkCache(nlp, nlp.signal_names)
    chunk_ids = cache.ids_of(texts)
    _, has_start, _, _ = cache.sums(chunk_ids)
    for text, doc, ids, start in zip(texts, nlp.pipe(texts), chunk_ids, has_start):
        assert [t for i in ids for t in cache.lowered[i] if t != " "] == [t.lower_ for t in doc if not t.is_space], text
        expected = nlp.signals(doc)
        assert cache.signal_counts(ids, bool(start)) == [float(expected[name]) for name in nlp.signal_names], text
    assert cache.ids_of(texts) == chunk_ids  # remembered chunks keep their numbers


def test_fast_path_matches_the_spacy_tokenizer_and_matchers(nlp):
    assert_fast_path_matches_spacy(nlp, [
        "RT @Dana_Codes: slides up at https://t.co/Ab3xYz9QwE #PyConf2019!! 🎉🎉 $AAPL :)",
        "Early bird tickets close Friday,register now!!! (link in bio)",
        "sign\nup now  please\n\nthanks @wren@fosstodon.org https://t.co/x\n",
        "I'm so tired lol... we're hiring—apply today: bit.ly/2kXy7Qp",
        " leading and trailing ",
        "Congrats @archie!!!Well deserved 👏🏽👏🏽",
        "Sign up now! Thank you so much, we're so proud of you. Link in bio",
    ])


def test_fast_path_matches_spacy_on_real_posts(nlp, shared_real):
    from sociability import read_feed

    assert_fast_path_matches_spacy(nlp, list(read_feed(shared_real / "dev.jsonl").posts["text"]))
