"""The project's own error types.

Every problem a user can cause (a file in no known format, a wrong column name, a missing model)
raises a :class:`SociabilityError`; the CLI turns it into one line on stderr and exit code 2.
Anything else that escapes is a bug and keeps its traceback.
"""

from __future__ import annotations

from pathlib import Path


class SociabilityError(Exception):
    """A problem with the user's input or setup, explained in one line."""


class FeedError(SociabilityError):
    """A whole feed file cannot be read.

    Parameters
    ----------
    path : path of the file (or ``archive.zip:member``).
    problem : what is wrong, in words a user can act on.
    line : 1-based line number, when the problem sits on one line.
    """

    def __init__(self, path: str | Path, problem: str, line: int | None = None) -> None:
        self.path = str(path)
        self.problem = " ".join(str(problem).split())  # always one line, whatever a library said
        self.line = line
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {self.problem}")

    def __reduce__(self) -> tuple:
        # so that an error raised in a worker process reaches the CLI as itself
        return (FeedError, (self.path, self.problem, self.line))
