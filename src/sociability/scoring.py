"""Scoring feeds of any size: read in chunks, spread over processes or a Dask cluster, same profiles.

A post's final label depends on its whole account (the context stage), and an account's posts may
be anywhere in the feeds, so scoring makes two passes over chunks of posts:

1. **Read and text stage.** Each chunk is read, featurized and given first-stage probabilities;
   each account's :class:`~sociability.model.ContextSums` and post :class:`~sociability.profiles.Tally`
   are summed; the few columns still needed are spilled to a temporary Arrow file.
2. **Context stage.** Once every chunk's context sums are merged, each spilled chunk gets its final
   probabilities and adds its labels to the tallies.

Only one chunk per process is ever in memory, plus a bounded summary per account. Sums are
integers (counts, fixed point), so chunks merged in any order give the very profiles one pass
gives (:func:`sociability.profile`); ``tests/test_scoring.py`` checks that.

>>> from sociability.scoring import score_feeds                        # doctest: +SKIP
>>> result = score_feeds(["tweets.jsonl"], "models/default", jobs=4)    # doctest: +SKIP
>>> result.profiles, result.summary()                                  # doctest: +SKIP
"""

from __future__ import annotations

import gc
import itertools
import json
import multiprocessing
import os
import shutil
import sys
import tempfile
import uuid
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import SociabilityError
from .feeds import ColumnMap, Reject, iter_feed, split_lines, splittable
from .feeds.table import PASSTHROUGH
from .model import POST_CONTEXT, ContextSums
from .posts import to_frame, write_posts
from .profiles import (
    Profile,
    Tally,
    check_method,
    finish_profile,
    labeled_columns,
    load_profile_config,
    merge_tallies,
    tally_labels,
    tally_posts,
    weekly_accounts,
)

CHUNK_SIZE = 10_000
"""Posts per chunk: large enough for numpy to pay off, small enough to keep memory flat."""

PART_BYTES = 24 * 2**20
"""A JSONL file is cut into byte ranges of about this size, one unit of work each."""

PARALLEL_MIN_BYTES = 4 * 2**20
"""Below this much input (~10,000 posts), starting worker processes costs more than it saves."""

UNITS_PER_JOB = 4
"""With several processes, a JSONL feed is cut into at least this many units per process, so
that a process that finishes early takes another unit instead of waiting for the slowest one."""

MIN_PART_BYTES = 2**20
"""...but no unit smaller than this (about 2,500 posts): each unit costs a seek and a spill."""

ENGINES = ("local", "dask")

GC_YOUNG_THRESHOLD = 10_000
"""Allocations between two collections of young objects while scoring (Python's default is 700).

Scoring allocates millions of short-lived dicts and lists, and with the default the cyclic
collector ran ~1,100 times on 100,000 posts (and 9 times over every object, the model's too):
1.5 s of 24. With the model's objects frozen (:func:`gc.freeze`) and this threshold, 0.26 s."""


@dataclass(frozen=True)
class ReadOptions:
    """How to read the feeds (as :func:`sociability.read_feed` takes them)."""

    format: str = "auto"
    account: str | None = None
    columns: ColumnMap | None = None
    platform: str | None = None
    only: frozenset[str] | None = None


@dataclass(frozen=True)
class Unit:
    """A unit of work: a whole feed, or one byte range of a JSONL feed."""

    path: str
    span: Any = None


@dataclass
class PassOne:
    """What pass one learned from some units: sums to merge, spilled chunks, and the accounting."""

    context: list[ContextSums] = field(default_factory=list)
    tallies: list[dict[str, Tally]] = field(default_factory=list)
    spills: list[str] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    n_read: int = 0
    n_posts: int = 0
    n_skipped: int = 0

    def add(self, other: PassOne) -> None:
        """Fold another result in, merging sums as they come (memory stays one summary per account)."""
        if other.context:
            self.context = [ContextSums.combine(self.context + other.context)]
        if other.tallies:
            self.tallies = [merge_tallies(self.tallies + other.tallies)]
        self.spills.extend(other.spills)
        self.rejects.extend(other.rejects)
        self.n_read += other.n_read
        self.n_posts += other.n_posts
        self.n_skipped += other.n_skipped


