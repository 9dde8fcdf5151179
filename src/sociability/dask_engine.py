"""Scoring on a Dask cluster: the two passes of :mod:`sociability.scoring`, partition by partition.

Feeds become partitions with ``dask.dataframe`` (Parquet, CSV) or ``dask.bytes`` blocks of lines
(JSONL, so that one malformed line is rejected instead of failing its whole partition), from
local paths or any fsspec URL (``s3://``, ``gs://``, ``https://``...). Other feeds (archives,
Mastodon and Bluesky exports) are read whole by one task each. The model is scattered to every
worker once; pass one's kept columns stay in the cluster's memory until pass two uses them.

Point it at a cluster with ``--scheduler tcp://scheduler:8786`` (workers need ``sociability``
installed and access to the feeds' paths or URLs); without an address, a LocalCluster of one
single-threaded worker process per core is started and closed.
"""

from __future__ import annotations

import json
import operator
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import FeedError, SociabilityError
from .feeds import Reject, detect_format, iter_feed
from .feeds.table import PASSTHROUGH, ColumnMap, row_to_post
from .feeds.twitter import _v1_items, _v2_items
from .model import ContextSums
from .posts import to_frame
from .profiles import Tally, merge_tallies, weekly_accounts
from .scoring import PassOne, ReadOptions, combine, first_pass, second_pass

BLOCKSIZE = 32 * 2**20
"""Bytes per partition of a JSONL or CSV feed."""


