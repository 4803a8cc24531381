"""Fixtures shared by test modules."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest


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
