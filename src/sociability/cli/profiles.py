"""``sociability score``, ``compare`` and ``demo``: sociability profiles of accounts."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from ..errors import SociabilityError
from ..persistence import load_model
from ..profiles import METHODS, Comparison, compare, load_profile_config
from ..scoring import CHUNK_SIZE, ReadOptions, score_feeds, write_rejects
from ..report import ORDER, NAMES, save_pngs, to_csv, to_json, to_markdown, write_html
from ._app import app, console, err_console, reading_progress, user_errors
from .read import FORMAT_HELP, column_map
from .train import DEFAULT_MODEL, MODEL_HELP


def _profiles(feeds: list[Path], model: Path, account: Optional[str], format: str, method: Optional[str],
              config: Optional[Path], only: Optional[list[str]] = None, jobs: int = 0, chunk_size: int = CHUNK_SIZE,
              engine: str = "local", scheduler: Optional[str] = None, rejects: Optional[Path] = None):
    loaded = load_model(model)
    wanted = frozenset(a.lstrip("@").lower() for a in only) if only else None
    options = ReadOptions(format=format, account=account, columns=column_map(None), only=wanted)
    with reading_progress() as advance:
        result = score_feeds(feeds, loaded, config=load_profile_config(config or "profile.toml"), method=method,
                             options=options, jobs=jobs, chunk_size=chunk_size, engine=engine, scheduler=scheduler,
                             progress=advance)
    if rejects is not None:
        write_rejects(result.rejects, rejects)
    err_console.print(result.summary(), markup=False, highlight=False)
    if not result.profiles:
        raise SociabilityError(f"no posts to profile in {', '.join(map(str, feeds))}")
    return result.profiles


def _render(comparison: Comparison, as_json: bool, csv: Optional[Path], markdown: bool, html: Optional[Path],
            png: Optional[Path], title: str) -> None:
    if as_json:
        typer.echo(to_json(comparison.profiles))
    elif markdown:
        typer.echo(to_markdown(comparison))
    else:
        console.print(side_by_side(comparison))
        for p in comparison.profiles:
            for advice in p.advice:
                console.print(f"[bold]{p.account}[/bold] · {advice['title']}: {advice['text']}", highlight=False)
    if csv is not None:
        csv.parent.mkdir(parents=True, exist_ok=True)
        csv.write_text(to_csv(comparison), encoding="utf-8")
    if png is not None:
        save_pngs(comparison.profiles, png)
        err_console.print(f"charts saved in {png}/")
    if html is not None:
        path = write_html(comparison, html, title)
        err_console.print(f"HTML report: {path.resolve()}", markup=False, highlight=False)


def side_by_side(comparison: Comparison) -> Table:
    """One column per account: mix, score, archetype, behaviour."""
    table = Table(title="sociability profiles, ranked by score")
    table.add_column("")
    for p in comparison.profiles:
        table.add_column(p.account, justify="right", overflow="fold")
    profiles = comparison.profiles
    table.add_row("score (95% interval)", *[f"[bold]{p.score.estimate:.0f}[/bold] ({p.score.low:.0f}-{p.score.high:.0f})" for p in profiles])
    table.add_row("archetype", *[p.archetype for p in profiles])
    table.add_row("posts", *[f"{p.n_posts:,}" for p in profiles])
    for label in ORDER:
        table.add_row(NAMES[label], *[f"{p.shares[label].estimate:.0%} ({p.shares[label].low:.0%}-{p.shares[label].high:.0%})" for p in profiles])
    for key, name in (("reply_rate", "reply rate"), ("reshare_rate", "re-shares"), ("vanity_reshare_share", "vanity re-shares"),
                      ("link_share", "links"), ("link_only_share", "bare links"), ("duplicate_share", "repeated texts"),
                      ("accounts_engaged_per_100", "accounts engaged /100 posts")):
        fmt = "{:.0f}" if key == "accounts_engaged_per_100" else "{:.0%}"
        table.add_row(name, *[fmt.format(p.behaviour[key]) for p in profiles])
    return table


# Options score and compare share (typer reads these as each parameter's default).
MODEL_OPTION = typer.Option(DEFAULT_MODEL, "--model", "-m", help=MODEL_HELP)
FORMAT_OPTION = typer.Option("auto", "--format", "-f", help=FORMAT_HELP)
METHOD_OPTION = typer.Option(None, "--method", help=f"Share estimation: {', '.join(METHODS)} (default from configs/profile.toml).")
CONFIG_OPTION = typer.Option(None, "--config", help="Profile config (default configs/profile.toml).")
JSON_OPTION = typer.Option(False, "--json", help="Print a JSON list with one object per account.")
CSV_OPTION = typer.Option(None, "--csv", help="Write one row per account as CSV.")
MARKDOWN_OPTION = typer.Option(False, "--markdown", help="Print Markdown instead of a terminal table.")
HTML_OPTION = typer.Option(None, "--html", help="Write a self-contained HTML report with charts.")
PNG_OPTION = typer.Option(None, "--png", help="Save the charts as PNG files in this folder.")
JOBS_OPTION = typer.Option(0, "--jobs", "-j", help="Processes (0: all cores); big JSONL feeds are cut in byte ranges, other feeds go whole.")
CHUNK_OPTION = typer.Option(CHUNK_SIZE, "--chunk-size", help="Posts held in memory at once per process.")
ENGINE_OPTION = typer.Option("local", "--engine", help="local (processes on this machine) or dask (a Dask cluster).")
SCHEDULER_OPTION = typer.Option(None, "--scheduler", help="Dask scheduler address (tcp://host:8786); default: a local cluster.")
REJECTS_OPTION = typer.Option(None, "--rejects", help="Write rejected records here as JSONL (source, line, reason).")


@app.command("score")
@user_errors
def score_command(
    feeds: list[Path] = typer.Argument(..., help="Feeds of one or more accounts (any format `sociability formats` lists).", show_default=False),
    model: Path = MODEL_OPTION,
    account: Optional[str] = typer.Option(None, "--account", "-a", help="Account handle, when the feed does not say."),
    format: str = FORMAT_OPTION,
    method: Optional[str] = METHOD_OPTION,
    config: Optional[Path] = CONFIG_OPTION,
    as_json: bool = JSON_OPTION,
    csv: Optional[Path] = CSV_OPTION,
    markdown: bool = MARKDOWN_OPTION,
    html: Optional[Path] = HTML_OPTION,
    png: Optional[Path] = PNG_OPTION,
    jobs: int = JOBS_OPTION,
    chunk_size: int = CHUNK_OPTION,
    engine: str = ENGINE_OPTION,
    scheduler: Optional[str] = SCHEDULER_OPTION,
    rejects: Optional[Path] = REJECTS_OPTION,
) -> None:
    """Profile each account in the feeds: content mix, score, archetype, behaviour, advice.

    Reads feeds and the model; prints one profile per account (terminal table, --json,
    --markdown) and optionally writes CSV, an HTML report and PNG charts. Shares of the four kinds
    of post come with 95% intervals.

    Example: sociability score my-twitter-archive.zip --html report.html
    """
    profiles = _profiles(feeds, model, account, format, method, config, None, jobs, chunk_size, engine, scheduler, rejects)
    _render(compare(profiles), as_json, csv, markdown, html, png, "Sociability profile")


@app.command("compare")
@user_errors
def compare_command(
    feeds: list[Path] = typer.Argument(..., help="Feeds of the accounts to compare.", show_default=False),
    model: Path = MODEL_OPTION,
    by: str = typer.Option("account", "--by", help="What to compare: account (each account found in the feeds)."),
    only: Optional[list[str]] = typer.Option(None, "--only", help="Compare only these accounts (repeatable)."),
    format: str = FORMAT_OPTION,
    method: Optional[str] = METHOD_OPTION,
    config: Optional[Path] = CONFIG_OPTION,
    as_json: bool = JSON_OPTION,
    csv: Optional[Path] = CSV_OPTION,
    markdown: bool = MARKDOWN_OPTION,
    html: Optional[Path] = HTML_OPTION,
    png: Optional[Path] = PNG_OPTION,
    jobs: int = JOBS_OPTION,
    chunk_size: int = CHUNK_OPTION,
    engine: str = ENGINE_OPTION,
    scheduler: Optional[str] = SCHEDULER_OPTION,
    rejects: Optional[Path] = REJECTS_OPTION,
) -> None:
    """Compare accounts side by side, ranked by sociability score.

    Reads feeds and the model; prints one column per account (content mix, score, archetype,
    behaviour) and, for each pair, whether their scores differ beyond the noise. --html writes a
    report with stacked bars of the mix, behaviour metrics and the mix over time.

    Example: sociability compare brand.zip rival.jsonl me.json --html compare.html --png charts/
    """
    if by != "account":
        raise SociabilityError(f"--by {by!r}: only 'account' is supported")
    profiles = _profiles(feeds, model, None, format, method, config, only, jobs, chunk_size, engine, scheduler, rejects)
    comparison = compare(profiles)
    _render(comparison, as_json, csv, markdown, html, png, "Sociability comparison")
    if not as_json and not markdown and len(comparison.differences):
        noise = comparison.differences[~comparison.differences["beyond_noise"]]
        if len(noise):
            console.print("within the noise: " + "; ".join(f"{r.higher} vs {r.lower}" for r in noise.itertuples()))


@app.command("demo")
@user_errors
def demo_command(
    out: Path = typer.Option(Path("reports/sample-timelines.html"), "--out", "-o", help="Where to write the HTML report."),
    model: Path = typer.Option(DEFAULT_MODEL, "--model", "-m", help="Model directory (trained here first if missing)."),
) -> None:
    """Train the default model if needed, then compare the bundled sample timelines.

    Reads data/labeled (to train) and data/feeds/ (six sample accounts in six export formats);
    writes the model to models/default and an HTML report. Ends with the report's path.

    Example: sociability demo
    """
    from ..config import PROJECT_ROOT
    from ..persistence import save_model
    from ..training import load_config, train

    if not (model / "model.joblib").exists():
        with console.status("training the default model (about a minute)...") as status:
            result = train(load_config("default.toml"), progress=lambda message: status.update(message + "..."))
        save_model(result.model, result.card, model)
        console.print(f"trained {model}: cross-validated macro-F1 {result.card['metrics']['cross_validated']['macro_f1']:.3f}")
    feeds = sorted(p for p in (PROJECT_ROOT / "data" / "feeds").iterdir() if p.is_file())
    profiles = _profiles(feeds, model, None, "auto", None, None)
    _render(compare(profiles), False, None, False, out, None, "Sample timelines compared")
