"""Outbound intents: what the bot means to show, as an outbox row keeps it, channel-neutral.

The domain writes them (through ``bot.domain.notify``) in the transaction of the decision;
each channel's renderer turns them into its own calls within its limits and capabilities, and
records its own reference of what it posted. Every row is one intent:

``message``       ``{"text", "title"?, "buttons"?, "attachment"?}``: a text with buttons
                  (rows of ``{"label", "action": [parts]}`` or ``{"label", "url"}``, see
                  :mod:`bot.chat.actions`) and optionally an attachment ``{"type": "photo" |
                  "document", "file"}`` (a file of Jiannuo's store, bot/domain/files.py).
                  ``title`` heads the text, and stands alone as the attachment's caption
                  when the whole does not fit in one. A long text is split
                  by the renderer; the buttons go with its last part. With a ``ref`` the message
                  is kept current: it replaces the one posted under that ref, if the channel
                  can edit.
``view``          ``{"view": name, …}`` under a ``ref``: a live view (board post, turnout, a
                  broadcast's delivery report), rendered when it is sent, so a waiting refresh
                  shows the newest figures; at most one refresh waits per ref.
``ballot``        ``{"question", "options", "on_sent"?, "evaluation_id", "subject_id",
                  "person_id"}``: one question to answer by choosing an option, the answer
                  tied to the voter (Telegram: a non-anonymous poll).
``close_ballot``  ``{"message_id"}``: the ballot sent as that message takes no more answers.
``edit``          ``{"message_id", "buttons", "text"?}``: new buttons (and text) for a message
                  sent earlier (the id the outbox recorded for it).
``file``          ``{"render": name, "type": "photo" | "document", "caption"?, …}``: a file made
                  when it is sent (a chart, an export) by the renderer registered under
                  ``name``; no bytes sit in the outbox.
"""

from __future__ import annotations

from dataclasses import dataclass

MESSAGE = "message"
VIEW = "view"
BALLOT = "ballot"
CLOSE_BALLOT = "close_ballot"
EDIT = "edit"
FILE = "file"
KINDS = frozenset({MESSAGE, VIEW, BALLOT, CLOSE_BALLOT, EDIT, FILE})


@dataclass(frozen=True)
class Capabilities:
    """What a channel can do, which its renderer consults (the domain never asks).

    ``can_edit``: a posted message can be replaced in place (a live view, an ``edit``); a
    channel that cannot posts the new content as a new message (a buttons-only edit is then
    left undone). ``text_limit`` / ``caption_limit``: the longest text of one message / of an
    attachment's caption, in the channel's own units; longer texts are split.
    """

    can_edit: bool
    text_limit: int
    caption_limit: int
    native_ballots: bool


@dataclass(frozen=True)
class Sent:
    """What a channel reports of an intent it sent: its own reference of the message and, for
    a ballot, the id under which the channel reports answers to it (Telegram's poll id)."""

    message_id: int | None = None
    ballot_id: str | None = None
