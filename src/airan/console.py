"""The command line's shared pieces: consoles, one-line input errors, table helpers.

Used by :mod:`airan.cli` and by the commands that live with their own layer
(:mod:`airan.planner.cli`, :mod:`airan.sweep.cli`, :mod:`airan.live.cli`).
"""

from __future__ import annotations

import errno
import inspect
import math
import os
import re
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn, cast

import typer
from rich import box
from rich.console import Console, ConsoleDimensions
from rich.table import Table
from rich.text import Text
from typer.core import TyperGroup

from airan.errors import InputError

EXIT_INPUT = 2
DEFAULT_SCENARIO = "factory"

#: the built-in policies, a few words each, for the --policy options' help (a newcomer's
#: review: --help named none). Not read from the registry: importing airan.policy compiles
#: its kernels' dispatchers, 0.4 s that every --help would wait for; tests/test_cli_newcomer.py
#: holds this to the registry's built-ins.
BUILTIN_POLICY_HELP = {
    "local": "on the device's own accelerator or CPU",
    "cloud": "the nearest cloud site",
    "nearest-edge": "the compute site nearest the serving cell, not the cloud",
    "least-loaded": "the reachable site with the smallest backlog",
    "deadline-aware": "the earliest estimated completion, the device included",
}


def policy_help(lead: str) -> str:
    """A --policy option's help: ``lead``, then the built-ins and the form of one's own."""
    return (f"{lead}: " + ", ".join(f"{n} ({what})" for n, what in BUILTIN_POLICY_HELP.items())
            + "; site:NAME (every request to compute site NAME); or module:callable, a policy "
            "function of one's own.")


def _to_null_device(stream: Any) -> None:
    """Point ``stream``'s file descriptor at the null device (later writes vanish)."""
    try:
        fd = stream.fileno()
    except (OSError, ValueError):  # no descriptor (a test runner's stream): nothing to point
        return
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, fd)
    os.close(null)


#: The width tables get where no standard stream is a terminal and ``COLUMNS`` is unset (a CI
#: log, a script's capture): rich's 80 cut the planner's and max-fleet's columns ("busy, A").
WIDTH_WITHOUT_TERMINAL = 160


class _Terminal(Console):
    """A console whose reader may stop early (``airan run | head``, ``2>&1 | head``): printing
    then ends, not the command (rich's default exits), so a run still writes all its files;
    where no terminal gives a width, a wide one (:data:`WIDTH_WITHOUT_TERMINAL`)."""

    @property
    def size(self) -> ConsoleDimensions:
        size = super().size
        if self._width is None and "COLUMNS" not in self._environ and not _any_terminal():
            return ConsoleDimensions(WIDTH_WITHOUT_TERMINAL, size.height)
        return size

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        Console.size.fset(self, new_size)  # type: ignore[attr-defined]

    def on_broken_pipe(self) -> None:
        self.quiet = True
        _to_null_device(self.file)


def _any_terminal() -> bool:
    """Whether a standard stream is a terminal that reports its size (as rich asks them)."""
    for fd in (0, 1, 2):
        try:
            if os.get_terminal_size(fd).columns > 0:
                return True
        except (AttributeError, ValueError, OSError):
            continue
    return False


@contextmanager
def reader_may_leave() -> Iterator[None]:
    """The same for stdout with an older rich, which raises ``BrokenPipeError`` from
    ``print``."""
    try:
        yield
    except BrokenPipeError:
        out.quiet = True
        _to_null_device(sys.stdout)


# file=None: rich resolves sys.stdout / sys.stderr at print time (so test runners can capture).
out = _Terminal(highlight=False, emoji=False)  # ":ok:" in a path or value stays as written
err = _Terminal(stderr=True, highlight=False, emoji=False)


# ---- help pages --------------------------------------------------------------------------------


