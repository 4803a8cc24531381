"""User-facing errors: one clear message naming the file, the field and the value.

Every bad input raises :class:`InputError`; the CLI prints its message and exits with code 2.
Anything else that escapes is a bug in airan, not in the user's input.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from typing import Any


class InputError(ValueError):
    """Bad input from the user: a file, a field path, the offending value, and a hint."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        field: str | None = None,
        value: Any = None,
        choices: Iterable[str] | None = None,
        argument: bool = False,
    ) -> None:
        self.file = file
        self.field = field
        self.argument = argument  # ``field`` is a command-line argument (SCENARIO), not a field
        self.value = value
        self.choices = sorted(choices) if choices is not None else None
        self.reason = message
        super().__init__(self._format())

    def _format(self) -> str:
        parts = []
        if self.file:
            parts.append(f"{self.file}:")
        if self.field:  # a command-line option's name starts with "--"
            what = ("option" if self.field.startswith("--") else
                    "argument" if self.argument else "field")
            parts.append(f"{what} '{self.field}':")
        parts.append(self.reason)
        # (a reason that says what it got already, a nested value's say, is not repeated)
        named = (isinstance(self.value, str) and repr(self.value) in self.reason) or \
            "(got " in self.reason
        if self.value is not None and not named:
            parts.append(f"(got {self.value!r})")
        text = " ".join(parts)
        if self.choices is not None:
            close = suggest(str(self.value), self.choices) if self.value is not None else None
            several = ambiguous(str(self.value), self.choices) if self.value is not None \
                else []
            text += (f"; did you mean '{close}'?" if close else
                     "; did you mean " + " or ".join(f"'{c}'" for c in several) + "?"
                     if several else ".")
            shown = ", ".join(self.choices[:25])
            more = f" (+{len(self.choices) - 25} more)" if len(self.choices) > 25 else ""
            text += f" Accepted: {shown}{more}."
        return text

    def with_file(self, file: str) -> InputError:
        """The same error, attributed to ``file``."""
        return InputError(
            self.reason, file=file, field=self.field, value=self.value, choices=self.choices,
            argument=self.argument)


def suggest(name: str, choices: Iterable[str]) -> str | None:
    """The closest accepted name to a misspelt one, or None."""
    options = list(choices)
    lowered = {c.lower(): c for c in options}
    if name.lower() in lowered:
        return lowered[name.lower()]
    # a name given short: the choice that has it as a part ('mec' for 'factory-mec'), before one
    # a letter away; where several have it ('A100': A100-40GB, A100-80GB), no telling which,
    # and none a letter away either ('H100' is not what 'A100' meant)
    parts = [c for c in options if name.lower() in re.split(r"[-_/. ]+", c.lower())]
    if parts:
        return parts[0] if len(parts) == 1 else None
    match = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.5)
    return lowered[match[0]] if match else None


def ambiguous(name: str, choices: Iterable[str]) -> list[str]:
    """The choices that have a name given short as a part, where more than one does ('A100':
    A100-40GB and A100-80GB), for an error to list (:func:`suggest` names none of them)."""
    parts = [c for c in choices if name.lower() in re.split(r"[-_/. ]+", c.lower())]
    return parts if len(parts) > 1 else []


def unknown_name(kind: str, name: str, choices: Iterable[str], *, field: str) -> InputError:
    """An error for a name that is not in a registry or catalog."""
    return InputError(f"unknown {kind} {name!r}", field=field, value=name, choices=choices)


def malformed_yaml(exc: Exception, file: str) -> InputError:
    """The error for a YAML file that does not parse: where (line, column) and the parser's
    reason, as the scenario, sweep and inventory loaders report it."""
    if isinstance(exc, RecursionError):
        return InputError("malformed YAML: nested too deeply", file=file)
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    problem = problem.replace("found '?'", "found a key")  # (the parser's name for a key)
    context, cmark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if context and cmark is not None:  # where the block it was reading began: most often a
        # key indented unlike its neighbours; in a [list] or {mapping}, an unclosed bracket
        hint = ("check its brackets and commas" if "flow" in context
                else "check its quotes" if "quoted" in context
                else "check the indentation")
        problem += f" ({context} at line {cmark.line + 1}, column {cmark.column + 1}: {hint})"
    return InputError(f"malformed YAML{where}: {problem}", file=file)
