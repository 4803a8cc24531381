"""Fixtures shared by test modules, and how the suite shares the machine.

The suite runs on every core (pytest-xdist, ``-n auto`` in pyproject.toml, at most
:data:`MOST_WORKERS`), except the tests that run the live runtime against the clock: each of
those has the machine to itself, as in a serial run, because real processes contending for
cores with another test would decide its timings, not the runtime (the end-to-end live test's
p95 reached 5x the twin's beside another worker's tests, where alone it keeps within 2x)."""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

#: workers ``-n auto`` starts at most: each compiles the kernel once in a fresh clone and holds
#: its own copy of the worlds the tests build
MOST_WORKERS = 4

#: the test files whose tests run the live runtime against the clock (:func:`_machine`)
REALTIME_FILES = "test_live"

#: the environment variable through which the workers find the run's lock files
LOCKS = "AIRAN_TEST_LOCKS"


@pytest.hookimpl(optionalhook=True)  # (pytest -p no:xdist -o addopts=-ra: no such hook)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    return max(1, min(os.cpu_count() or 1, MOST_WORKERS))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "realtime: runs against the clock, alone on the machine")
    if os.environ.get("PYTEST_XDIST_WORKER"):
        # (a worker's environment has COLUMNS=80, which the CLI's console would keep as its
        # width whatever a test's CliRunner sets; a serial run has none)
        os.environ.pop("COLUMNS", None)
        os.environ.pop("LINES", None)
    elif int(getattr(config.option, "numprocesses", 0) or 0) > 0 and LOCKS not in os.environ:
        os.environ[LOCKS] = tempfile.mkdtemp(prefix="airan-tests-")  # (the workers inherit it)
        config.stash[_locks_key] = os.environ[LOCKS]


def pytest_unconfigure(config: pytest.Config) -> None:
    folder = config.stash.get(_locks_key, None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)
        os.environ.pop(LOCKS, None)


_locks_key = pytest.StashKey[str]()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.name.startswith(REALTIME_FILES):
            item.add_marker(pytest.mark.realtime)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    """Each test's setup, call and teardown (module fixtures' too) under the machine's lock:
    shared by the others, exclusive for a realtime one (only in a worker of a parallel run)."""
    folder = os.environ.get(LOCKS) if os.environ.get("PYTEST_XDIST_WORKER") else None
    if folder is None:
        return (yield)
    with _machine(Path(folder), exclusive=item.get_closest_marker("realtime") is not None):
        return (yield)


@contextmanager
def _machine(folder: Path, *, exclusive: bool) -> Iterator[None]:
    """A readers-writer lock over the workers, writers first: a realtime test takes the gate,
    waits for the tests running to end, and holds the machine alone; every other test passes
    the gate (waiting while a realtime one holds or waits for the machine) and shares it."""
    with open(folder / "gate", "a") as gate, open(folder / "machine", "a") as machine:
        fcntl.flock(gate, fcntl.LOCK_EX)
        try:
            fcntl.flock(machine, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        finally:
            fcntl.flock(gate, fcntl.LOCK_UN)
        try:
            yield
        finally:
            fcntl.flock(machine, fcntl.LOCK_UN)


@pytest.fixture(scope="module")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Generated ONNX models go to a temporary cache (child processes inherit the variable)."""
    old = os.environ.get("AIRAN_CACHE_DIR")
    os.environ["AIRAN_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if old is None:
        os.environ.pop("AIRAN_CACHE_DIR", None)
    else:
        os.environ["AIRAN_CACHE_DIR"] = old