class HelpGroup(TyperGroup):
    """A command group (``typer.Typer(cls=HelpGroup)``) whose ``--help`` pages read cleanly: a
    flag shows no value type (typer prints ``<bool>``, as if it took one), a repeatable option
    the type of one value and "(repeatable)" rather than ``<list[str]>``, and the list of
    commands gives each command's first paragraph as one paragraph (typer keeps the docstring's
    line breaks there). Applies to the group's own options and, as they are looked up, to its
    commands', whichever layer defined them."""

    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)
        for param in params:
            _tidy_param(param, ctx)
        return params

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            for param in command.get_params(ctx):
                _tidy_param(param, ctx)
            if command.help and not command.short_help:
                first = inspect.cleandoc(command.help).partition("\f")[0].split("\n\n")[0]
                command.short_help = " ".join(first.split())
        return command

    # A value of the wrong type (``--duration abc``) is reported by typer as "Invalid value for
    # '--duration': Input should be a valid number", without the value: the group keeps the
    # command line it parsed and, when a command's option is refused, puts the value given in.
    def make_context(self, info_name: str | None, args: list[str], parent: Any = None,
                     **extra: Any) -> Any:
        try:
            ctx = super().make_context(info_name, list(args), parent=parent, **extra)
        except _UsageError as exc:  # the group's own options (airan --bogus): one line too
            _usage_error(exc, None)
        ctx.meta.setdefault(_ARGV, list(args))  # meta is shared with the commands' contexts
        return ctx

    def invoke(self, ctx: Any) -> Any:
        """Run the command; a usage error (a value of the wrong type, an unknown option, a
        missing argument) is one line, ``error: ...``, and exit code 2, as every input error
        is (typer draws a box of several lines)."""
        try:
            return super().invoke(ctx)
        except typer.BadParameter as exc:
            _name_the_value(exc, ctx.meta.get(_ARGV, []))
            _usage_error(exc, ctx)
        except _UsageError as exc:
            _usage_error(exc, ctx)


# click's UsageError, as typer vendors it
_UsageError: type[Exception] = cast(type[Exception], typer.BadParameter.__mro__[1])


def _usage_error(exc: Any, ctx: Any) -> NoReturn:
    if getattr(exc, "_airan_shown", False):  # (nested groups see it again)
        raise typer.Exit(2)
    exc._airan_shown = True
    where = (exc.ctx or ctx).command_path if (exc.ctx or ctx) is not None else "airan"
    sub = getattr(ctx, "invoked_subcommand", None)
    if exc.ctx is None and sub:  # (a subcommand's option without its value names no context)
        where = f"{where} {sub}"
    message = " ".join(exc.format_message().split())
    if not message:  # a group called without its command (it printed its help)
        message = "Missing command."
    what = "commands" if message.startswith(("No such command", "Missing command")) \
        else "options"
    typer.echo(f"error: {message} ('{where} --help' lists the {what})", err=True)
    raise typer.Exit(2)


_ARGV = "airan.argv"


def _name_the_value(exc: typer.BadParameter, argv: list[str]) -> None:
    """Put the value that ``exc``'s option was given on the command line into its message,
    unless the message shows it already (or the option was not given there, or several times
    with no telling which one failed)."""
    param = exc.param
    if param is None or getattr(exc, "_airan_named", False):
        return
    exc._airan_named = True  # type: ignore[attr-defined]  # (nested groups re-raise it)
    values = given_values(param, argv)
    if len(values) != 1 and not (values and not getattr(param, "multiple", False)):
        return
    value = values[-1]
    if repr(value) not in exc.message and f'"{value}"' not in exc.message:
        exc.message = f"got {value!r}: {exc.message}"
    if _NUMBER_WITH_UNIT.fullmatch(value):  # "10ms": the unit is the option's, not the user's
        unit = _unit_of(str(getattr(param, "help", "") or ""))
        exc.message += f" (give a plain number{', in ' + unit if unit else ''})"