@dataclass
class ScoreResult:
    """Profiles of every account in the feeds, and how every record read was accounted for."""

    profiles: list[Profile]
    n_read: int
    n_scored: int
    rejects: list[Reject]
    n_skipped: int = 0
    files: list[str] = field(default_factory=list)

    @property
    def n_rejected(self) -> int:
        return len(self.rejects)

    def summary(self) -> str:
        """``read = scored + rejected (+ skipped by --only)``, in words."""
        skipped = f", {self.n_skipped:,} of other accounts skipped" if self.n_skipped else ""
        return (f"{self.n_read:,} records read from {len(self.files)} file(s): {self.n_scored:,} posts scored, "
                f"{self.n_rejected:,} rejected{skipped}; {len(self.profiles):,} account(s)")


def write_rejects(rejects: Iterable[Reject], path: str | Path) -> None:
    """Rejected records as JSONL: source, line, record, reason."""
    with open(path, "w", encoding="utf-8") as handle:
        for reject in rejects:
            handle.write(json.dumps(reject.to_dict(), ensure_ascii=False) + "\n")


# ---------------------------------------------------------------- units and chunks


def plan(paths: Sequence[str | Path], format: str = "auto", part_bytes: int = PART_BYTES, jobs: int = 1) -> list[Unit]:
    """Units of work, in feed order: big JSONL files in byte ranges, other feeds whole.

    With ``jobs`` processes, a JSONL file is cut finer (:data:`UNITS_PER_JOB` per process, down to
    :data:`MIN_PART_BYTES`) so that the processes finish together.
    """
    units = []
    for path in paths:
        path = Path(path)
        size = path.stat().st_size if path.is_file() else 0
        part = part_bytes if jobs <= 1 else min(part_bytes, max(MIN_PART_BYTES, size // (jobs * UNITS_PER_JOB)))
        if size > part and splittable(path, format):
            units.extend(Unit(str(path), span) for span in split_lines(path, part_bytes=part))
        else:
            units.append(Unit(str(path)))
    return units


def read_chunks(unit: Unit, options: ReadOptions, chunk_size: int = CHUNK_SIZE) -> Iterator[tuple[pd.DataFrame, list[Reject], int, int]]:
    """Chunks of canonical posts of a unit: ``(posts, rejects, records read, skipped by --only)``."""
    posts: list[dict] = []
    rejects: list[Reject] = []
    n_read = skipped = 0
    items = iter_feed(unit.path, format=options.format, account=options.account, columns=options.columns,
                      platform=options.platform, span=unit.span)
    for item in items:
        n_read += 1
        if isinstance(item, Reject):
            rejects.append(item)
        elif options.only is not None and item.get("account") not in options.only:
            skipped += 1
        else:
            for extra in PASSTHROUGH:
                item.pop(extra, None)
            posts.append(item)
            if len(posts) >= chunk_size:
                yield to_frame(posts), rejects, n_read, skipped
                posts, rejects, n_read, skipped = [], [], 0, 0
    if posts or rejects or n_read:
        yield to_frame(posts), rejects, n_read, skipped


# ---------------------------------------------------------------- the two passes


def first_pass(posts: pd.DataFrame, estimator: Any) -> tuple[ContextSums | None, dict[str, Tally], pd.DataFrame]:
    """Pass one on a chunk: context sums, post tallies, and the columns pass two needs."""
    if posts.empty:
        return None, {}, pd.DataFrame()
    F, P = estimator.text_stage(posts)
    context = estimator.context_sums(posts, F, P) if estimator.context_model_ is not None else None
    return context, tally_posts(posts, F["link_only"].to_numpy()), _with_text_stage(labeled_columns(posts), F, P)


def _with_text_stage(kept: pd.DataFrame, F: pd.DataFrame, P: np.ndarray) -> pd.DataFrame:
    """``kept`` plus what the context stage needs of each post: its first-stage probabilities and structure."""
    for j in range(P.shape[1]):
        kept[f"_p{j}"] = P[:, j]
    for column in POST_CONTEXT:
        kept[f"_c_{column}"] = F[column].to_numpy()
    return kept


def final_proba(kept: pd.DataFrame, estimator: Any, context: pd.DataFrame | None) -> np.ndarray:
    """The final probabilities of spilled posts, given every account's context (None: text stage only)."""
    P = kept[[f"_p{j}" for j in range(len(estimator.classes_))]].to_numpy()
    if context is None:
        return P
    post = kept[[f"_c_{c}" for c in POST_CONTEXT]].to_numpy()
    return estimator.context_stage(kept["account"].to_numpy(), post, P, context)


def second_pass(kept: pd.DataFrame, estimator: Any, context: pd.DataFrame | None, weekly: set[str]) -> tuple[dict[str, Tally], np.ndarray]:
    """Pass two on a chunk: final probabilities and the label tallies."""
    if kept.empty:
        return {}, np.zeros((0, len(estimator.classes_)))
    proba = final_proba(kept, estimator, context)
    return tally_labels({}, kept, proba, weekly), proba


def _pass_one_unit(estimator: Any, unit: Unit, options: ReadOptions, chunk_size: int, spill_dir: str,
                   progress: Callable[[int], None] | None = None) -> PassOne:
    """Pass one over a unit, in chunks; each chunk's kept columns go to a spill file."""
    out = PassOne()
    for posts, rejects, n_read, skipped in read_chunks(unit, options, chunk_size):
        context, tallies, kept = first_pass(posts, estimator)
        out.add(PassOne([context] if context is not None else [], [tallies], [_spill(kept, spill_dir)] if len(kept) else [],
                        rejects, n_read, len(posts), skipped))
        del posts, kept
        release_memory()
        if progress is not None:
            progress(n_read)
    return out


def _pass_two_spills(estimator: Any, paths: list[str], context: pd.DataFrame | None, weekly: set[str]) -> dict[str, Tally]:
    """Pass two over some spilled chunks, their label tallies merged."""
    import pyarrow.feather as feather

    tallies: dict[str, Tally] = {}
    for path in paths:
        kept = feather.read_feather(path)
        tallies = merge_tallies([tallies, second_pass(kept, estimator, context, weekly)[0]])
        os.remove(path)
        del kept
        release_memory()
    return tallies


def _finish(estimator: Any, tallies: list[Tally], config: dict[str, Any], method: str) -> list[Profile]:
    return [finish_profile(t, estimator, config, method) for t in tallies if t.n]


def release_memory() -> None:
    """Hand freed memory back to the system after a chunk (glibc keeps it otherwise, and a long
    stream of chunks would look like growing memory)."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _libc() -> Any:
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim  # noqa: B018 - glibc only
        return libc
    except (OSError, AttributeError):
        return None


_LIBC = _libc()


def _spill(kept: pd.DataFrame, spill_dir: str) -> str:
    import pyarrow as pa
    import pyarrow.feather as feather

    path = os.path.join(spill_dir, f"{uuid.uuid4().hex}.arrow")
    feather.write_feather(pa.Table.from_pandas(kept, preserve_index=False), path, compression="lz4")
    return path


# ---------------------------------------------------------------- engines


def score_feeds(paths: Sequence[str | Path], model: Any, *, config: dict[str, Any] | None = None, method: str | None = None,
                options: ReadOptions | None = None, jobs: int | None = 0, chunk_size: int = CHUNK_SIZE,
                engine: str = "local", scheduler: str | None = None, part_bytes: int = PART_BYTES,
                progress: Callable[[int], None] | None = None, workdir: str | Path | None = None) -> ScoreResult:
    """Profiles of every account in the feeds, streamed in bounded memory.

    Parameters
    ----------
    paths : feeds (any format :data:`sociability.feeds.FORMATS` lists); an account may span several.
    model : a loaded model, a fitted estimator, or a model directory.
    config, method : profile settings and share method (see :func:`sociability.profile`).
    options : how to read the feeds (format, account, column map, platform, only these accounts).
    jobs : processes (0 or None: all cores; 1: this process only).
    chunk_size : posts per chunk.
    engine : ``"local"`` (processes on this machine) or ``"dask"`` (a Dask cluster: ``scheduler``
        is its address, or a LocalCluster is started).
    progress : called with the number of records read, as they are read.
    workdir : where spill files go (default: the system's temporary folder).
    """
    from .persistence import load_model

    if engine not in ENGINES:
        raise SociabilityError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    loaded = load_model(model) if isinstance(model, (str, Path)) else model
    estimator = getattr(loaded, "estimator", loaded)
    config = config or load_profile_config()
    method = check_method(method or config["shares"]["method"])
    options = options or ReadOptions()
    files = [str(p) for p in paths]
    if engine == "dask":
        from .dask_engine import run_dask

        tallies, first = run_dask(files, estimator, options, chunk_size, scheduler, progress, n_workers=jobs or None)
        profiles = _finish(estimator, list(tallies.values()), config, method)
    else:
        units = plan(files, options.format, part_bytes, all_cores(jobs))
        with Workers(_processes(jobs, units), estimator) as workers:
            tallies, first = _run_local(workers, units, options, chunk_size, progress, workdir)
            groups = _groups(list(tallies.values()), workers.jobs)
            profiles = [p for done in workers.map(_finish, [(g, config, method) for g in groups]) for p in done]
    return ScoreResult(profiles, first.n_read, first.n_posts, first.rejects, first.n_skipped, files)


def all_cores(jobs: int | None) -> int:
    return jobs if jobs and jobs > 0 else (os.cpu_count() or 1)


def _processes(jobs: int | None, units: list[Unit]) -> int:
    """Worker processes worth starting for these units (1: work in this process)."""
    size = sum(os.path.getsize(u.path) if os.path.isfile(u.path) else 0 for u in units)
    if len(units) < 2 or (size < PARALLEL_MIN_BYTES and not (jobs and jobs > 1)):
        return 1
    return min(all_cores(jobs), len(units))


def _run_local(workers: Workers, units: list[Unit], options: ReadOptions, chunk_size: int,
               progress: Callable[[int], None] | None, workdir: str | Path | None) -> tuple[dict[str, Tally], PassOne]:
    spill_dir = tempfile.mkdtemp(prefix="sociability-", dir=workdir)
    try:
        first = PassOne()
        if workers.jobs == 1:  # progress as each chunk is read
            for unit in units:
                first.add(_pass_one_unit(workers.estimator, unit, options, chunk_size, spill_dir, progress))
        else:
            for one in workers.map(_pass_one_unit, [(u, options, chunk_size, spill_dir) for u in units]):
                first.add(one)
                if progress is not None:
                    progress(one.n_read)
        tallies = merge_tallies(first.tallies)
        estimator = workers.estimator
        context = estimator.account_context(ContextSums.combine(first.context)) if first.context else None
        weekly = weekly_accounts(tallies)
        tasks = [(group, context, weekly) for group in _groups(first.spills, workers.jobs)]
        for labels in workers.map(_pass_two_spills, tasks):  # merged as they come
            tallies = merge_tallies([tallies, labels])
        return tallies, first
    finally:
        shutil.rmtree(spill_dir, ignore_errors=True)


def _groups(items: list, jobs: int) -> list[list]:
    """``items`` in consecutive groups, :data:`UNITS_PER_JOB` per process (one group for one process)."""
    n = 1 if jobs == 1 else min(len(items), jobs * UNITS_PER_JOB)
    if not items:
        return []
    return [items[len(items) * i // n:len(items) * (i + 1) // n] for i in range(n)]


def combine(ones: Iterable[PassOne]) -> PassOne:
    """Pass-one results of several units as one, merged as they come."""
    out = PassOne()
    for one in ones:
        out.add(one)
    return out


class LongRun:
    """Garbage collector settings for a long run over chunks, given back on exit.

    The loaded model and everything imported live as long as the run: the collector need not
    look at them again (:func:`gc.freeze`), nor look for cycles after every 700 new objects (see
    :data:`GC_YOUNG_THRESHOLD`). Frozen objects are also never touched by a forked worker's
    collector, so their memory pages stay shared.
    """

    def __init__(self) -> None:
        self._threshold: tuple[int, int, int] | None = None

    def __enter__(self) -> LongRun:
        self._threshold = gc.get_threshold()
        gc.freeze()
        gc.set_threshold(max(GC_YOUNG_THRESHOLD, self._threshold[0]), *self._threshold[1:])
        return self

    def __exit__(self, *exc: object) -> None:
        if self._threshold is not None:
            gc.set_threshold(*self._threshold)
            gc.unfreeze()
            self._threshold = None


_SHARED: dict[str, Any] = {}
"""What forked workers inherit from the process that forked them: the loaded estimator."""


class Workers:
    """Worker processes that run ``function(estimator, *task)`` with this process's loaded model.

    On Linux the workers are forked once the model is loaded: each starts in milliseconds with the
    model already in memory (shared copy-on-write) and keeps its warm caches from one task to the
    next, where a fresh process would spend seconds importing and unpickling. Elsewhere joblib's
    processes get the estimator with each task. ``jobs=1`` runs everything in this process.
    """

    def __init__(self, jobs: int, estimator: Any) -> None:
        self.jobs, self.estimator = max(1, jobs), estimator
        self._pool: ProcessPoolExecutor | None = None
        self._collector = LongRun()

    def __enter__(self) -> Workers:
        self._collector.__enter__()  # forked workers inherit its settings
        if self.jobs > 1 and sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods():
            _SHARED["estimator"] = self.estimator
            self._pool = ProcessPoolExecutor(self.jobs, mp_context=multiprocessing.get_context("fork"))
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        if self._pool is not None:
            if exc_type is not None:  # stop the workers: waiting for them can hang after some errors (a task that cannot be pickled)
                for process in list((self._pool._processes or {}).values()):
                    process.terminate()
                self._pool.shutdown(wait=False, cancel_futures=True)
            else:
                self._pool.shutdown(wait=True)
            self._pool = None
            _SHARED.pop("estimator", None)
        self._collector.__exit__()

    def map(self, function: Callable[..., Any], tasks: list[tuple]) -> Iterator[Any]:
        """Results of ``function(estimator, *task)``, in task order, as they come."""
        if self.jobs == 1 or len(tasks) < 2:
            return (function(self.estimator, *task) for task in tasks)
        if self._pool is not None:
            return _unbroken(self._pool.map(_with_shared, itertools.repeat(function), tasks))
        from joblib import Parallel, delayed

        return Parallel(n_jobs=self.jobs, return_as="generator")(delayed(function)(self.estimator, *t) for t in tasks)


def _with_shared(function: Callable[..., Any], task: tuple) -> Any:
    return function(_SHARED["estimator"], *task)


def _unbroken(results: Iterator[Any]) -> Iterator[Any]:
    """The results, with a worker that died (killed, out of memory) told as a one-line error."""
    try:
        yield from results
    except BrokenProcessPool as exc:
        raise SociabilityError(f"a worker process died ({exc}); with little memory, try fewer --jobs or a smaller --chunk-size") from None


# ---------------------------------------------------------------- per-post predictions


def predict_feeds(paths: Sequence[str | Path], model: Any, out: str | Path, *, options: ReadOptions | None = None,
                  jobs: int | None = 0, chunk_size: int = CHUNK_SIZE, part_bytes: int = PART_BYTES,
                  progress: Callable[[int], None] | None = None, workdir: str | Path | None = None) -> ScoreResult:
    """Write every post with its label and probabilities to ``out`` (.jsonl, .csv or .parquet), streamed.

    Returns the accounting (no profiles). The output keeps the feeds' order.
    """
    from .persistence import load_model

    loaded = load_model(model) if isinstance(model, (str, Path)) else model
    estimator = getattr(loaded, "estimator", loaded)
    options = options or ReadOptions()
    files = [str(p) for p in paths]
    units = plan(files, options.format, part_bytes, all_cores(jobs))
    spill_dir = tempfile.mkdtemp(prefix="sociability-", dir=workdir)
    try:
        with Workers(_processes(jobs, units), estimator) as workers:
            tasks = [(u, options, chunk_size, spill_dir, progress if workers.jobs == 1 else None) for u in units]
            first = PassOne()
            for one in workers.map(_predict_one_unit, tasks):
                first.add(one)
                if progress is not None and workers.jobs > 1:
                    progress(one.n_read)
            context = estimator.account_context(ContextSums.combine(first.context)) if first.context else None
            written = list(workers.map(_predict_spill, [(path, context) for path in first.spills]))
        _concatenate(written, Path(out))
        return ScoreResult([], first.n_read, first.n_posts, first.rejects, first.n_skipped, files)
    finally:
        shutil.rmtree(spill_dir, ignore_errors=True)


def _predict_one_unit(estimator: Any, unit: Unit, options: ReadOptions, chunk_size: int, spill_dir: str,
                      progress: Callable[[int], None] | None = None) -> PassOne:
    """Pass one for per-post output: the whole posts are spilled, with the text stage's columns."""
    out = PassOne()
    for posts, rejects, n_read, skipped in read_chunks(unit, options, chunk_size):
        context, spills = [], []
        if not posts.empty:
            F, P = estimator.text_stage(posts)
            if estimator.context_model_ is not None:
                context = [estimator.context_sums(posts, F, P)]
            kept = _with_text_stage(posts.copy(), F, P)
            kept["created_at"] = kept["created_at"].astype("datetime64[ns, UTC]")
            spills = [_spill(kept, spill_dir)]
        out.add(PassOne(context, [], spills, rejects, n_read, len(posts), skipped))
        del posts
        release_memory()
        if progress is not None:
            progress(n_read)
    return out


def _predict_spill(estimator: Any, path: str, context: pd.DataFrame | None) -> str:
    import pyarrow.feather as feather

    kept = feather.read_feather(path)
    proba = final_proba(kept, estimator, context)
    posts = kept.drop(columns=[c for c in kept.columns if c.startswith(("_p", "_c_"))])
    posts["label"] = estimator.classes_[np.argmax(proba, axis=1)]
    for j, label in enumerate(estimator.classes_):
        posts[f"p_{label}"] = proba[:, j]
    part = path[:-len(".arrow")] + ".labeled.parquet"
    posts.to_parquet(part, index=False)
    os.remove(path)
    return part


def _concatenate(parts: list[str], out: Path) -> None:
    """The labeled parts, in order, as one output file (parts are read one at a time)."""
    import pyarrow.parquet as pq

    suffix = out.suffix.lower()
    if suffix not in (".parquet", ".jsonl", ".csv"):
        raise SociabilityError(f"{out}: output must end in .parquet, .jsonl or .csv, got {suffix or 'no suffix'!r}")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    if not parts:
        write_posts(to_frame([]), out)
        return
    if suffix == ".parquet":
        import pyarrow as pa

        writer = schema = None
        for part in parts:
            table = pq.read_table(part)
            if schema is None:  # a column that is empty in the first part is still text
                schema = pa.schema([pa.field(f.name, pa.large_string()) if pa.types.is_null(f.type) else f
                                    for f in table.schema]).remove_metadata()
                writer = pq.ParquetWriter(tmp, schema)
            writer.write_table(table.replace_schema_metadata(None).cast(schema))
        writer.close()
    else:
        with open(tmp, "w", encoding="utf-8") as handle:
            for i, part in enumerate(parts):
                piece = Path(part).with_suffix(suffix)
                write_posts(pd.read_parquet(part), piece)
                with open(piece, encoding="utf-8") as source:
                    if suffix == ".csv" and i > 0:
                        source.readline()  # one header
                    shutil.copyfileobj(source, handle)
    os.replace(tmp, out)
