"""``sociability data check``: is a labeled dataset fit to train on?"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from ..datacheck import GIVEAWAY_COVERAGE, GIVEAWAY_PRECISION, check_data
from ._app import app, console, user_errors

data_app = typer.Typer(help="Check labeled datasets.", no_args_is_help=True)
app.add_typer(data_app, name="data")


@data_app.command("check")
@user_errors
def check_command(
    path: Path = typer.Argument(..., help="Labeled posts: any feed or table with a 'label' column.", show_default=False),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    strict: bool = typer.Option(False, "--strict", help="Exit with code 1 when a problem is found (for CI)."),
) -> None:
    """Check a labeled dataset: schema, duplicates, label counts, surface rates, giveaway tokens.

    Reads the dataset; prints label counts, exact and near duplicates, each label's median length
    and link/mention/re-share/reply/question/hashtag/emoji rates, and the tokens most predictive
    of each label. A token that predicts a label with >90% precision and >20% coverage is a
    giveaway to fix in the data.

    Example: sociability data check data/labeled/train.jsonl --strict
    """
    report = check_data(path)
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2, default=str))
    else:
        console.print(f"[bold]{report.path}[/bold]: {report.n_records:,} records, {report.n_posts:,} posts "
                      f"({report.n_rejected:,} rejected), {report.n_accounts:,} accounts, {report.unlabeled:,} unlabeled")
        console.print(f"duplicates: {report.duplicate_ids} repeated ids, {report.exact_duplicates} exact repeats of a text "
                      f"({report.exact_duplicates_conflicting} texts with conflicting labels), {report.near_duplicates} near-duplicates")
        rates = Table(title="per label (rates are shares of posts)")
        rates.add_column("label")
        for column in report.rates.columns:
            rates.add_column(column, justify="right")
        for label, row in report.rates.iterrows():
            rates.add_row(str(label), *[f"{v:g}" for v in row])
        console.print(rates)
        tokens = Table(title=f"most predictive tokens (giveaway: precision > {GIVEAWAY_PRECISION}, coverage > {GIVEAWAY_COVERAGE})")
        for column in ("label", "token", "precision", "coverage"):
            tokens.add_column(column)
        for label, rows in report.top_tokens.items():
            for row in rows:
                flag = " [red]GIVEAWAY[/red]" if row in report.giveaways else ""
                tokens.add_row(label, row.token, f"{row.precision:.2f}", f"{row.coverage:.2f}" + flag)
        console.print(tokens)
        console.print("problems: " + ("; ".join(report.problems) if report.problems else "none"))
    if strict and report.problems:
        raise typer.Exit(1)
