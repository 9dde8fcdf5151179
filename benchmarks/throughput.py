"""Throughput and peak memory of `sociability score` next to bare scikit-learn and spaCy's textcat.

Large inputs are made by resampling the bundled labeled posts (data/labeled/train.jsonl and
test.jsonl), for speed only: labels are dropped, and the figures say nothing about accuracy. In
one run, on the same posts (--compare-n of them), it measures posts/s and peak memory of

- `sociability score FILE --format table --json` end to end (read JSONL -> profiles), as a
  subprocess, with 1 job and with all cores;
- the bare scikit-learn part alone: the fitted model's predict_proba on the posts already read
  into a DataFrame (vectorise the raw text: tokens, signals, hashed n-grams; logistic regression;
  the account-context stage), and, for reference, its text pipeline alone on featurized posts;
- spaCy's own textcat (bag of words, trained here on the bundled train split) via nlp.pipe;

each --repeat times (3), interleaved, keeping the run of median time, then the peak memory of
`score` with 1 job at each of --sizes, and checks the targets as ratios of these figures. Peak
memory is the resident set size (RSS) of the whole process tree (the process and its workers,
summed) polled every 50 ms; it needs psutil (`pip install psutil`).

    python benchmarks/throughput.py                                  # full: ~5M posts, ~2 GB disk
    python benchmarks/throughput.py --sizes 2000,5000 --compare-n 5000   # quick check
    python benchmarks/throughput.py --markdown --json reports/throughput.json   # for the README

The generated feed: each line is one canonical record (platform, account, post_id, created_at,
text, re-share/reply/quote fields) drawn with replacement from the 7.8k bundled posts by a seeded
random.Random. Posts go to synthetic accounts acct00001, acct00002, ... at random: MAX_ACCOUNTS
(500) of them from 50,000 posts up (one per 100 posts below, at least 20), so that a bigger feed
means longer timelines, as when a team scores its industry year after year. (Memory grows with the
number of accounts, a few kB each, not with posts: that is what the flat-memory target tests.) A post's own account handle is replaced, so a source's
self-mentions no longer point at its new account. So that the feed is not 7.8k strings repeated,
DIGIT_SHARE of the posts have every digit of their text replaced by a random digit (t.co ids,
prices, dates); the rest keep their text as it is.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

try:
    import psutil
except ImportError:  # only the measuring needs it; generation and rendering do not
    psutil = None

BENCHMARKS = Path(__file__).resolve().parent
PROJECT = BENCHMARKS.parent
SOURCES = (PROJECT / "data" / "labeled" / "train.jsonl", PROJECT / "data" / "labeled" / "test.jsonl")
SEED = 0
DIGIT_SHARE = 0.3
"""Share of generated posts whose digits are all redrawn at random (the rest are verbatim)."""
POSTS_PER_ACCOUNT = 100
MIN_ACCOUNTS = 20
MAX_ACCOUNTS = 500
POLL_SECONDS = 0.05
PREDICT_BATCH = 50_000
REPEAT = 3
"""Runs of each compared measure (the median is kept): one run on a shared VM is too noisy."""
SPACY_EPOCHS = 6
"""As in benchmarks/baselines.py: the bag of words levels off after about 5 epochs."""
DROPPED = ("label", "hard", "batch", "account_kind")
"""Keys of the labeled data that a user's feed would not carry."""
LIBRARIES = ("sociability", "scikit-learn", "spacy", "numpy", "pandas", "scipy", "joblib", "psutil")

SCORE_1 = "score, 1 job"
SCORE_ALL = "score, all cores"
SKLEARN = "scikit-learn predict_proba"
SKLEARN_TEXT = "  of which the text pipeline"
SPACY = "spaCy textcat-bow nlp.pipe"


# ---------------------------------------------------------------------------------- the input


def load_sources(paths: Sequence[Path] = SOURCES) -> list[dict[str, Any]]:
    """The bundled labeled posts without their labeling keys: what resampling draws from."""
    records = []
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    record = json.loads(line)
                    records.append({k: v for k, v in record.items() if k not in DROPPED})
    return records