# a number followed by a unit ("10ms", "2 GB", "1e3Hz")
_NUMBER_WITH_UNIT = re.compile(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*[A-Za-z%/]+\s*")


def _unit_of(help_text: str) -> str:
    """The unit an option's help names ("Simulated seconds ..." -> "seconds"), or ""."""
    m = re.search(r"\b(seconds|ms|milliseconds|hours|minutes|kB|MB|GB|Hz|dB|dBm|m)\b", help_text)
    return m.group(1) if m else ""


def given_values(param: Any, argv: list[str]) -> list[str]:
    """The values given to option ``param`` in ``argv`` (``--opt V``, ``--opt=V``, ``-oV``),
    in order; none for an argument or a flag."""
    if getattr(param, "param_type_name", "") != "option" or getattr(param, "is_flag", False):
        return []
    names = [*param.opts, *param.secondary_opts]
    values: list[str] = []
    i = 0
    while i < len(argv):
        token = argv[i]
        if token == "--":
            break
        if token in names and i + 1 < len(argv):
            values.append(argv[i + 1])
            i += 2
            continue
        for name in names:
            if name.startswith("--") and token.startswith(name + "="):
                values.append(token[len(name) + 1:])
            elif len(name) == 2 and not token.startswith("--") and token.startswith(name) \
                    and len(token) > 2:
                values.append(token[2:])
        i += 1
    return values


def _tidy_param(param: Any, ctx: Any) -> None:
    if getattr(param, "metavar", "") is not None:  # an argument's name, or set already
        return
    if getattr(param, "is_flag", False) and not getattr(param, "count", False):
        param.metavar = ""  # --no-report, --help: nothing follows them
    elif getattr(param, "multiple", False) and hasattr(param, "display_type"):
        one = re.fullmatch(r"<list\[(.+)\]>", str(param.display_type(ctx)))
        if one is not None:
            param.metavar = f"<{one[1]}>"
            if param.help and "repeatable" not in param.help:
                param.help = f"{param.help} (repeatable)"


# ---- helpers -----------------------------------------------------------------------------------


@contextmanager
def _user_errors() -> Iterator[None]:
    """Turn an :class:`InputError` into ``error: <message>`` on stderr and exit code 2.

    On entry, the options every command shares are checked (:func:`_check_common_options`); a
    :class:`MemoryError` becomes one line too (a scenario too large for this machine)."""
    try:
        _check_common_options()
        yield
    except InputError as exc:
        _fail(str(_as_argument(exc)))
    except MemoryError as exc:
        _fail(_memory_message(exc))
    except OSError as exc:
        # a path the machine refuses where no reader turned it into an InputError first: a
        # name past the file system's 255 bytes (pathlib's exists() raises on it), a folder
        # that is read-only; a disk full, wherever it fills
        if exc.errno in _FULL_ERRNOS:
            _fail(f"{exc.filename}: cannot write it: {exc.strerror}" if exc.filename else
                  f"cannot write the outputs: {exc.strerror}")
        if exc.errno not in _PATH_ERRNOS or exc.filename is None:
            raise
        if exc.errno == errno.ENAMETOOLONG:
            _fail(f"{exc.filename}: a name in this path is longer than the file system allows "
                  f"(255 bytes: {exc.strerror})")
        _fail(f"{exc.filename}: cannot read or write it: {exc.strerror}")


#: the errors of a path that the user gave, as opposed to a fault of airan's own
_PATH_ERRNOS = frozenset(getattr(errno, name) for name in (
    "ENAMETOOLONG", "ENOENT", "ENOTDIR", "EISDIR", "ELOOP", "EACCES", "EPERM", "EROFS",
    "EEXIST") if hasattr(errno, name))
_FULL_ERRNOS = frozenset(getattr(errno, name) for name in ("ENOSPC", "EDQUOT")
                         if hasattr(errno, name))


def _as_argument(exc: InputError) -> InputError:
    """The error named after the command's argument where the library names its parameter
    (``airan run nosuch``: argument 'SCENARIO', not field 'scenario')."""
    ctx = _current_context()
    if ctx is None or not exc.field or exc.file:
        return exc
    names = {p.name for p in ctx.command.params
             if getattr(p, "param_type_name", "") == "argument"}
    if exc.field not in names:
        return exc
    return InputError(exc.reason, field=exc.field.upper(), value=exc.value, choices=exc.choices,
                      argument=True)


# Bounds of the options several commands share; the Engine checks the same for the Python API
# (airan.engine.engine: SEED_LIMIT, TRACE_LIMIT_MAX; not imported here, to keep start-up fast).
SEED_LIMIT = 2**63  # seeds are integers 0 <= seed < 2**63 (numpy's SeedSequence, int64 columns)
TRACE_LIMIT_MAX = 10**9  # requests traced in full per run
SEEDS_MAX = 10_000  # runs per policy (compare) or per build-out (plan)


def _current_context() -> Any:
    """The command being run (its click context: parameters and their values), or None."""
    try:  # recent typer vendors click, with its own stack of contexts
        from typer._click import globals as current
    except ImportError:  # pragma: no cover - older typer, on click itself
        import click as current  # type: ignore[no-redef]
    return current.get_current_context(silent=True)


def check_empty_paths() -> None:
    """:class:`InputError` for an output path option (``--out``, ``--json``, ``--cache``)
    given as "" on the command line: typer reads it as ".", the current folder."""
    ctx = _current_context()
    if ctx is None:
        return
    argv = ctx.meta.get(_ARGV, [])
    for param in ctx.command.params:
        if getattr(param, "param_type_name", "") == "option" and any(
                o.startswith("--out") or o in ("--json", "--cache") for o in param.opts) \
                and "" in given_values(param, argv):
            raise _option_error(max(param.opts, key=len), "an empty path (give a folder or "
                                "file, or leave the option out for its default)", "")
    if "" in _positional(ctx, argv):  # a path argument given as "" (read as "." too)
        paths = [p for p in ctx.command.params if getattr(p, "param_type_name", "") == "argument"
                 and isinstance(ctx.params.get(p.name or ""), Path)]
        if paths:
            raise InputError("an empty path (give a folder or file)",
                             field=str(paths[0].name).upper(), value="",
                             argument=True)


def _positional(ctx: Any, argv: list[str]) -> list[str]:
    """The tokens of ``argv`` that are no option and no option's value."""
    options = {name: p for p in ctx.command.params
               if getattr(p, "param_type_name", "") == "option"
               for name in (*p.opts, *p.secondary_opts)}
    out: list[str] = []
    i = 0
    while i < len(argv):
        token = argv[i]
        if token == "--":
            return out + argv[i + 1:]
        param = options.get(token)
        if param is not None:
            i += 1 if getattr(param, "is_flag", False) or getattr(param, "count", False) else 2
            continue
        if not (token.startswith("-") and len(token) > 1):
            out.append(token)
        i += 1
    return out


def _check_common_options() -> None:
    """Check the options shared by the commands that run scenarios, by their parameter name,
    before any work: ``--seed``, ``--seeds``, ``--duration``, ``--fleet-scale``, ``--trace-limit``
    and an empty scenario path. Each error names the option as the command spells it."""
    ctx = _current_context()
    if ctx is None:
        return
    options = {p.name: p for p in ctx.command.params}

    def name(param: str) -> str:
        opts = getattr(options.get(param), "opts", None) or [param]
        return max(opts, key=len)

    params = ctx.params
    check_empty_paths()
    for arg in ("scenario", "file"):
        value = params.get(arg)
        if arg in options and isinstance(value, str) and not value.strip():
            raise InputError("an empty path is not a scenario (give a built-in name or a YAML "
                             "file)", field=arg.upper(), value=value,
                             argument=True)
    seed = params.get("seed")
    if "seed" in options and seed is not None and not 0 <= seed < SEED_LIMIT:
        raise _option_error(name("seed"), "must be an integer in [0, 2**63)", seed)
    seeds = params.get("seeds")
    if "seeds" in options and isinstance(seeds, int) and seeds < 1:
        raise _option_error(name("seeds"), "must be at least 1", seeds)
    if "seeds" in options and isinstance(seeds, int) and seeds > SEEDS_MAX:
        raise _option_error(name("seeds"), f"must be at most {SEEDS_MAX:,}", seeds)
    if ("seeds" in options and isinstance(seeds, int) and isinstance(seed, int)
            and seed + seeds > SEED_LIMIT):  # the runs take seeds seed .. seed + seeds - 1
        raise _option_error(name("seed"), f"with {name('seeds')} {seeds:,} its last run's seed "
                            f"({seed + seeds - 1}) passes 2**63 - 1", seed)
    duration = params.get("duration")
    if "duration" in options and duration is not None and not (
        math.isfinite(duration) and duration > 0
    ):
        raise _option_error(name("duration"), "must be positive and finite (simulated "
                            "seconds)", duration)
    from airan.scenario.schema import MAX_DURATION_S

    if "duration" in options and duration is not None and duration > MAX_DURATION_S:
        raise _option_error(name("duration"), f"must be at most {MAX_DURATION_S:g} simulated "
                            "seconds (ten days)", duration)
    scale = params.get("fleet_scale")
    if "fleet_scale" in options and scale is not None and not (
        math.isfinite(scale) and scale > 0
    ):
        raise _option_error(name("fleet_scale"), "must be positive and finite", scale)
    limit = params.get("trace_limit")
    if "trace_limit" in options and limit is not None and limit < 0:
        raise _option_error(name("trace_limit"), "must be >= 0", limit)
    if "trace_limit" in options and limit is not None and limit > TRACE_LIMIT_MAX:
        raise _option_error(name("trace_limit"), f"must be at most {TRACE_LIMIT_MAX:,} "
                            "(requests traced in full)", limit)


def _scenario_label(scenario: str | Any) -> str:
    """How scenario-file errors name the scenario: ``factory (built-in)`` or the path as given
    (the label :func:`airan.scenario.load_scenario` puts on its errors)."""
    from airan.scenario import builtin_scenarios

    name = str(scenario)
    return f"{name} (built-in)" if name in builtin_scenarios() else name


@contextmanager
def _scenario_errors(scenario: str, options: Mapping[str, str] | None = None) -> Iterator[None]:
    """While a loaded scenario is built and run: an :class:`InputError` about an argument the
    command line gave (``options``: the argument's field, e.g. ``fleet_scale``, to its option,
    e.g. ``--fleet-scale``) names that option; any other error that names no file is attributed
    to the scenario, in the format load-time errors have (``<file>: field '...': ...``)."""
    try:
        yield
    except InputError as exc:
        option = (options or {}).get(exc.field or "")
        if option is not None:
            raise _option_error(option, exc.reason, exc.value, exc.choices) from None
        if exc.file or (exc.field or "").startswith("-"):
            raise
        raise exc.with_file(_scenario_label(scenario)) from None


def _memory_message(exc: MemoryError) -> str:
    ctx = _current_context()
    scenario = ctx.params.get("scenario") if ctx is not None else None
    what = f"this scenario ({_scenario_label(scenario)})" if scenario else "this command"
    detail = str(exc) or "out of memory"
    searching = ctx is not None and ctx.info_name == "plan"  # (a search's own memory too)
    return (f"not enough memory to run {what}: {detail}; try a smaller --fleet-scale or "
            "--duration" + (", or fewer --candidates, --sites or --max-gpus" if searching
                            else ""))


def _fail(message: str) -> None:
    err.print(f"error: {message}", markup=False, soft_wrap=True)
    raise typer.Exit(EXIT_INPUT)


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "run"


def scale_suffix(fleet_scale: float) -> str:
    """The default run folder's suffix for a ``--fleet-scale``: "-x10" ("" for 1), exact (a
    scale that ``:g`` would round, like 1.0000001, keeps its digits)."""
    if fleet_scale == 1.0:
        return ""
    text = f"{fleet_scale:g}"
    return f"-x{text if float(text) == fleet_scale else repr(fleet_scale)}"


#: scenario files airan writes under a name of its own (a run's or a comparison's
#: scenario.yaml, a plan's plan.yaml): in the folder airan wrote them to, they keep the
#: scenario's ``name`` for a run's folder (a plan's is ``<scenario>-plan``), not the file's,
#: which every one of them shares
AIRAN_WRITES = frozenset({"scenario.yaml", "plan.yaml"})


def run_label(scenario: str | None, name: str) -> str:
    """What a run's default folder starts with: the YAML file's own name (its stem) where
    ``scenario`` is a file, else the scenario's ``name`` (a built-in's). Files copied from
    one another keep their ``name:`` line, and a lecturer's students' variants of one file
    (ex2-15.yaml, ex2-60.yaml) each overwrote the other's run in runs/lab-... A scenario.yaml
    or plan.yaml keeps the ``name`` only in a folder of airan's (a run's, a comparison's, a
    plan's): a user's own scenario.yaml, an edited copy of factory's, overwrote
    runs/factory-deadline-aware-1 (a newcomer's review)."""
    if scenario is None or not Path(scenario).is_file():
        return name
    path = Path(scenario)
    if path.name in AIRAN_WRITES:
        from airan.report.rundir import folder_kind

        if folder_kind(path.parent) is not None:
            return name
    return path.stem


def default_run_folder(scenario: str | None, default: Path) -> Path:
    """Where a run writes when ``--out`` is not given: ``default``, unless ``scenario`` is a
    run folder's own scenario.yaml (a summary.json beside it), which runs again into that
    folder's ``rerun``: the default would name that run, or another one (a scaled run's
    scenario has the scaled fleets, and names the unscaled run), and overwrite it."""
    if scenario is not None:
        path = Path(scenario)
        if path.is_file() and (path.parent / "summary.json").is_file():
            return path.parent / "rerun"
    return default


def _num(value: float | None, fmt: str = "{:.1f}", missing: str = "-") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return missing
    return fmt.format(value)


def _hit_text(hit: float | None, target: float | None) -> str:
    """A hit ratio in green when it meets its target (or has none), red when it does not."""
    if hit is None:
        return "-"
    colour = "green" if target is None or hit >= target else "red"
    return f"[{colour}]{hit:.3f}[/{colour}]"


def _table(title: str | Text) -> Table:
    return Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, title_style="bold",
                 show_edge=False, pad_edge=False, collapse_padding=True, min_width=len(title))


