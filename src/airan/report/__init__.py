"""Reports: run folders on disk, figures, the HTML report, policy comparison, Chrome traces.

Reads what a run wrote; never touches the engine (see ARCHITECTURE.md, "metrics/ and report/").
Modules: :mod:`~airan.report.rundir` (write and read a run folder), :mod:`~airan.report.figures`
(matplotlib), :mod:`~airan.report.html` (the run report), :mod:`~airan.report.compare`
(policies side by side over seeds), :mod:`~airan.report.trace` (Chrome / Perfetto traces).
"""

from __future__ import annotations

from typing import Any

from airan.report.rundir import Run, read_run, write_run

_LAZY = {  # matplotlib is imported only when a report is built
    "Report": "airan.report.html",
    "build_report": "airan.report.html",
    "Comparison": "airan.report.compare",
    "run_comparison": "airan.report.compare",
    "build_comparison_report": "airan.report.compare",
    "export_trace": "airan.report.trace",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'airan.report' has no attribute {name!r}")


__all__ = ["Comparison", "Report", "Run", "build_comparison_report", "build_report",
           "export_trace", "read_run", "run_comparison", "write_run"]