def n_accounts(n_posts: int) -> int:
    """One synthetic account per POSTS_PER_ACCOUNT posts, at least MIN_ACCOUNTS, at most MAX_ACCOUNTS."""
    return min(MAX_ACCOUNTS, max(MIN_ACCOUNTS, round(n_posts / POSTS_PER_ACCOUNT)))


_DIGIT = re.compile(r"\d")


def resample(sources: Sequence[dict[str, Any]], n_posts: int, seed: int = SEED,
             digit_share: float = DIGIT_SHARE) -> Iterator[dict[str, Any]]:
    """Yield ``n_posts`` records drawn with replacement from ``sources``, one at a time.

    Lazy, so a feed of millions of posts costs the memory of one record; the same seed and size
    give the same records.
    """
    rng = random.Random(seed)
    accounts = n_accounts(n_posts)
    redraw = lambda match: str(rng.randrange(10))  # noqa: E731
    for i in range(n_posts):
        record = dict(rng.choice(sources))
        record["account"] = f"acct{rng.randrange(accounts) + 1:05d}"
        record["post_id"] = f"p{i:09d}"
        if rng.random() < digit_share:
            record["text"] = _DIGIT.sub(redraw, record["text"])
        yield record


def write_feed(path: Path, sources: Sequence[dict[str, Any]], n_posts: int, seed: int = SEED) -> Path:
    """Write ``n_posts`` resampled records to ``path`` as JSONL, line by line."""
    with open(path, "w", encoding="utf-8") as handle:
        for record in resample(sources, n_posts, seed):
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


def feed_bytes(sources: Sequence[dict[str, Any]], n_posts: int) -> int:
    """Roughly how large a generated feed of ``n_posts`` posts is on disk."""
    mean = sum(len(json.dumps(r, ensure_ascii=False).encode()) + 1 for r in sources) / max(len(sources), 1)
    return int(mean * n_posts)


# ---------------------------------------------------------------------------------- measuring


@dataclass
class Measure:
    """One timed run: how many posts, how long, the peak RSS of its process tree."""

    what: str
    posts: int
    seconds: float | None = None
    peak_rss_mb: float | None = None
    error: str | None = None
    runs: list[float] = field(default_factory=list)
    """Seconds of every run, when the measure is the median of several."""

    @property
    def posts_per_second(self) -> float | None:
        if self.error or not self.seconds:
            return None
        return self.posts / self.seconds


