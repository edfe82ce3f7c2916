"""Rules that must have one home: the ballot's publication threshold (a subject's result is
shown only from 5 valid votes) lives in ``storage/secrecy.py``, and a moment becomes a date and
time for a person only in ``bot/domain/dates.py``. A second copy drifts; these tests find one."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("bot", "handlers", "storage", "config")


def _modules() -> list[tuple[Path, ast.Module]]:
    found = []
    for top in SOURCES:
        for path in sorted((ROOT / top).rglob("*.py")):
            found.append((path.relative_to(ROOT), ast.parse(path.read_text(encoding="utf-8"))))
    return found


def _threshold_literals(tree: ast.Module) -> list[str]:
    """Names bound to an integer literal that read as a publication/vote threshold."""
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AnnAssign):
            value = node.value
            if not (isinstance(value, ast.Constant) and isinstance(value.value, int)):
                continue
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                name = target.id if isinstance(target, ast.Name) else ""
                upper = name.upper()
                if upper.startswith("MIN") and ("PUBLISHED" in upper or "VOTE" in upper):
                    names.append(name)
    return names


def test_the_five_vote_rule_is_written_once() -> None:
    places = {f"{path}:{name}" for path, tree in _modules() for name in _threshold_literals(tree)}
    assert places == {"storage/secrecy.py:MIN_PUBLISHED_VOTES"}


def test_moments_are_formatted_in_one_place() -> None:
    places = {
        str(path)
        for path, tree in _modules()
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and node.name == "format_moment"
    }
    assert places == {"bot/domain/dates.py"}
