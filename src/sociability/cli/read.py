"""``sociability read``: feeds in, canonical post table out."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..feeds import FORMATS, ColumnMap, read_feeds
from ..posts import write_posts
from ._app import app, console, err_console, user_errors

FORMAT_HELP = "Feed format: auto (detect) or one of: " + ", ".join(FORMATS) + "."


def column_map(columns: Optional[Path], **overrides: Optional[str]) -> ColumnMap:
    """The table column mapping from a config file plus per-field flags."""
    return ColumnMap.from_config(columns or "columns.toml", {k: v for k, v in overrides.items() if v})


@app.command("read")
@user_errors
def read_command(
    feeds: list[Path] = typer.Argument(..., help="Feed files or folders (archives, JSON, JSONL, CSV, Parquet).", show_default=False),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write the post table here (.parquet, .jsonl or .csv)."),
    format: str = typer.Option("auto", "--format", "-f", help=FORMAT_HELP),
    account: Optional[str] = typer.Option(None, "--account", "-a", help="Account handle, when the feed does not say (a lone tweets.js)."),
    platform: Optional[str] = typer.Option(None, "--platform", help="Network to record (twitter, mastodon, bluesky, linkedin, facebook)."),
    rejects: Optional[Path] = typer.Option(None, "--rejects", help="Write rejected records here as JSONL (source, line, record, reason)."),
    head: int = typer.Option(10, "--head", "-n", help="Preview this many posts (0 for none). Default when no --out."),
    columns: Optional[Path] = typer.Option(None, "--columns", help="Column mapping TOML for tables (default configs/columns.toml)."),
    text_col: Optional[str] = typer.Option(None, "--text-col", help="Table column holding the post text."),
    account_col: Optional[str] = typer.Option(None, "--account-col", help="Table column holding the author handle."),
    date_col: Optional[str] = typer.Option(None, "--date-col", help="Table column holding the post time."),
    id_col: Optional[str] = typer.Option(None, "--id-col", help="Table column holding the post id."),
) -> None:
    """Read feeds into the canonical post table.

    Reads Twitter/X archives (zip, folder or tweets.js), Twitter API v1.1 and v2/twarc2 JSON,
    Mastodon outbox.json, Bluesky author feeds, and CSV/TSV/JSONL/Parquet tables. Writes one row
    per post with the canonical columns; prints a preview and the summary
    'records read = accepted + rejected'.

    Example: sociability read twitter-archive.zip outbox.json --out posts.parquet --rejects rejects.jsonl
    """
    mapping = column_map(columns, text=text_col, account=account_col, created_at=date_col, post_id=id_col)
    with Progress(SpinnerColumn(), TextColumn("reading {task.completed:,} records"), TimeElapsedColumn(),
                  console=err_console, transient=True, disable=not err_console.is_terminal) as progress:
        task = progress.add_task("read", total=None)
        result = read_feeds(feeds, format=format, account=account, columns=mapping, platform=platform,
                            progress=lambda n: progress.advance(task, n))
    if out is not None:
        write_posts(result.posts, out)
    if rejects is not None:
        result.write_rejects(rejects)
    if head and (out is None or head != 10):
        console.print(preview_table(result.posts.head(head)))
    for reject in result.rejects[:5]:
        where = f"{reject.source}:{reject.line}" if reject.line else f"{reject.source} (record {reject.record})"
        err_console.print(f"rejected {where}: {reject.reason}", markup=False, highlight=False)
    if result.n_rejected > 5:
        err_console.print(f"... and {result.n_rejected - 5:,} more rejected" + ("" if rejects else " (see them all with --rejects FILE)"))
    err_console.print(result.summary() + (f"; wrote {out}" if out else ""), markup=False, highlight=False)


def preview_table(posts) -> Table:
    """A compact terminal preview of posts."""
    table = Table(show_lines=False)
    for name in ("account", "created_at", "kind", "text"):
        table.add_column(name, overflow="fold" if name == "text" else "ellipsis", max_width=70 if name == "text" else None)
    for post in posts.itertuples():
        kind = "repost of @" + str(post.reposted_from) if post.is_repost else (
            "thread" if post.is_self_reply else "reply to @" + str(post.reply_to) if post.is_reply else "quote" if post.is_quote else "post"
        )
        text = post.text if len(post.text) <= 140 else post.text[:137] + "..."
        table.add_row(post.account, post.created_at.strftime("%Y-%m-%d %H:%M") if post.created_at == post.created_at else "", kind, text)
    return table


@app.command("formats")
def formats_command() -> None:
    """List the feed formats `read`, `predict`, `score` and `compare` understand."""
    for name, description in FORMATS.items():
        console.print(f"[bold]{name:16}[/bold] {description}")
