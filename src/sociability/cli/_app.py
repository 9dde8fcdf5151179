"""The typer application and the helpers every command shares."""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from ..errors import SociabilityError

app = typer.Typer(
    name="sociability",
    help="How social is an account, really? Read feeds, train and apply the post classifier, "
    "and profile and compare timelines.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)

console = Console()
err_console = Console(stderr=True)

F = TypeVar("F", bound=Callable[..., Any])


def user_errors(command: F) -> F:
    """Turn a :class:`SociabilityError` into one line on stderr and exit code 2 (no traceback)."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except SociabilityError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


@contextlib.contextmanager
def reading_progress(what: str = "records read") -> Iterator[Callable[[int], None]]:
    """A live line on stderr with records read so far and records/s; yields the callback to feed it."""
    columns = (SpinnerColumn(), TextColumn("{task.completed:,.0f} " + what), TextColumn("{task.fields[rate]}"), TimeElapsedColumn())
    with Progress(*columns, console=err_console, transient=True) as progress:
        task = progress.add_task(what, total=None, rate="")
        start = time.perf_counter()

        def advance(n: int) -> None:
            done = progress.tasks[0].completed + n
            progress.update(task, advance=n, rate=f"{done / max(time.perf_counter() - start, 1e-9):,.0f}/s")

        yield advance
