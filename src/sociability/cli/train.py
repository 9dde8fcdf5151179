"""``sociability train``, ``evaluate``, ``predict`` and ``explain``: the classifier commands."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Optional

import pandas as pd
import typer
from rich.table import Table

from ..errors import SociabilityError
from ..evaluation import Metrics, compute_metrics
from ..explain import explain, make_single_post
from ..feeds import read_feeds
from ..model import predict_posts
from ..persistence import load_model, save_model
from ..posts import write_posts
from ..scoring import CHUNK_SIZE, ReadOptions, predict_feeds, write_rejects
from ..training import load_config, load_labeled, parse_overrides, train
from ._app import app, console, err_console, reading_progress, user_errors
from .read import FORMAT_HELP, column_map

DEFAULT_MODEL = Path("models/default")
MODEL_HELP = "Model directory (default models/default; make it with `sociability train`)."


@app.command("train", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
@user_errors
def train_command(
    ctx: typer.Context,
    config: Path = typer.Option(Path("configs/default.toml"), "--config", "-c", help="Training config (TOML)."),
    data: Optional[Path] = typer.Option(None, "--data", "-d", help="Labeled posts to train on (replaces data.train): any feed or table with a 'label' column."),
    out: Path = typer.Option(DEFAULT_MODEL, "--out", "-o", help="Where to write model.joblib and its card model.json."),
) -> None:
    """Train the post classifier from labeled posts.

    Reads the config (default configs/default.toml) and the labeled data it names (default the
    bundled data/labeled/train.jsonl); writes OUT/model.joblib and the model card OUT/model.json
    (labels, resolved config, data SHA-256, library versions, cross-validated and test metrics).
    Override any config value by its dotted path.

    Example: sociability train --data my_labeled.csv --out models/mine --model.C 1.0
    """
    resolved = load_config(config, parse_overrides(ctx.args))
    with console.status("training...") as status:
        result = train(resolved, data=data, progress=lambda message: status.update(message + "..."))
    path = save_model(result.model, result.card, out)
    cv = result.card["metrics"]["cross_validated"]
    console.print(f"trained on {result.card['data']['posts']:,} posts in {result.card['train_seconds']}s; "
                  f"cross-validated macro-F1 {cv['macro_f1']:.3f}"
                  + (f", test macro-F1 {result.card['metrics']['test']['macro_f1']:.3f}" if "test" in result.card["metrics"] else ""))
    console.print(f"saved {path}/model.joblib and its card {path}/model.json")


def metrics_table(metrics: Metrics, title: str) -> Table:
    table = Table(title=title)
    for column in ("label", "precision", "recall", "F1", "support"):
        table.add_column(column, justify="left" if column == "label" else "right")
    for label, row in metrics.per_label.items():
        table.add_row(label, f"{row['precision']:.3f}", f"{row['recall']:.3f}", f"{row['f1']:.3f}", str(row["support"]))
    table.add_row("macro avg", "", "", f"{metrics.macro_f1:.3f}", str(metrics.n), style="bold")
    return table


def confusion_table(metrics: Metrics) -> Table:
    table = Table(title="confusion (rows: true, columns: predicted)")
    table.add_column("")
    for label in metrics.labels:
        table.add_column(label[:12], justify="right")
    for label, row in zip(metrics.labels, metrics.confusion):
        table.add_row(label, *map(str, row))
    return table


@app.command("evaluate")
@user_errors
def evaluate_command(
    data: list[Path] = typer.Argument(..., help="Labeled posts (any feed or table with a 'label' column).", show_default=False),
    model: Path = typer.Option(DEFAULT_MODEL, "--model", "-m", help=MODEL_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the metrics as JSON for machines."),
) -> None:
    """Score a model on labeled posts: per-label precision, recall and F1, macro-F1, confusion, calibration.

    Reads labeled posts (a 'label' column) and the model; prints a table, or JSON with --json.
    The accounts in the data are the timelines the model sees as context.

    Example: sociability evaluate data/labeled/test.jsonl --model models/default
    """
    loaded = load_model(model)
    posts = pd.concat([load_labeled(path, loaded.labels) for path in data], ignore_index=True)
    metrics = compute_metrics(posts["label"], loaded.estimator.predict_proba(posts), loaded.labels)
    if as_json:
        typer.echo(json.dumps(metrics.to_dict(), indent=2))
        return
    console.print(metrics_table(metrics, f"{model} on {', '.join(map(str, data))}"))
    console.print(confusion_table(metrics))
    console.print(f"accuracy {metrics.accuracy:.3f}   macro-F1 {metrics.macro_f1:.3f}   "
                  f"calibration error {metrics.calibration_error:.3f}   Brier {metrics.brier:.3f}")


@app.command("predict")
@user_errors
def predict_command(
    feeds: list[Path] = typer.Argument(..., help="Feeds to label (any format `sociability formats` lists).", show_default=False),
    model: Path = typer.Option(DEFAULT_MODEL, "--model", "-m", help=MODEL_HELP),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write posts with label and p_<label> columns (.jsonl, .csv or .parquet)."),
    format: str = typer.Option("auto", "--format", "-f", help=FORMAT_HELP),
    account: Optional[str] = typer.Option(None, "--account", "-a", help="Account handle, when the feed does not say."),
    rejects: Optional[Path] = typer.Option(None, "--rejects", help="Write rejected records here as JSONL."),
    head: int = typer.Option(10, "--head", "-n", help="Show this many labeled posts."),
    jobs: int = typer.Option(0, "--jobs", "-j", help="Processes (0: all cores); big JSONL feeds are cut in byte ranges."),
    chunk_size: int = typer.Option(CHUNK_SIZE, "--chunk-size", help="Posts held in memory at once per process."),
) -> None:
    """Label every post of the feeds with the model.

    Reads feeds and the model; writes the canonical columns plus 'label' and one probability
    column per label (p_self_promotion, p_vanity_retweet, p_personal_sharing,
    p_genuine_conversation). Each account's posts in the feeds are its timeline (context).

    Example: sociability predict timeline.zip --out predictions.csv
    """
    loaded = load_model(model)
    options = ReadOptions(format=format, account=account, columns=column_map(None))
    with tempfile.TemporaryDirectory(prefix="sociability-") as tmp:
        target = out if out is not None else Path(tmp) / "predictions.parquet"
        with reading_progress() as advance:
            result = predict_feeds(feeds, loaded, target, options=options, jobs=jobs, chunk_size=chunk_size, progress=advance)
        if rejects is not None:
            write_rejects(result.rejects, rejects)
        if head:
            shown = _head(target, head)
            table = Table()
            for column in ("account", "label", "p", "text"):
                table.add_column(column, max_width=60 if column == "text" else None, overflow="fold")
            for row in shown.itertuples():
                table.add_row(row.account, row.label, f"{getattr(row, 'p_' + row.label):.2f}", row.text[:120])
            console.print(table)
    err_console.print(result.summary().rsplit(";", 1)[0].replace("scored", "labeled") + (f"; wrote {out}" if out else ""),
                      markup=False, highlight=False)


def _head(path: Path, n: int) -> pd.DataFrame:
    """The first n rows of a predictions file, without reading it whole."""
    if path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        batches = pq.ParquetFile(path).iter_batches(batch_size=n)
        return next(batches).to_pandas() if path.stat().st_size else pd.DataFrame()
    if path.suffix.lower() == ".csv":
        return pd.read_csv(path, nrows=n, keep_default_na=False)
    return pd.read_json(path, lines=True, nrows=n)


@app.command("explain")
@user_errors
def explain_command(
    text: str = typer.Argument(..., help="The post's text (for a re-share: the re-shared text).", show_default=False),
    model: Path = typer.Option(DEFAULT_MODEL, "--model", "-m", help=MODEL_HELP),
    account: str = typer.Option("me", "--account", "-a", help="Handle of the account that posted (or re-shared) it."),
    repost_of: Optional[str] = typer.Option(None, "--repost-of", help="It is a re-share of this handle's post."),
    reply_to: Optional[str] = typer.Option(None, "--reply-to", help="It replies to this handle."),
    quote_of: Optional[str] = typer.Option(None, "--quote-of", help="It quotes this handle's post..."),
    quoted_text: Optional[str] = typer.Option(None, "--quoted-text", help="...whose text is this."),
    timeline: Optional[Path] = typer.Option(None, "--timeline", help="The account's feed, for account context."),
    as_json: bool = typer.Option(False, "--json", help="Print the explanation as JSON."),
) -> None:
    """Explain one post's label: probabilities and the features that pushed it.

    Reads the model (and optionally the account's timeline); prints the label, the probability of
    each label, the text stage's own view, and the strongest features toward and away from it.

    Example: sociability explain "Huge thanks to @dana for the keynote!" --account dana --repost-of pyconf
    """
    loaded = load_model(model)
    post = make_single_post(text, account=account, repost_of=repost_of, reply_to=reply_to, quote_of=quote_of, quoted_text=quoted_text)
    context = None
    if timeline is not None:
        context = read_feeds([timeline], account=account, columns=column_map(None)).posts
    result = explain(loaded.estimator, post, timeline=context)
    if as_json:
        typer.echo(json.dumps(result.__dict__, indent=2, default=str))
        return
    console.print(f"[bold]{result.label}[/bold]")
    table = Table()
    table.add_column("label")
    table.add_column("probability", justify="right")
    table.add_column("text only", justify="right")
    for label, p in result.probabilities.items():
        table.add_row(label, f"{p:.3f}", f"{result.text_probabilities[label]:.3f}")
    console.print(table)
    console.print("pushed toward: " + ", ".join(f"{n} (+{v})" for n, v in result.pushed_toward))
    console.print("pushed away:   " + ", ".join(f"{n} ({v})" for n, v in result.pushed_away))
    if result.organisation_score is not None:
        console.print(f"account looks like an organisation with probability {result.organisation_score:.2f}")
