"""The figures every benchmark reports, and the table ``python -m bench`` prints.

A benchmark module builds :class:`Figure` objects and calls :func:`emit` at the end of its
run: one machine-readable line (``BENCH-FIGURES <json>``) on stdout, which the suite runner
(``bench/__main__.py``) collects from the benchmark's own process, plus the same figures as a
readable table for someone running the module alone.

A figure has a value, usually a baseline measured in the same run (the ratio is
``value / baseline``), and usually a target on either the value or the ratio.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

MARKER = "BENCH-FIGURES "


@dataclass(frozen=True)
class Target:
    """``on`` (the value or the ratio) must be ``op`` ``limit``: e.g. ratio >= 0.6."""

    on: Literal["value", "ratio"]
    op: Literal[">=", "<", "<=", "=="]
    limit: float

    def met(self, value: float, ratio: float | None) -> bool | None:
        subject = value if self.on == "value" else ratio
        if subject is None or math.isnan(subject):
            return None
        if self.op == ">=":
            return subject >= self.limit
        if self.op == "<":
            return subject < self.limit
        if self.op == "<=":
            return subject <= self.limit
        return subject == self.limit

    def describe(self, unit: str) -> str:
        limit = _number(self.limit)
        if self.on == "ratio":
            return f"ratio {self.op} {limit}"
        return f"{self.op} {limit}{_unit(unit)}"


@dataclass(frozen=True)
class Figure:
    """One measured figure: ``bench`` is the benchmark's short name (its table section)."""

    bench: str
    figure: str
    value: float
    unit: str = ""
    baseline: float | None = None
    baseline_what: str = ""  # what the baseline is, e.g. "bare PTB echo bot"
    target: Target | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or self.baseline == 0:
            return None
        return self.value / self.baseline

    @property
    def passed(self) -> bool | None:
        """True/False against the target; None when the figure has no target."""
        return None if self.target is None else self.target.met(self.value, self.ratio)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Figure:
        target = data.get("target")
        return cls(**{**data, "target": Target(**target) if target else None})


def emit(figures: Sequence[Figure], *, out: Any = None) -> None:
    """Print the figures as a table, then the machine-readable line for the suite runner."""
    stream = out or sys.stdout
    stream.write("\n" + table(figures) + "\n")
    stream.write(MARKER + json.dumps([f.to_json() for f in figures], ensure_ascii=False) + "\n")
    stream.flush()


def parse(lines: Iterable[str]) -> list[Figure]:
    """The figures in a benchmark's output (every ``BENCH-FIGURES`` line)."""
    found: list[Figure] = []
    for line in lines:
        if line.startswith(MARKER):
            found.extend(Figure.from_json(d) for d in json.loads(line[len(MARKER) :]))
    return found


def _number(value: float) -> str:
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 100:
        return f"{value:.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def _unit(unit: str) -> str:
    if not unit:
        return ""
    return unit if unit.startswith("/") or unit == "%" else f" {unit}"


def _cells(f: Figure) -> list[str]:
    baseline = "—"
    if f.baseline is not None:
        baseline = _number(f.baseline) + _unit(f.unit)
        if f.baseline_what:
            baseline += f" ({f.baseline_what})"
    ratio = f.ratio
    passed = {True: "pass", False: "**FAIL**", None: "—"}[f.passed]
    figure = f.figure + (f" — {f.note}" if f.note else "")
    return [
        f.bench,
        figure,
        _number(f.value) + _unit(f.unit),
        baseline,
        "—" if ratio is None else f"{ratio:.2f}",
        "—" if f.target is None else f.target.describe(f.unit),
        passed,
    ]


HEADER = ["bench", "figure", "value", "baseline", "ratio", "target", "pass"]


def table(figures: Sequence[Figure]) -> str:
    """A Markdown table (readable as plain text too)."""
    rows = [HEADER, ["---"] * len(HEADER), *(_cells(f) for f in figures)]
    return "\n".join("| " + " | ".join(row) + " |" for row in rows)
