"""Rich progress bars for long work, quiet when output is not a terminal or --json is asked."""
from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

# Progress and status go to stderr so that --json on stdout stays machine-readable.
console = Console(stderr=True)


@contextmanager
def progress(description: str, total: float | None, enabled: bool = True) -> Iterator:
    """`with progress("training", total=n) as advance: advance(1)`."""
    if not enabled or not console.is_terminal:
        yield lambda n=1: None
        return
    bar = Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), TimeRemainingColumn(), console=console, transient=True,
    )
    with bar:
        task = bar.add_task(description, total=total)
        yield lambda n=1: bar.advance(task, n)


def status(message: str) -> None:
    """A one-line status message on stderr."""
    print(message, file=sys.stderr)