def median_of(runs: Sequence[Measure]) -> Measure:
    """One measure from repeated runs: the run of median time, with the highest peak RSS of all.

    Timing on a shared VM varies by 10-30% from run to run (other tenants, clock changes), more than
    most differences worth measuring; the median of interleaved runs is steady where one run is
    not. A failed run fails the measure.
    """
    failed = next((m for m in runs if m.error), None)
    if failed is not None:
        return failed
    ordered = sorted(runs, key=lambda m: m.seconds or 0.0)
    middle = ordered[(len(ordered) - 1) // 2]
    peaks = [m.peak_rss_mb for m in runs if m.peak_rss_mb is not None]
    return Measure(middle.what, middle.posts, middle.seconds, max(peaks) if peaks else None,
                   runs=[m.seconds for m in runs] if len(runs) > 1 else [])


def tree_rss(process: Any) -> int:
    """RSS in bytes of a process and all its descendants, summed (pages they share count twice)."""
    total = 0
    try:
        members = [process, *process.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    for member in members:
        try:
            total += member.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return total


def run_polled(command: list[str], stdout: Path, stderr: Path) -> tuple[float, int, int]:
    """Run ``command`` to the end; return wall seconds, peak tree RSS in bytes and exit code."""
    with open(stdout, "wb") as out, open(stderr, "wb") as err:
        started = time.perf_counter()
        child = subprocess.Popen(command, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        watched = psutil.Process(child.pid)
        peak = 0
        while True:
            peak = max(peak, tree_rss(watched))
            try:
                code = child.wait(timeout=POLL_SECONDS)
                break
            except subprocess.TimeoutExpired:
                continue
        seconds = time.perf_counter() - started
    return seconds, peak, code


def _failure(code: int, stderr: Path) -> str:
    lines = stderr.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    return f"exit {code}" + (f": {lines[-1][:160]}" if lines else "")


_ACCEPTED = re.compile(r"([\d,]+) posts accepted")
"""The CLI's summary line on stderr: every generated post must have been read."""


def measure_score(what: str, feed: Path, n_posts: int, model: Path, jobs: int, workdir: Path,
                  engine_args: Sequence[str] = ()) -> Measure:
    """`sociability score` end to end as a subprocess: wall time and peak RSS of its tree."""
    command = [sys.executable, "-m", "sociability", *score_command(feed, model, jobs, engine_args)]
    stdout, stderr = workdir / f"{feed.stem}.jobs{jobs}.json", workdir / f"{feed.stem}.jobs{jobs}.err"
    seconds, peak, code = run_polled(command, stdout, stderr)
    stdout.unlink(missing_ok=True)  # a JSON profile per account: only its making is measured
    if code != 0:
        return Measure(what, n_posts, error=_failure(code, stderr))
    accepted = _ACCEPTED.search(stderr.read_text(encoding="utf-8", errors="replace"))
    if accepted and int(accepted.group(1).replace(",", "")) != n_posts:
        return Measure(what, n_posts, error=f"only {accepted.group(1)} posts accepted")
    return Measure(what, n_posts, round(seconds, 3), round(peak / 2**20, 1))


def score_command(feed: Path | str, model: Path | str, jobs: int | str, engine_args: Sequence[str] = ()) -> list[str]:
    """`sociability score` as this benchmark runs it, after the interpreter (``python -m sociability``)."""
    return ["score", str(feed), "--format", "table", "--model", str(model), "--jobs", str(jobs), "--json", *engine_args]


def measure_inner(what: str, kind: str, feed: Path, n_posts: int, model: Path, workdir: Path) -> Measure:
    """A library call timed inside a child process (this script with --measure).

    The child reports the seconds of the call alone; the peak RSS is its whole tree's.
    """
    command = [sys.executable, str(Path(__file__).resolve()), "--measure", kind, "--feed", str(feed),
               "--model", str(model)]
    stdout, stderr = workdir / f"{kind}.out", workdir / f"{kind}.err"
    _, peak, code = run_polled(command, stdout, stderr)
    if code != 0:
        return Measure(what, n_posts, error=_failure(code, stderr))
    timed = json.loads(stdout.read_text(encoding="utf-8").strip().splitlines()[-1])
    return Measure(what, int(timed["posts"]), round(float(timed["seconds"]), 3), round(peak / 2**20, 1))


def time_sklearn(feed: Path, model: Path) -> tuple[int, float]:
    """Seconds in the fitted model's predict_proba on the posts, already read into a DataFrame.

    The whole scikit-learn estimator: featurizing the raw text (tokens, signals), the hashed
    n-grams and logistic regression of the text stage, and the account-context stage.
    """
    from sociability import load_model, read_feed

    estimator = load_model(model).estimator
    posts = read_feed(feed, format="table").posts
    started = time.perf_counter()
    estimator.predict_proba(posts)
    return len(posts), time.perf_counter() - started


def time_sklearn_text(feed: Path, model: Path, batch: int = PREDICT_BATCH) -> tuple[int, float]:
    """Seconds in the fitted text pipeline's predict_proba alone (featurized input), PREDICT_BATCH posts a call."""
    from sociability import load_model, read_feed

    estimator = load_model(model).estimator
    posts = read_feed(feed, format="table").posts
    seconds = 0.0
    for start in range(0, len(posts), batch):
        features = estimator.featurizer_.transform(posts.iloc[start:start + batch])
        started = time.perf_counter()
        estimator.text_model_.predict_proba(features)
        seconds += time.perf_counter() - started
    return len(posts), seconds


def time_spacy(feed: Path, model: Path) -> tuple[int, float]:
    """Seconds in nlp.pipe over the posts' raw texts (as the textcat was trained on)."""
    import spacy

    from sociability import read_feed

    sys.path.insert(0, str(BENCHMARKS))
    from baselines import raw_texts

    nlp = spacy.load(model)
    texts = raw_texts(read_feed(feed, format="table").posts)
    started = time.perf_counter()
    for _ in nlp.pipe(texts, batch_size=1000):
        pass
    return len(texts), time.perf_counter() - started


def train_textcat(out: Path, epochs: int = SPACY_EPOCHS) -> Path:
    """spaCy's textcat with the bag-of-words architecture, trained on the bundled train split, saved to ``out``."""
    sys.path.insert(0, str(BENCHMARKS))
    from baselines import SpacyTextcat

    from sociability.training import load_labeled

    posts = load_labeled(SOURCES[0])
    model = SpacyTextcat("bow", epochs=epochs).fit(posts, posts["label"].to_numpy(dtype=object))
    model.nlp.to_disk(out)
    return out


def machine() -> dict[str, Any]:
    """Cores, CPU model, memory, Python and library versions: what the figures depend on."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    memory = psutil.virtual_memory().total / 2**30 if psutil else None
    return {"cores": os.cpu_count() or 1, "cpu": cpu, "memory_gb": None if memory is None else round(memory, 1),
            "os": platform.platform(terse=True), "python": platform.python_version(), "libraries": versions}


# ---------------------------------------------------------------------------------- the figures


@dataclass
class Figures:
    """Everything one run measured, and on what."""

    date: str
    machine: dict[str, Any]
    compare_posts: int
    compared: list[Measure]
    sizes: list[Measure]
    command: str = ""
    seed: int = SEED
    notes: list[str] = field(default_factory=list)
    repeat: int = 1

    def measure(self, what: str) -> Measure | None:
        return next((m for m in self.compared if m.what == what), None)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["checks"] = [asdict(c) | {"result": c.result} for c in checks(self)]
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Figures:
        return cls(data["date"], data["machine"], data["compare_posts"], [Measure(**m) for m in data["compared"]],
                   [Measure(**m) for m in data["sizes"]], data.get("command", ""), data.get("seed", SEED),
                   list(data.get("notes", [])), data.get("repeat", 1))


@dataclass
class Check:
    """One target: a ratio of two measures against a bound (at least, or at most)."""

    name: str
    ratio: float | None
    target: float
    at_most: bool = False
    why_missing: str = ""

    @property
    def result(self) -> str:
        if self.ratio is None:
            return "n/a"
        return "PASS" if (self.ratio <= self.target if self.at_most else self.ratio >= self.target) else "MISS"


def _ratio(top: float | None, bottom: float | None) -> float | None:
    return None if top is None or not bottom else top / bottom


def checks(figures: Figures) -> list[Check]:
    """The issue's four targets, each a ratio of figures from this one run."""
    one, every = figures.measure(SCORE_1), figures.measure(SCORE_ALL)
    sklearn, spacy = figures.measure(SKLEARN), figures.measure(SPACY)
    pps = lambda m: None if m is None else m.posts_per_second  # noqa: E731
    cores = figures.machine.get("cores", 1)
    out = [
        Check("score 1 job / spaCy textcat-bow (posts/s)", _ratio(pps(one), pps(spacy)), 2.0),
        Check("score 1 job / bare scikit-learn (posts/s)", _ratio(pps(one), pps(sklearn)), 0.5),
    ]
    measured = [m for m in figures.sizes if m.peak_rss_mb is not None]
    if len(measured) >= 2:
        low, high = min(measured, key=lambda m: m.posts), max(measured, key=lambda m: m.posts)
        out.append(Check(f"peak RSS {high.posts:,} / {low.posts:,} posts", _ratio(high.peak_rss_mb, low.peak_rss_mb),
                         1.10, at_most=True))
    else:
        out.append(Check("peak RSS largest / smallest size", None, 1.10, at_most=True,
                         why_missing="needs two sizes measured"))
    scaling = Check(f"score {cores} jobs / 1 job (posts/s)", _ratio(pps(every), pps(one)), 1.7)
    if cores < 2:
        scaling.ratio, scaling.why_missing = None, "one core"
    out.append(scaling)
    return out


# ---------------------------------------------------------------------------------- rendering


def _number(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def _measure_row(m: Measure) -> list[str]:
    if m.error:
        return [m.what, f"{m.posts:,}", "failed", "", "", m.error]
    return [m.what, f"{m.posts:,}", _number(m.seconds, ".1f"), _number(m.posts_per_second, ",.0f"),
            _number(m.peak_rss_mb, ",.0f"), ""]


def tables(figures: Figures) -> list[tuple[str, list[str], list[list[str]]]]:
    """Title, columns and rows of each table: the compared measures, memory per size, the targets.

    The last column (note) is left out of a table where no row has one.
    """
    cols = ["measure", "posts", "seconds", "posts/s", "peak RSS MB", "note"]
    out = [(f"same {figures.compare_posts:,} posts", cols, [_measure_row(m) for m in figures.compared])]
    if figures.sizes:
        out.append((f"{SCORE_1} at each size", cols[1:], [_measure_row(m)[1:] for m in figures.sizes]))
    out.append(("targets", ["target", "measured", "wanted", "result", "note"],
                [[c.name, _number(c.ratio, ".2f") + ("" if c.ratio is None else "x"),
                  f"{'<=' if c.at_most else '>='} {c.target:.2f}x", c.result, c.why_missing] for c in checks(figures)]))
    return [(title, header, rows) if any(row[-1] for row in rows) else (title, header[:-1], [row[:-1] for row in rows])
            for title, header, rows in out]


def header_lines(figures: Figures) -> list[str]:
    m = figures.machine
    libraries = ", ".join(f"{k} {v}" for k, v in m.get("libraries", {}).items() if v)
    return [f"{figures.date}; {m.get('cores')} cores, {m.get('cpu')}, {m.get('memory_gb')} GB; {m.get('os')}",
            f"Python {m.get('python')}; {libraries}"]


def footer_lines(figures: Figures) -> list[str]:
    lines = [
        f"posts: the bundled labeled posts resampled (seed {figures.seed}, {MAX_ACCOUNTS} accounts from 50k posts up, "
        f"digits redrawn in {DIGIT_SHARE:.0%} of them), for speed only",
        "score: `" + figures.command + "` end to end (start-up, model loading, reading, labeling, profiles, JSON)",
        "scikit-learn: the fitted model's predict_proba on the posts already in a DataFrame (featurizing the text, "
        "hashed word and char n-grams, logistic regression, account-context stage); reading not timed",
        f"of which the text pipeline: its predict_proba alone (hashed n-grams, scaler, logistic regression) on "
        f"featurized posts, {PREDICT_BATCH:,} a call",
        f"spaCy: textcat TextCatBOW.v3 on spacy.blank('en'), {SPACY_EPOCHS} epochs on data/labeled/train.jsonl; "
        "nlp.pipe(batch_size=1000) timed",
        f"peak RSS: the process and its workers summed, polled every {POLL_SECONDS * 1000:.0f} ms; for the inner "
        "measures it includes loading the model and reading the posts",
    ]
    if figures.repeat > 1:
        lines.append(f"same posts: each measure run {figures.repeat} times, interleaved; the run of median time is "
                     "shown, with the highest peak RSS of its runs (every run's seconds are in the --json file)")
    return lines + figures.notes


TEXT_COLUMNS = {"measure", "target", "result", "note"}
"""Left-aligned; the other columns hold numbers and are right-aligned."""


def _aligned(cols: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(c), *(len(row[i]) for row in rows)) if rows else len(c) for i, c in enumerate(cols)]
    line = lambda cells: "  ".join(  # noqa: E731
        c.ljust(w) if name in TEXT_COLUMNS else c.rjust(w) for c, w, name in zip(cells, widths, cols)).rstrip()
    return [line(cols), line(["-" * w for w in widths]), *map(line, rows)]


def render_text(figures: Figures) -> str:
    out = header_lines(figures)
    for title, cols, rows in tables(figures):
        out += ["", title + ":", *_aligned(cols, rows)]
    return "\n".join(out + [""] + footer_lines(figures))


def render_markdown(figures: Figures) -> str:
    out = [f"_{line}_  " for line in header_lines(figures)]
    for title, cols, rows in tables(figures):
        align = ["---" if name in TEXT_COLUMNS else "---:" for name in cols]
        out += ["", f"**{title}**", "", "| " + " | ".join(cols) + " |", "|" + "|".join(align) + "|"]
        out += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(out + [""] + [f"- {line}" for line in footer_lines(figures)])


# ---------------------------------------------------------------------------------- the run


def run(model: Path, sizes: Sequence[int], compare_n: int, workdir: Path, seed: int = SEED,
        engine_args: Sequence[str] = (), keep: bool = False, shown_model: Path | None = None,
        say: Callable[[str], None] = lambda message: None, repeat: int = REPEAT) -> Figures:
    """Generate the feeds, take every measure (the compared ones ``repeat`` times), return the figures."""
    cores = os.cpu_count() or 1
    sources = load_sources()
    compare_feed = workdir / f"posts-{compare_n}.jsonl"
    say(f"writing {compare_n:,} posts to {compare_feed}")
    write_feed(compare_feed, sources, compare_n, seed)
    say("training spaCy textcat-bow on data/labeled/train.jsonl")
    textcat = train_textcat(workdir / "textcat-bow")
    measures: list[tuple[str, Callable[[], Measure]]] = [
        (SCORE_1, lambda: measure_score(SCORE_1, compare_feed, compare_n, model, 1, workdir, engine_args)),
        (SCORE_ALL, lambda: measure_score(SCORE_ALL, compare_feed, compare_n, model, cores, workdir, engine_args)),
        (SKLEARN, lambda: measure_inner(SKLEARN, "sklearn", compare_feed, compare_n, model, workdir)),
        (SKLEARN_TEXT, lambda: measure_inner(SKLEARN_TEXT, "sklearn-text", compare_feed, compare_n, model, workdir)),
        (SPACY, lambda: measure_inner(SPACY, "spacy", compare_feed, compare_n, textcat, workdir)),
    ]
    runs: dict[str, list[Measure]] = {what: [] for what, _ in measures}
    for round_ in range(1, repeat + 1):  # interleaved, so that a slow spell of the machine hits every measure
        for what, measure in measures:
            say(f"{what.strip()}: {compare_n:,} posts" + (f" (run {round_} of {repeat})" if repeat > 1 else ""))
            runs[what].append(measure())
    compared = [median_of(runs[what]) for what, _ in measures]
    if not keep:
        compare_feed.unlink()
    measured = []
    for n_posts in sizes:
        feed = workdir / f"posts-{n_posts}.jsonl"
        say(f"writing {n_posts:,} posts to {feed}")
        write_feed(feed, sources, n_posts, seed)
        say(f"{SCORE_1}: {n_posts:,} posts")
        measured.append(measure_score(SCORE_1, feed, n_posts, model, 1, workdir, engine_args))
        if not keep:
            feed.unlink()  # the next size needs the disk more
    command = shlex.join(["sociability", *score_command("FILE", shown_model or model, "N", engine_args)])
    return Figures(datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), machine(), compare_n, compared, measured,
                   command, seed, repeat=repeat)


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated post counts like 100000,1000000, got {text!r}")
    if any(n < 1 for n in sizes):
        raise argparse.ArgumentTypeError(f"post counts must be positive, got {text!r}")
    return sizes


def _inner(kind: str, feed: Path, model: Path) -> int:
    """The --measure child: time one library call, print {posts, seconds} as JSON."""
    warnings.filterwarnings("ignore", category=UserWarning)
    posts, seconds = {"sklearn": time_sklearn, "sklearn-text": time_sklearn_text, "spacy": time_spacy}[kind](feed, model)
    print(json.dumps({"posts": posts, "seconds": seconds}))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, default=Path("models/default"), help="trained model directory")
    parser.add_argument("--sizes", type=_sizes, default=[100_000, 1_000_000, 5_000_000],
                        help="post counts for the memory table (default 100000,1000000,5000000)")
    parser.add_argument("--compare-n", type=int, default=200_000, help="posts every compared measure runs on")
    parser.add_argument("--seed", type=int, default=SEED, help="seed of the resampling")
    parser.add_argument("--repeat", type=int, default=REPEAT,
                        help=f"runs of each measure on the same posts, the median kept (default {REPEAT})")
    parser.add_argument("--engine-args", default="",
                        help="extra arguments for `sociability score`, e.g. '--engine dask'")
    parser.add_argument("--workdir", type=Path, help="where the generated feeds go (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the generated feeds and the spaCy model")
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables for the README")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also save the figures as JSON")
    parser.add_argument("--measure", choices=("sklearn", "sklearn-text", "spacy"), help=argparse.SUPPRESS)
    parser.add_argument("--feed", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        return _inner(args.measure, args.feed, args.model)
    if psutil is None:
        print("error: this benchmark needs psutil to measure memory (pip install psutil)", file=sys.stderr)
        return 2
    if not (args.model / "model.joblib").is_file():
        print(f"error: no model in {args.model}; run `sociability train` first (or pass --model)", file=sys.stderr)
        return 2
    if args.compare_n < 1:
        parser.error(f"--compare-n must be positive, got {args.compare_n}")
    if args.repeat < 1:
        parser.error(f"--repeat must be positive, got {args.repeat}")
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="sociability-throughput-"))
    workdir.mkdir(parents=True, exist_ok=True)
    needed, free = feed_bytes(load_sources(), max([args.compare_n, *args.sizes])), shutil.disk_usage(workdir).free
    if free < needed * 1.2:
        print(f"error: the largest feed needs about {needed / 2**30:.1f} GB and {workdir} has {free / 2**30:.1f} GB "
              "free (use --workdir or smaller --sizes)", file=sys.stderr)
        return 2
    warnings.filterwarnings("ignore", category=UserWarning)
    say = lambda message: print(message, file=sys.stderr, flush=True)  # noqa: E731
    started = time.perf_counter()
    try:
        figures = run(args.model.resolve(), args.sizes, args.compare_n, workdir, args.seed,
                      shlex.split(args.engine_args), args.keep, args.model, say, args.repeat)
    finally:
        if not args.keep:
            _clean(workdir, created=args.workdir is None)
    print(render_markdown(figures) if args.markdown else render_text(figures))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures.to_dict(), indent=2) + "\n", encoding="utf-8")
    say(f"benchmark took {time.perf_counter() - started:.0f} s" + (f"; files kept in {workdir}" if args.keep else ""))
    return 0


def _clean(workdir: Path, created: bool) -> None:
    """Remove what the run wrote: the whole folder if it made it, else only its own files."""
    if created:
        shutil.rmtree(workdir, ignore_errors=True)
        return
    for path in workdir.glob("posts-*"):
        path.unlink(missing_ok=True)
    for name in ("sklearn.out", "sklearn.err", "sklearn-text.out", "sklearn-text.err", "spacy.out", "spacy.err"):
        (workdir / name).unlink(missing_ok=True)
    shutil.rmtree(workdir / "textcat-bow", ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