def _columns(table: Table, *headers: str, justify: Any = "right") -> None:
    """Columns that never shrink below their header (numbers are never cut short); a header is
    plain text (a service's name, brackets and all)."""
    for h in headers:
        table.add_column(Text(h), justify=justify, no_wrap=True, min_width=len(h))


def _count(n: float | None) -> str:
    """A parameter count in K/M/B."""
    if n is None:
        return "-"
    for scale, unit in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n:.0f}"


def _option_error(
    option: str, reason: str, value: Any, choices: list[str] | None = None
) -> InputError:
    """An :class:`InputError` for a command-line option (``field`` is the option's name)."""
    error = InputError(f"option '{option}': {reason}", value=value, choices=choices)
    error.field = option
    return error



def _resolve_precision(precision: str | None, model: str | None) -> str:
    from airan.catalog import PRECISION_ORDER, load_models

    if precision is not None and model is not None:
        raise _option_error("--precision", "give --precision or --model, not both", precision)
    if model is not None:
        models = load_models()
        if model not in models:
            raise _option_error("--model", f"unknown model {model!r}", model, list(models))
        return models[model].precision
    prec = ("fp8" if precision is None else precision).strip().lower()
    if prec not in PRECISION_ORDER:
        raise _option_error("--precision", f"unknown precision {prec!r}", prec,
                            list(PRECISION_ORDER))
    return prec


