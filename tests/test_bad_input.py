"""Bad input: one clear error for a bad file, nothing lost for a bad record, no crash ever."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from sociability import COLUMNS, FeedError, read_feed
from sociability.cli import app
from sociability.feeds import FORMATS

runner = CliRunner()

FIXTURE_FILES = [
    "twitter_archive/data/tweets.js",
    "twitter_v1.json",
    "twarc2.jsonl",
    "twarc2_flat.jsonl",
    "twarc.csv",
    "mastodon_export/outbox.json",
    "bluesky_feed.json",
    "table.csv",
]
SUFFIXES = [".js", ".json", ".jsonl", ".csv", ".parquet", ".zip", ".tar.gz", ""]


def check_valid_or_feed_error(path: Path, format: str = "auto") -> None:
    try:
        result = read_feed(path, format=format, account="someone")
    except FeedError as exc:
        assert str(exc).startswith(str(path).split(":")[0]) and "\n" not in str(exc)
        return
    assert list(result.posts.columns[: len(COLUMNS)]) == COLUMNS
    assert result.n_read == result.n_accepted + result.n_rejected
    assert all(isinstance(text, str) for text in result.posts["text"])
    assert result.posts["created_at"].notna().all()


@pytest.mark.parametrize(
    "name, content, problem",
    [
        ("empty.json", "", "file is empty"),
        ("blank.jsonl", "\n\n  \n", "file is empty"),
        ("notes.txt", "just some words, not a feed", "no text column"),
        ("poem.md", "roses are red\nviolets are blue", "unknown feed format"),
        ("cut.json", '{"orderedItems": [{"type": "Create", "object": {"content": "hi"', "truncated JSON"),
        ("broken.zip", "PK\x03\x04 not really a zip", "not a readable zip file"),
        ("tweets.js", "var x = 3", "not a Twitter archive part"),
    ],
)
def test_bad_files_are_one_line_errors(tmp_path, name, content, problem):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(FeedError, match=problem) as info:
        read_feed(path)
    assert "\n" not in str(info.value) and str(path) in str(info.value)


def test_truncated_json_names_the_line(fixtures, tmp_path):
    text = (fixtures / "bluesky_feed.json").read_text()
    cut = tmp_path / "feed.json"
    cut.write_text(text[: len(text) // 2])
    with pytest.raises(FeedError, match=r"feed.json:\d+: truncated JSON") as info:
        read_feed(cut)
    assert info.value.line and info.value.line > 10


def test_cli_bad_file_exits_2_without_traceback(tmp_path):
    path = tmp_path / "empty.json"
    path.write_text("")
    result = runner.invoke(app, ["read", str(path)])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [f"error: {path}: file is empty"]
    assert "Traceback" not in result.output


def test_cli_wrong_column_exits_2(fixtures):
    result = runner.invoke(app, ["read", str(fixtures / "table.csv"), "--text-col", "tweet"])
    assert result.exit_code == 2
    assert "column 'tweet' (--text-col) not found" in result.output


def test_one_bad_line_does_not_sink_the_feed(fixtures, tmp_path):
    lines = (fixtures / "twarc2_flat.jsonl").read_text().splitlines()
    feed = tmp_path / "mixed.jsonl"
    feed.write_text("\n".join([lines[0], "{not json", lines[1], '{"id": "9", "author": {"username": "x"}, "text": "", "author_id": "1", "created_at": "2023-01-01T00:00:00Z"}']) + "\n")
    result = read_feed(feed)
    assert result.n_accepted == 2 and result.n_rejected == 2 and result.n_read == 4
    assert [(r.line, r.reason.split(":")[0]) for r in result.rejects] == [(2, "malformed JSON line"), (4, "post has no text")]


def test_cli_writes_rejects_and_balanced_summary(fixtures, tmp_path):
    out, rejects = tmp_path / "posts.parquet", tmp_path / "rejects.jsonl"
    args = ["read", str(fixtures / "table.csv"), str(fixtures / "twitter_v1.json"), "--text-col", "body",
            "--account-col", "user", "--date-col", "date", "--out", str(out), "--rejects", str(rejects)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "14 records read from 2 file(s): 9 posts accepted, 5 rejected" in result.output
    lines = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert len(lines) == 5 and set(lines[0]) == {"source", "line", "record", "reason"}
    assert {line["line"] for line in lines if line["source"].endswith("table.csv")} == {5, 6, 9}
    assert out.is_file()


def test_help_describes_every_command():
    for command in ("read", "formats"):
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0 and "Example" in result.output or command == "formats"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=400), suffix=st.sampled_from(SUFFIXES), format=st.sampled_from(["auto", *FORMATS]))
def test_random_bytes_never_crash(tmp_path, data, suffix, format):
    path = tmp_path / f"feed{suffix}"
    path.write_bytes(data)
    check_valid_or_feed_error(path, format)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["text", "full_text", "id", "id_str", "created_at", "user", "data", "includes", "feed", "post",
                         "record", "orderedItems", "type", "object", "content", "retweeted_status", "reason", "author",
                         "facets", "index", "tag", "account", "referenced_tweets", "statuses", "inReplyTo"]),
        children, max_size=5),
    max_leaves=25,
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=json_values, suffix=st.sampled_from([".json", ".jsonl"]), format=st.sampled_from(["auto", *FORMATS]))
@example(value={"full_text": None, "referenced_tweets": True, "text": ""}, suffix=".json", format="auto")  # found 2026-11-22
@example(value={"data": [{"id": "1", "text": "hi", "author_id": "9", "created_at": "2024-01-01T00:00:00Z",
                          "entities": {"urls": 5}}], "includes": {"users": True, "tweets": 3}}, suffix=".json", format="auto")
def test_random_json_never_crashes(tmp_path, value, suffix, format):
    path = tmp_path / f"feed{suffix}"
    path.write_text(json.dumps(value))
    check_valid_or_feed_error(path, format)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(FIXTURE_FILES), fraction=st.floats(0.0, 1.0))
def test_truncated_fixtures_never_crash(fixtures, tmp_path, name, fraction):
    source = fixtures / name
    data = source.read_bytes()
    path = tmp_path / source.name
    path.write_bytes(data[: int(len(data) * fraction)])
    check_valid_or_feed_error(path)


def test_truncated_gzipped_csv_is_one_clear_error(tmp_path):
    import gzip
    import hashlib

    rows = ["id,account,created_at,text"] + [
        f"{i},amy,2020-01-01,{hashlib.sha256(str(i).encode()).hexdigest()} note {i}" for i in range(4000)
    ]
    data = gzip.compress("\n".join(rows).encode())
    path = tmp_path / "export.csv.gz"
    path.write_bytes(data[: int(len(data) * 0.9)])  # cut off after the first blocks decompress
    with pytest.raises(FeedError, match=r"export.csv.gz:\d+: cannot read file \(EOFError") as info:
        list(read_feed(path).posts["text"])
    assert "\n" not in str(info.value)


def test_an_impossible_date_number_or_a_lone_surrogate_costs_at_most_its_own_record(tmp_path):
    feed = tmp_path / "odd.jsonl"
    rows = [
        '{"account": "a", "post_id": "1", "created_at": 1e400, "text": "a date beyond any calendar"}',
        '{"account": "a", "post_id": "2", "created_at": 70000000000000000000, "text": "so is this one"}',
        '{"account": "a", "post_id": "3", "created_at": "2024-01-01T00:00:00Z", "text": "half an emoji \\ud83d here"}',
        '{"account": "a", "post_id": "4", "created_at": "2024-01-02T00:00:00Z", "text": "a fine post"}',
    ]
    feed.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = read_feed(feed)
    assert (result.n_read, result.n_accepted) == (4, 2)
    assert [(r.line, r.reason.split(" ")[:3]) for r in result.rejects] == [(1, ["date", "out", "of"]), (2, ["date", "out", "of"])]
    assert result.posts["text"].tolist() == ["half an emoji \ufffd here", "a fine post"]
    result.posts.to_parquet(tmp_path / "posts.parquet")  # storable: no lone surrogate left


def test_a_list_field_holding_a_scalar_or_one_object_reads_as_a_list(tmp_path):
    """ActivityStreams lets a property hold one object instead of a list; broken feeds put a number there."""
    from sociability.feeds._io import as_list

    assert as_list([1, 2]) == [1, 2] and as_list({"a": 1}) == [{"a": 1}]
    assert as_list(True) == [] and as_list(5) == [] and as_list("text") == [] and as_list(None) == []
    tweets = {"data": [{"id": "1", "text": "thanks for the tip", "author_id": "9", "created_at": "2024-01-01T00:00:00Z",
                        "referenced_tweets": True, "entities": {"urls": 5}}], "includes": {"users": True}}
    path = tmp_path / "tweets.json"
    path.write_text(json.dumps(tweets))
    result = read_feed(path, account="amy")
    assert result.posts["text"].tolist() == ["thanks for the tip"] and not result.rejects
