"""Pacing: a channel's rate limits and the slots that keep the bot under them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class SendLimits:
    """A channel's flood limits and how far below them the bot paces itself (the defaults are
    Telegram's, from the Bot API FAQ).

    A rate of 0 turns that limit off (a local server without limits, benchmarks).
    """

    global_per_second: float = 30.0
    private_per_second: float = 1.0
    private_burst: int = 3
    group_per_minute: float = 20.0
    group_burst: int = 10
    # Pace a little under the limit with small bursts: our clock and the server's never agree
    # exactly, and a request paced at the very limit arrives early now and then (a 429).
    headroom: float = 0.97
    global_burst: int = 5

    @classmethod
    def off(cls) -> SendLimits:
        """No pacing at all."""
        return cls(global_per_second=0, private_per_second=0, group_per_minute=0)

    @property
    def global_pace(self) -> float:
        """Requests per second the bot allows itself overall (0: unlimited)."""
        return self.global_per_second * self.headroom


class Pacer:
    """Hands out send slots at ``rate`` a second, ``burst`` at once (GCRA, virtual scheduling).

    A reservation is O(1) and first come, first served; the caller waits until its slot.
    """

    __slots__ = ("interval", "tat", "tolerance")

    def __init__(self, rate: float, burst: int) -> None:
        self.interval = 1.0 / rate
        self.tolerance = self.interval * max(0, burst - 1)
        self.tat = 0.0  # theoretical arrival time of the next request

    def reserve(self, now: float) -> float:
        """Take the next slot; returns when it may be used (``now`` or later)."""
        at = max(now, self.tat - self.tolerance)
        self.tat = max(self.tat, at) + self.interval
        return at

    def hold_until(self, moment: float) -> None:
        """No slot before ``moment`` (after a 429), and no burst right at it."""
        self.tat = max(self.tat, moment + self.tolerance)

    def idle(self, now: float) -> bool:
        """Whether the pacer is back to its full burst (it may be forgotten)."""
        return self.tat <= now


def seconds(value: float | timedelta) -> float:
    """A duration in seconds, whichever way it was given."""
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