def check_writable(path: Path, option: str = "--out", *, is_file: bool = False) -> None:
    """:class:`InputError` naming ``option`` where nothing could be written at ``path`` (a
    folder, or a file with ``is_file``): a file in the way of a folder on it, a folder this user
    may not write in. Checked before the work, so that a long run does not fail at its end."""
    above = path.parent if is_file or not path.exists() else path
    while not above.exists() and above != above.parent:
        above = above.parent
    if not above.is_dir():
        raise _option_error(option, f"'{above}' is a file, not a folder", str(path))
    if not os.access(above, os.W_OK | os.X_OK):
        raise _option_error(option, f"cannot write in '{above}'", str(path))
    import tempfile

    try:  # what access() does not see: root's writes, a read-only or virtual file system
        fd, probe = tempfile.mkstemp(prefix=".airan-probe-", dir=above)
    except OSError as exc:
        raise _option_error(option, f"cannot write in '{above}': {exc.strerror or exc}",
                            str(path)) from None
    os.close(fd)
    os.unlink(probe)


def with_warmup(sc: Any, warmup: float | None, duration_s: float | None) -> Any:
    """The scenario with ``--warmup`` as its ``engine.warmup_s`` (every run of a comparison or a
    search, and the scenario file each writes, keep it), checked against the runs'
    ``--duration`` (the scenario's ``duration_s`` where None)."""
    if duration_s is None:
        duration_s = sc.duration_s
    if warmup is None:
        warmup = sc.engine.warmup_s
        if not warmup < duration_s:
            raise _option_error("--duration", f"must be longer than the scenario's warm-up "
                                f"(engine.warmup_s {warmup:g} s)", duration_s)
        return sc
    if not (math.isfinite(warmup) and 0.0 <= warmup < duration_s):
        raise _option_error("--warmup", f"must be at least 0 and shorter than a run "
                            f"({duration_s:g} s)", warmup)
    return sc.model_copy(update={"engine": sc.engine.model_copy(update={"warmup_s": warmup})})


