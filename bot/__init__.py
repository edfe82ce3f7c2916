"""Jiannuo (践诺): the public-pledge cycle in chat."""

import os

# Opt in to PTB's future API now (durations as timedelta), so no deprecation path is used.
os.environ.setdefault("PTB_TIMEDELTA", "1")
