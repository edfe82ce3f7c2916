"""The Telegram renderer of intents: each outbox intent as Bot API calls within Telegram's
limits (4096 UTF-16 units a text, 1024 a caption), and Telegram's answers as outcomes.

A long text goes out in parts, the buttons with the last one; a retry goes on from the part
that failed (the parts sent are recorded with the row). A message kept current under a ref is
edited in place while Telegram lets it, else posted anew (the ref follows the new post). A
ballot is a non-anonymous poll, whose poll id the ballot's hook remembers.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import ExtBot

from bot.channels.telegram.callbacks import inline_keyboard
from bot.channels.telegram.files import TelegramFiles
from bot.channels.telegram.flood import FloodControl
from bot.chat.intents import BALLOT, CLOSE_BALLOT, EDIT, FILE, MESSAGE, Capabilities
from bot.chat.text import cut_text, split_text, utf16_len
from bot.domain.files import FileMissing
from bot.outbox.channel import Job, Outcome
from bot.outbox.pacing import seconds

log = logging.getLogger(__name__)

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
TELEGRAM = Capabilities(
    can_edit=True, text_limit=TEXT_LIMIT, caption_limit=CAPTION_LIMIT, native_ballots=True
)
# Answers to an edit that mean "post it again" (the ref is then re-pointed to the new post).
UNEDITABLE = (
    "message to edit not found",
    "message can't be edited",
    "message_id_invalid",
    "message identifier is not specified",
)
ATTACHMENT_METHODS = {"photo": ("sendPhoto", "photo"), "document": ("sendDocument", "document")}

# A Bot API call: its method, its parameters and the stored file it sends, if any.
Call = tuple[str, dict[str, Any], int | None]


class _Progress:
    """The parts of a split message sent so far (the row's, then this attempt's)."""

    def __init__(self, done: int) -> None:
        self.done = done


class TelegramRenderer:
    """Renders intents as Bot API calls through the bot (and its rate limiter)."""

    def __init__(
        self,
        bot: ExtBot[Any],
        capabilities: Capabilities = TELEGRAM,
        *,
        files: TelegramFiles | None = None,
    ) -> None:
        self.bot = bot
        self.capabilities = capabilities
        self.files = files
        # The outbox's own requests are not retried inside the rate limiter: a 429 postpones
        # the row and frees the worker (only our FloodControl understands these arguments).
        self._rl: dict[str, Any] = (
            {"rate_limit_args": {"retries": 0, "bulk": True}}
            if isinstance(getattr(bot, "rate_limiter", None), FloodControl)
            else {}
        )

    async def deliver(self, job: Job) -> Outcome:
        """Send the job; Telegram's answer as an outcome (never raises)."""
        progress = _Progress(job.row.parts_sent)
        try:
            return await self._send(job, progress)
        except RetryAfter as exc:
            wait = seconds(exc.retry_after)
            return Outcome(
                "postponed",
                delay=wait,
                error=f"429 retry after {wait:g}s",
                count_attempt=False,
                parts_sent=progress.done,
                cause="rate",
            )
        except Forbidden as exc:
            return Outcome("failed", error=f"forbidden: {exc.message}")
        except BadRequest as exc:
            if "message is not modified" in exc.message.lower():
                return Outcome("sent", message_id=job.payload.get("message_id"))
            return Outcome("failed", error=f"bad request: {exc.message}")
        except NetworkError as exc:  # includes TimedOut and 5xx answers
            return Outcome(
                "postponed",
                error=f"network: {exc.message}",
                parts_sent=progress.done,
                cause="network",
            )
        except TelegramError as exc:
            return Outcome("failed", error=f"error: {exc.message}")
        except FileMissing as exc:  # neither the store nor Telegram has the file
            return Outcome("failed", error=f"file missing: {exc}")
        except Exception as exc:  # a bug or a malformed row: retried with backoff, never lost
            log.exception("outbox row %s could not be sent", job.row.id)
            return Outcome(
                "postponed", error=f"internal: {exc!r}", parts_sent=progress.done, cause="internal"
            )

    async def _send(self, job: Job, progress: _Progress) -> Outcome:
        chat, payload = job.row.chat_id, job.payload
        if job.kind == MESSAGE and job.row.ref:
            return Outcome("sent", message_id=await self._keep_current(job))
        if job.kind == MESSAGE:
            return Outcome("sent", message_id=await self._calls(self._message(job), progress))
        if job.kind == BALLOT:
            return await self._ballot(job)
        if job.kind == CLOSE_BALLOT:
            try:
                await self._call(
                    "stopPoll", {"chat_id": chat, "message_id": payload["message_id"]}
                )
            except BadRequest as exc:
                if "already been closed" not in exc.message.lower():
                    raise
            return Outcome("sent", message_id=int(payload["message_id"]))
        if job.kind == EDIT:
            return Outcome("sent", message_id=await self._edit(job, progress))
        if job.kind == FILE:
            assert job.file is not None
            caption = cut_text(str(payload.get("caption") or ""), self.capabilities.caption_limit)
            if payload.get("type", "photo") == "photo":
                message = await self.bot.send_photo(chat, job.file, caption=caption, **self._rl)
            else:
                message = await self.bot.send_document(
                    chat,
                    job.file,
                    caption=caption,
                    filename=payload.get("filename"),
                    **self._rl,
                )
            return Outcome("sent", message_id=message.message_id)
        raise TelegramError(f"unknown intent {job.kind!r}")

    # -- messages

    def _message(self, job: Job) -> list[Call]:
        """The calls of a message: its attachment (the whole as caption if it fits), then its
        text in parts; the buttons go with the last call."""
        payload, chat = job.payload, job.row.chat_id
        title, text = str(payload.get("title") or ""), str(payload.get("text") or "")
        whole = f"{title}\n\n{text}" if title and text else (title or text)
        markup = self._markup(payload.get("buttons"))
        calls: list[Call] = []
        attachment = payload.get("attachment")
        if attachment:
            method, field = ATTACHMENT_METHODS[str(attachment.get("type", "document"))]
            params: dict[str, Any] = {"chat_id": chat}
            stored = attachment.get("file")
            if stored is None:  # a Telegram file_id (rows queued before the file store)
                params[field] = attachment["file_id"]
            limit = self.capabilities.caption_limit
            fits = utf16_len(whole) <= limit
            caption = whole if fits else cut_text(title, limit)
            if caption:
                params["caption"] = caption
            calls.append((method, params, None if stored is None else int(stored)))
            # What follows the attachment: nothing, the text under its title, or the whole.
            whole = "" if fits else (text if title else whole)
        if whole or not calls:  # an empty text is Telegram's to refuse
            for part in split_text(whole, self.capabilities.text_limit):
                calls.append(("sendMessage", {"chat_id": chat, "text": part}, None))
        if markup:
            calls[-1][1]["reply_markup"] = markup
        return calls

    async def _calls(self, calls: list[Call], progress: _Progress) -> int | None:
        """Make the calls the row has not made yet; the last message's id."""
        message_id = None
        for method, params, stored in calls[progress.done :]:
            if stored is None:
                result = await self._call(method, params)
            elif self.files is None:
                raise TelegramError("no file store to send a stored file from")
            else:  # a file kept by Jiannuo, by Telegram's cached id or uploaded once
                result = await self.files.send(self._call, method, params, stored)
            message_id = self._message_id(result)
            progress.done += 1
        return message_id

    async def _keep_current(self, job: Job) -> int | None:
        """A message kept current under its ref (one message: a longer text is cut): edited in
        place if it was posted in this chat and can still be edited, else posted anew."""
        text = cut_text(str(job.payload.get("text") or ""), self.capabilities.text_limit)
        params: dict[str, Any] = {"chat_id": job.row.chat_id, "text": text}
        markup = self._markup(job.payload.get("buttons"))
        if markup:
            params["reply_markup"] = markup
        if job.known is not None and self.capabilities.can_edit:
            try:
                result = await self._call("editMessageText", {**params, "message_id": job.known})
            except BadRequest as exc:
                reason = exc.message.lower()
                if "message is not modified" in reason:
                    return job.known
                if not any(uneditable in reason for uneditable in UNEDITABLE):
                    raise
                # Deleted, too old or otherwise uneditable: post anew, the ref follows.
            else:
                return self._message_id(result, job.known)
        return self._message_id(await self._call("sendMessage", params))

    async def _edit(self, job: Job, progress: _Progress) -> int | None:
        """New buttons (and text) for a message sent earlier; a channel that cannot edit posts
        a new text, and leaves a buttons-only change undone."""
        payload, chat = job.payload, job.row.chat_id
        markup = self._markup(payload.get("buttons")) or {"inline_keyboard": []}
        if not self.capabilities.can_edit:
            if payload.get("text") is None:
                return None
            return await self._calls(self._message(job), progress)
        params: dict[str, Any] = {
            "chat_id": chat,
            "message_id": payload["message_id"],
            "reply_markup": markup,
        }
        if payload.get("text") is not None:
            params["text"] = cut_text(str(payload["text"]), self.capabilities.text_limit)
            result = await self._call("editMessageText", params)
        else:
            result = await self._call("editMessageReplyMarkup", params)
        return self._message_id(result, payload["message_id"])

    async def _ballot(self, job: Job) -> Outcome:
        """A non-anonymous poll: each answer comes with its voter (checked against the list)."""
        payload = job.payload
        result = await self._call(
            "sendPoll",
            {
                "chat_id": job.row.chat_id,
                "question": payload["question"],
                "options": payload["options"],
                "is_anonymous": False,
            },
        )
        poll = result.get("poll") if isinstance(result, dict) else None
        ballot_id = str(poll["id"]) if isinstance(poll, dict) and "id" in poll else None
        return Outcome("sent", message_id=self._message_id(result), ballot_id=ballot_id)

    # -- the Bot API

    @staticmethod
    def _markup(buttons: Any) -> dict[str, Any] | None:
        return {"inline_keyboard": inline_keyboard(buttons)} if buttons else None

    async def _call(self, method: str, params: dict[str, Any]) -> Any:
        """One Bot API call through the bot (its rate limiter included); the raw result.

        PTB's typed methods build the whole Message from the answer, which costs as much as
        the request itself at broadcast rates, and the outbox needs only its message_id. So
        the call goes through ``do_api_request`` without a return type. The method is named
        capitalised (the Bot API's method names are case-insensitive): PTB warns when
        do_api_request is given the name of one of its own typed methods.
        """
        return await self.bot.do_api_request(
            method[0].upper() + method[1:], api_kwargs=params, **self._rl
        )

    @staticmethod
    def _message_id(result: Any, default: int | None = None) -> int | None:
        if isinstance(result, dict) and isinstance(result.get("message_id"), int):
            return int(result["message_id"])
        return default