KERNEL_NOTE_S = 5.0  # a kernel load slower than this was numba compiling it: said once
KERNEL_SAY_S = 3.0  # off a terminal, a load still going after this says why it waits


def _announce(compile_kernel: Callable[[], float], bar: Any = None) -> float:
    """Run ``compile_kernel`` (the kernel's compile or load) under a spinner that says why the
    wait; in a log or a pipe, where the spinner does not show, one line once it takes longer
    than a cached load (~1-2 s); after a compile, one line saying so. ``bar``: a progress
    display of the command's, paused meanwhile (rich shows one live display at a time)."""
    why = ("loading the simulation kernel (numba compiles it on the first run after installing: "
           "one to two minutes, once)")
    say = threading.Timer(KERNEL_SAY_S, lambda: err.print(why, markup=False, soft_wrap=True))
    if bar is not None:
        bar.stop()
    if not err.is_terminal:
        say.start()
    try:
        with err.status(why):
            took = compile_kernel()
    finally:
        say.cancel()
        if bar is not None:
            bar.start()
    if took > KERNEL_NOTE_S and err.is_terminal:
        err.print(f"compiled the simulation kernel in {took:.0f} s; later runs load it from "
                  "numba's cache", style="dim", markup=False, soft_wrap=True)
    return took


def load_kernel() -> None:
    """Compile or load the kernel (:func:`airan.engine.warmup.warm_up`) now, saying why the
    first command after an install waits (:func:`_announce`): for a command whose input is
    checked and that builds an engine next (run, validate, compare, sweep, devices)."""
    from airan.engine import warmup

    if warmup.kernel_ready():
        return
    _announce(warmup._compile)  # (not warm_up: within kernel_when_needed, one spinner only)


@contextmanager
def kernel_when_needed(bar: Any = None) -> Iterator[None]:
    """Within it, the kernel is compiled or loaded when the first engine is built, saying why
    (:func:`_announce`, ``bar`` paused): for a command whose input a library call checks
    before its first run (plan, max-fleet, run-sharded), which then fails at once on a typo
    rather than after minutes of compiling on a fresh install (a review of load_kernel's
    first placement)."""
    from airan.engine import warmup

    with warmup.announced(lambda compile_kernel: _announce(compile_kernel, bar)):
        yield
