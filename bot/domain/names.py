"""Names in the order a Chinese reader expects: by pinyin (拼音), as on a printed roster.

The 3,755 level-1 hanzi of GB2312 (the common characters, nearly every surname among them)
are numbered in pinyin order, and GB18030 keeps those numbers while encoding every other
character too. So a name's GB18030 bytes sort 阿明, 蔡小芸, 陈静, 韩雪, 黄勇 … 周杰; rarer
characters come after the common ones, Latin letters and digits before all hanzi. No
dictionary to load (a full pinyin library would cost tens of megabytes of memory for this).
The database sorts with the same key (storage/db.py registers it as the SQL function
name_key), so a page of a roster and its neighbours agree.
"""

from __future__ import annotations

import unicodedata


def name_key(name: str | None) -> bytes:
    """A name's sort key (see the module's text); None sorts first."""
    return unicodedata.normalize("NFKC", name or "").encode("gb18030", errors="replace")
