"""What reads wrong to the person who receives it, as patterns a test can look for.

Used twice: over the catalogs themselves (tests/unit/test_wording.py, every English string
rendered with each placeholder at 1) and over every message and button the bot sent in an
end-to-end story (tests/e2e/conftest.py), where names and counts are real.
"""

from __future__ import annotations

import re

# "1 items", "1 overdue items", "1 branch secretaries", "1 people", "1 have not voted".
_WORDS_IN_S = {
    "as",
    "is",
    "was",
    "has",
    "this",
    "its",
    "us",
    "yes",
    "plus",
    "status",
    "progress",
    "always",
    "across",
    "less",
    "unless",
    "process",
    "address",
    "access",
    "does",
    "holds",
    "yours",
}
# The count and the words after it, up to the next punctuation (at most three).
_ONE_THEN = re.compile(r"(?<![\d.,/:-])\b1((?: [a-z-]+){1,3})")
_PLURAL_VERBS = {"have", "are", "were", "people"}
_HEDGED_PLURAL = re.compile(r"[a-z]\(s\)|[a-z]\(es\)|\(ies\)")
# "最近 0 条", "latest 0": a list of none does not say how many it shows.
_ZERO_LATEST = re.compile(r"(最近|前)\s*0\s*[条个项份次名]|\b(latest|first|last) 0\b")
# "黄思村党总支（黄思村党总支）": one name shown twice, the second as its own qualifier.
_NAME_TWICE = re.compile(r"([\w\u4e00-\u9fff·]{2,})\s*[（(]\1[）)]")


def english_plural_defects(text: str) -> list[str]:
    """'1 entries'-style agreement and '(s)' hedges in an English text."""
    found = [m.group(0) for m in _HEDGED_PLURAL.finditer(text)]
    for match in _ONE_THEN.finditer(text):
        for word in match.group(1).split():
            if word in _PLURAL_VERBS or (word.endswith("s") and word not in _WORDS_IN_S):
                found.append(match.group(0))
                break
    return found


def defects(text: str) -> list[str]:
    """Every pattern in ``text`` that reads wrong, whatever its language."""
    found = english_plural_defects(text)
    found += [m.group(0) for m in _ZERO_LATEST.finditer(text)]
    found += [m.group(0) for m in _NAME_TWICE.finditer(text)]
    return found
