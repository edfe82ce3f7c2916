"""The outbox: intents the domain wrote (``bot.chat.intents``), sent by a channel's renderer.

``dispatcher`` decides when a row goes (order per chat, pacing, lanes, group commit, the
window); ``content`` what it shows (live views, files); ``channel`` is the contract with the
channel renderers; ``rows`` builds rows; ``pacing`` holds the limits and slots.
"""

from bot.outbox.channel import ChannelRenderer, Job, Outcome
from bot.outbox.dispatcher import DispatchStats, OutboxDispatcher
from bot.outbox.pacing import Pacer, SendLimits
from bot.outbox.rows import intent_row, view_row

__all__ = [
    "ChannelRenderer",
    "DispatchStats",
    "Job",
    "OutboxDispatcher",
    "Outcome",
    "Pacer",
    "SendLimits",
    "intent_row",
    "view_row",
]