def run_dask(files: list[str], estimator: Any, options: ReadOptions, chunk_size: int, scheduler: str | None,
             progress: Callable[[int], None] | None = None, blocksize: int = BLOCKSIZE,
             n_workers: int | None = None) -> tuple[dict[str, Tally], PassOne]:
    """Both passes on a Dask cluster; the same tallies and accounting as the local engine."""
    try:
        from dask import delayed
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise SociabilityError("--engine dask needs Dask: pip install 'sociability[dask]'") from None
    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(n_workers=n_workers or os.cpu_count() or 1, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    try:
        model = client.scatter(estimator, broadcast=True, hash=False)
        parts = [delayed(_posts_of)(part) for path in files for part in partitions(path, options, blocksize)]
        futures = client.compute(parts)
        firsts = [client.submit(_first, f, model, chunk_size) for f in futures]
        summaries = [client.submit(operator.itemgetter(0), f) for f in firsts]
        kept = [client.submit(operator.itemgetter(1), f) for f in firsts]
        done: dict[Any, PassOne] = {}
        for future in as_completed(summaries):
            done[future.key] = future.result()
            if progress is not None:
                progress(done[future.key].n_read)
        first = combine(done[f.key] for f in summaries)  # feed order, whatever order they finished in
        tallies = merge_tallies(first.tallies)
        context = estimator.account_context(ContextSums.combine(first.context)) if first.context else None
        shared = client.scatter([(context, weekly_accounts(tallies))], broadcast=True, hash=False)[0]
        for future in as_completed([client.submit(_second, k, model, shared) for k in kept]):
            tallies = merge_tallies([tallies, future.result()])  # sums: the order they finish in does not matter
        return tallies, first
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


# ---------------------------------------------------------------- partitions


def partitions(path: str, options: ReadOptions, blocksize: int = BLOCKSIZE) -> list[Any]:
    """Delayed partitions of a feed, each computing to ``(kind, payload, source, settings)``."""
    from dask import delayed

    local = "://" not in path
    kind = (detect_format(path) if local else "table") if options.format == "auto" else options.format
    name = path.lower().removesuffix(".gz")
    settings = {"account": options.account, "platform": options.platform, "columns": options.columns, "only": options.only}
    if kind == "table" and name.endswith(".parquet"):
        import dask.dataframe as dd

        frame = dd.read_parquet(path)
        settings["resolved"] = _resolve(options, list(frame.columns), path)
        return [delayed(_with)("rows", raw, f"{path}#part{i}", settings) for i, raw in enumerate(frame.to_delayed())]
    if kind == "table" and name.endswith((".csv", ".tsv")):
        import dask.dataframe as dd

        frame = dd.read_csv(path, dtype=str, keep_default_na=False, blocksize=blocksize,
                            sep="\t" if name.endswith(".tsv") else ",")
        settings["resolved"] = _resolve(options, list(frame.columns), path)
        return [delayed(_with)("rows", raw, f"{path}#part{i}", settings) for i, raw in enumerate(frame.to_delayed())]
    if kind in ("table", "twitter-v1", "twitter-v2") and _is_jsonl(path, local):
        from dask.bytes import read_bytes

        _, blocks = read_bytes(path, delimiter=b"\n", blocksize=blocksize, sample=False,
                               compression="infer" if name != path.lower() else None)
        if kind == "table":
            settings["resolved"] = _resolve(options, _head_keys(path), path)
        return [delayed(_with)(kind, block, f"{path}#block{i}", settings) for i, block in enumerate(blocks[0])]
    if not local:
        raise FeedError(path, f"the dask engine reads {kind} feeds from local paths only (or convert it: sociability read)")
    return [delayed(_with)("whole", path, path, settings)]


def _with(kind: str, payload: Any, source: str, settings: dict[str, Any]) -> tuple[str, Any, str, dict[str, Any]]:
    return kind, payload, source, settings


def _resolve(options: ReadOptions, keys: list[str], path: str) -> dict[str, str]:
    columns = options.columns or ColumnMap.from_config()
    return columns.resolve(keys, path, options.account is not None)


def _is_jsonl(path: str, local: bool) -> bool:
    if local:
        return not Path(path).name.lower().endswith((".json", ".json.gz")) or _first_line(path).lstrip().startswith("{")
    return path.lower().removesuffix(".gz").endswith((".jsonl", ".ndjson"))


def _first_line(path: str) -> str:
    import fsspec

    with fsspec.open(path, "rt", compression="infer", encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if line.strip():
                return line
    return ""


def _head_keys(path: str, records: int = 200) -> list[str]:
    """Column names from the first records of a JSONL table, as the local reader resolves them."""
    import fsspec

    keys: list[str] = []
    with fsspec.open(path, "rt", compression="infer", encoding="utf-8", errors="replace") as handle:
        for count, line in enumerate(handle):
            if count >= records:
                break
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(obj, dict):
                keys.extend(k for k in obj if k not in keys)
    return keys


# ---------------------------------------------------------------- tasks


def _posts_of(part: tuple[str, Any, str, dict[str, Any]]) -> tuple[pd.DataFrame, list[Reject], int, int]:
    """A partition's canonical posts, rejects, records read and records skipped (``only``)."""
    kind, payload, source, settings = part
    account, platform, only = settings["account"], settings["platform"], settings["only"]
    if kind == "whole":
        items = iter_feed(payload, account=account, columns=settings["columns"], platform=platform)
    elif kind == "rows":
        records = payload.to_dict(orient="records")
        items = (_row_item(row, settings, source, None, i) for i, row in enumerate(records, start=1))
    else:
        lines = payload.decode("utf-8", errors="replace").splitlines()
        items = (item for number, line in enumerate(lines, start=1) if line.strip()
                 for item in _line_items(kind, line, number, source, settings))
    posts, rejects, n_read, skipped = [], [], 0, 0
    for item in items:
        n_read += 1
        if isinstance(item, Reject):
            rejects.append(item)
        elif only is not None and item.get("account") not in only:
            skipped += 1
        else:
            for extra in PASSTHROUGH:
                item.pop(extra, None)
            posts.append(item)
    return to_frame(posts), rejects, n_read, skipped


def _row_item(row: dict[str, Any], settings: dict[str, Any], source: str, line: int | None, record: int | None) -> Any:
    try:
        return row_to_post(row, settings["resolved"], settings["account"], settings["platform"], f"{source}:{line or record}")
    except ValueError as exc:
        return Reject(source, line, str(exc), record)


def _line_items(kind: str, line: str, number: int, source: str, settings: dict[str, Any]) -> list[Any]:
    try:
        obj = json.loads(line)
    except (json.JSONDecodeError, RecursionError) as exc:
        return [Reject(source, number, f"malformed JSON line: {getattr(exc, 'msg', 'nested too deeply')}")]
    if kind == "twitter-v1":
        return list(_v1_items([obj], source, settings["account"], line=number))
    if kind == "twitter-v2":
        return list(_v2_items(obj, source, settings["account"], line=number))
    if not isinstance(obj, dict):
        return [Reject(source, number, "record is not an object")]
    return [_row_item(obj, settings, source, number, None)]


def _first(part: tuple[pd.DataFrame, list[Reject], int, int], estimator: Any, chunk_size: int) -> tuple[PassOne, list[pd.DataFrame]]:
    """Pass one on a partition (in chunks of ``chunk_size``); the kept columns stay on the worker."""
    posts, rejects, n_read, skipped = part
    one = PassOne(rejects=list(rejects), n_read=n_read, n_posts=len(posts), n_skipped=skipped)
    kept = []
    for start in range(0, len(posts), chunk_size):
        context, tallies, columns = first_pass(posts.iloc[start:start + chunk_size].reset_index(drop=True), estimator)
        one.add(PassOne([context] if context is not None else [], [tallies]))
        kept.append(columns)
    return one, kept


def _second(kept: list[pd.DataFrame], estimator: Any, shared: tuple[pd.DataFrame | None, set[str]]) -> dict[str, Tally]:
    context, weekly = shared
    return merge_tallies(second_pass(columns, estimator, context, weekly)[0] for columns in kept)
