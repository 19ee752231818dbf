"""A pytest plugin (`-p edgekit.hil.pytest_progress`): a rich progress bar on stderr, one step per test."""
from __future__ import annotations

import os

_state: dict = {}


def pytest_collection_modifyitems(session, config, items):
    if os.environ.get("EDGEKIT_HIL_PROGRESS", "1") == "0":
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    if not console.is_terminal:
        return
    bar = Progress(TextColumn("HIL {task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   console=console, transient=True)
    bar.start()
    _state.update(bar=bar, task=bar.add_task("", total=len(items)))


def pytest_runtest_logstart(nodeid, location):
    if "bar" in _state:
        _state["bar"].update(_state["task"], description=nodeid.split("::")[-1])


def pytest_runtest_logfinish(nodeid, location):
    if "bar" in _state:
        _state["bar"].advance(_state["task"])


def pytest_sessionfinish(session, exitstatus):
    if "bar" in _state:
        _state.pop("bar").stop()
