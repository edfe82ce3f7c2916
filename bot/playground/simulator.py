"""A local Telegram Bot API simulator for tests and the browser playground.

It speaks the Bot API over HTTP on 127.0.0.1 to an unmodified python-telegram-bot client::

    async with BotApiSimulator() as sim:
        bot = Bot(sim.token, base_url=sim.base_url, base_file_url=sim.base_file_url)

and lets in-process code act as people: send text, tap buttons, vote, and read what the bot
showed them. State lives in :mod:`bot.playground.sim_state`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import mimetypes
import random
import socket
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from http import HTTPStatus
from types import TracebackType
from typing import Any, TypeVar

from aiohttp import web

from bot.playground.sim_state import (
    JSON,
    MAX_CALLBACK_ANSWER,
    MAX_FILE_SIZE,
    NOT_MODIFIED,
    ApiError,
    Fault,
    RateLimits,
    RequestRecord,
    SimButton,
    SimCallbackAnswer,
    SimCallbackQuery,
    SimChat,
    SimError,
    SimFile,
    SimMessage,
    SimPoll,
    SimRevision,
    SimState,
    SimStats,
    SimTimeout,
    SimUser,
    TokenBucket,
    bad_request,
    check_caption,
    check_poll_question,
    check_text,
    command_entities,
    commands_key,
    format_text,
    now_unix,
    parse_commands,
    parse_poll_options,
    parse_reply_markup,
    retry_after_seconds,
)

__all__ = [
    "ApiError",
    "BotApiSimulator",
    "RateLimits",
    "RequestRecord",
    "SimButton",
    "SimCallbackAnswer",
    "SimChat",
    "SimError",
    "SimFile",
    "SimMessage",
    "SimPoll",
    "SimStats",
    "SimTimeout",
    "SimUser",
]

logger = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
DEFAULT_UPDATE_TYPES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "callback_query",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_join_request",
        "inline_query",
        "chosen_inline_result",
        "shipping_query",
        "pre_checkout_query",
    }
)
_NO_FLOOD_CONTROL = frozenset({"sendchataction"})
_FAULT_DESCRIPTIONS = {500: "Internal Server Error", 502: "Bad Gateway"}

Handler = Callable[["_Params"], Awaitable[Any]]
T = TypeVar("T")


def _is_sending(method: str) -> bool:
    """Whether a (lower-cased) method counts against flood limits."""
    if method in _NO_FLOOD_CONTROL:
        return False
    return method.startswith(("send", "edit")) or method in ("stoppoll", "deletemessage")


@dataclass
class _Upload:
    data: bytes
    filename: str | None
    content_type: str | None


class _Params:
    """A request's parameters, whichever way they came (query, form, multipart or JSON)."""

    def __init__(self, values: dict[str, Any], uploads: dict[str, _Upload]) -> None:
        self.values = values
        self.uploads = uploads

    def raw(self, name: str) -> Any:
        """The value as sent (a string for form fields, any JSON value for JSON bodies)."""
        return self.values.get(name)

    def get_str(self, name: str) -> str | None:
        """A string parameter."""
        value = self.values.get(name)
        if value is None:
            return None
        return value if isinstance(value, str) else json.dumps(value)

    def get_int(self, name: str) -> int | None:
        """An integer parameter (400 when it is not one)."""
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            raise bad_request(f'field "{name}" must be of type Integer')
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f'field "{name}" must be of type Integer') from None

    def get_float(self, name: str) -> float | None:
        """A number parameter."""
        value = self.values.get(name)
        if value is None or value == "":
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            raise bad_request(f'field "{name}" must be of type Number') from None

    def get_bool(self, name: str, default: bool = False) -> bool:
        """A boolean parameter (``true``/``false``, as PTB sends them)."""
        value = self.values.get(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        return str(value).strip().lower() in ("true", "1", "yes")

    def get_json(self, name: str) -> Any:
        """A parameter PTB sends JSON-encoded inside a form (reply_markup, entities, ...)."""
        value = self.values.get(name)
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(f"can't parse {name} JSON object") from None


@dataclass
class _PendingUpdate:
    update_id: int
    kind: str
    payload: JSON
    redelivery: bool = False


class BotApiSimulator:
    """A loopback Telegram Bot API server plus an in-process API to act as people."""

    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",
        bot_username: str = "jiannuo_bot",
        rate_limits: RateLimits | None = None,
        *,
        bot_first_name: str = "践诺",
        clock: Callable[[], float] = time.monotonic,
        first_update_id: int = 1,
    ) -> None:
        """Create a stopped simulator; ``await start()`` or use ``async with``.

        ``first_update_id``: Telegram's update ids only grow, across restarts too; a
        simulator that a bot with a kept database meets again must not start from 1."""
        bot_id_text = token.split(":", 1)[0]
        if not bot_id_text.isdigit():
            raise ValueError("a bot token looks like '123456:SECRET'")
        self.token = token
        self.bot_username = bot_username
        self.rate_limits = rate_limits if rate_limits is not None else RateLimits()
        self.clock = clock
        self.bot_user = SimUser(
            id=int(bot_id_text),
            first_name=bot_first_name,
            username=bot_username,
            language_code=None,
            is_bot=True,
        )
        self.state = SimState(self.bot_user)
        self.stats = SimStats()
        self.chat_actions: list[tuple[int, str]] = []
        self.port = 0
        self._request_log: deque[RequestRecord] = deque(maxlen=50_000)
        self._event = asyncio.Event()
        self._pending: list[_PendingUpdate] = []
        self._delivered: dict[int, _PendingUpdate] = {}
        self._next_update_id = max(1, first_update_id)
        # Called with each offset a getUpdates confirms, before it is answered (a test can
        # act at the very moment the bot tells Telegram that updates arrived).
        self.on_confirm: Callable[[int], None] | None = None
        # Called with the method's name once a request has taken effect, before it is
        # answered (a test may kill the bot there: done at Telegram, unknown to the bot).
        self.on_request: Callable[[str], None] | None = None
        self._allowed_updates: frozenset[str] = DEFAULT_UPDATE_TYPES
        self._poll_generation = 0
        self._faults: list[Fault] = []
        self._rng = random.Random(0)
        self._p429 = 0.0
        self._p5xx = 0.0
        self._latency = 0.0
        self._buckets: dict[object, TokenBucket] = {}
        self._runner: web.AppRunner | None = None
        self._stopping = False
        self._route_setups: list[Callable[[web.Application], None]] = []
        self._listeners: list[Callable[[], None]] = []
        self._methods: dict[str, Handler] = {
            "getme": self._get_me,
            "logout": self._true,
            "close": self._true,
            "deletewebhook": self._delete_webhook,
            "setwebhook": self._set_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "getupdates": self._get_updates,
            "sendmessage": self._send_message,
            "editmessagetext": self._edit_message_text,
            "editmessagecaption": self._edit_message_caption,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "deletemessage": self._delete_message,
            "answercallbackquery": self._answer_callback_query,
            "sendpoll": self._send_poll,
            "stoppoll": self._stop_poll,
            "senddocument": self._send_document,
            "sendphoto": self._send_photo,
            "getfile": self._get_file,
            "setmycommands": self._set_my_commands,
            "getmycommands": self._get_my_commands,
            "deletemycommands": self._delete_my_commands,
            "setchatmenubutton": self._set_chat_menu_button,
            "getchatmenubutton": self._get_chat_menu_button,
            "getchat": self._get_chat,
            "getchatmember": self._get_chat_member,
            "getchatmembercount": self._get_chat_member_count,
            "sendchataction": self._send_chat_action,
            "pinchatmessage": self._pin_chat_message,
            "unpinchatmessage": self._unpin_chat_message,
            "setmydescription": self._true,
            "setmyshortdescription": self._true,
            "setmyname": self._true,
        }

    # ------------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        """The ``base_url`` to give PTB's ``Bot`` (PTB appends the token and method)."""
        return f"http://{LOOPBACK}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """The ``base_file_url`` to give PTB's ``Bot``."""
        return f"http://{LOOPBACK}:{self.port}/file/bot"

    @property
    def root_url(self) -> str:
        """The server's own address (extra routes mounted with ``add_routes`` live under it)."""
        return f"http://{LOOPBACK}:{self.port}"

    def add_routes(self, setup: Callable[[web.Application], None]) -> None:
        """Mount extra routes on the simulator's own app and port; call before ``start``."""
        if self._runner is not None:
            raise SimError("add routes before the simulator starts")
        self._route_setups.append(setup)

    def add_listener(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` (synchronously, in the event loop) after every change."""
        self._listeners.append(callback)

    def remove_listener(self, callback: Callable[[], None]) -> None:
        """Stop calling a listener added with ``add_listener``."""
        with contextlib.suppress(ValueError):
            self._listeners.remove(callback)

    def reset(self) -> None:
        """Forget every user, chat, message, file, poll, command and pending update.

        Meant for when no bot is polling (the playground stops its bot first). Update ids keep
        counting up, so a bot that remembers old ids never mistakes a new update for one.
        """
        self.state = SimState(self.bot_user)
        self.chat_actions.clear()
        self._pending.clear()
        self._delivered.clear()
        self._allowed_updates = DEFAULT_UPDATE_TYPES
        self._faults.clear()
        self._p429 = self._p5xx = 0.0
        self._buckets.clear()
        self._bump()

    @property
    def request_log(self) -> list[RequestRecord]:
        """Every request answered so far (method, chat_id, status, monotonic time)."""
        return list(self._request_log)

    async def start(self, host: str = LOOPBACK, port: int = 0) -> None:
        """Listen on 127.0.0.1 (port 0: a free port, then read ``self.port``)."""
        if host != LOOPBACK:
            raise ValueError("the simulator only listens on 127.0.0.1")
        if self._runner is not None:
            raise SimError("the simulator is already running")
        self._stopping = False
        app = web.Application(client_max_size=64 * 1024 * 1024)
        for setup in self._route_setups:
            setup(app)  # before the catch-all, so their paths win
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((LOOPBACK, port))
            site = web.SockSite(runner, sock)
            await site.start()
        except BaseException:
            sock.close()
            await runner.cleanup()
            raise
        self.port = int(sock.getsockname()[1])
        self._runner = runner
        logger.info("Bot API simulator listening on %s", self.base_url)

    async def stop(self) -> None:
        """Stop listening; pending long polls return at once."""
        if self._runner is None:
            return
        self._stopping = True
        self._bump()
        runner, self._runner = self._runner, None
        await runner.cleanup()
        logger.info("Bot API simulator stopped")

    async def __aenter__(self) -> BotApiSimulator:
        """Start on a free port."""
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop."""
        await self.stop()

    # ------------------------------------------------------------------ faults and limits

    def inject_fault(
        self,
        method: str | None,
        status: int,
        count: int = 1,
        retry_after: int = 1,
        chat_id: int | None = None,
    ) -> None:
        """Fail the next ``count`` calls of ``method`` (None: any sending method), unperformed;
        with ``chat_id``, only the calls to that chat."""
        if count < 1:
            raise SimError("count must be at least 1")
        name = method.lower() if method is not None else None
        if name is not None and name not in self._methods:
            raise SimError(f"unknown method {method!r}")
        self._faults.append(Fault(name, status, count, retry_after, chat_id))

    def clear_faults(self) -> None:
        """Forget injected faults and random fault rates."""
        self._faults.clear()
        self._p429 = self._p5xx = 0.0

    def set_fault_rates(self, p429: float = 0.0, p5xx: float = 0.0, seed: int = 0) -> None:
        """Fail sending methods at random: 429 with probability p429, 500/502 with p5xx."""
        if p429 < 0 or p5xx < 0 or p429 + p5xx > 1:
            raise SimError("probabilities must be in [0, 1] and add up to at most 1")
        self._p429, self._p5xx = p429, p5xx
        self._rng = random.Random(seed)

    def set_latency(self, seconds: float) -> None:
        """Delay every API answer by this many seconds."""
        self._latency = max(0.0, seconds)

    def _fault_for(self, method: str, sending: bool, chat_key: Any) -> ApiError | None:
        for fault in self._faults:
            if fault.chat_id is not None and fault.chat_id != _as_chat_id(chat_key):
                continue
            if fault.method == method or (fault.method is None and sending):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return self._fault_error(fault.status, fault.retry_after)
        if sending and (self._p429 or self._p5xx):
            roll = self._rng.random()
            if roll < self._p429:
                return self._fault_error(429, 1)
            if roll < self._p429 + self._p5xx:
                return self._fault_error(self._rng.choice((500, 502)), 1)
        return None

    @staticmethod
    def _fault_error(status: int, retry_after: int) -> ApiError:
        if status == 429:
            seconds = max(1, retry_after)
            return ApiError(429, f"Too Many Requests: retry after {seconds}", seconds)
        description = _FAULT_DESCRIPTIONS.get(status)
        if description is None:
            try:
                phrase = HTTPStatus(status).phrase
            except ValueError:
                phrase = "Error"
            description = f"{phrase}: injected fault"
        return ApiError(status, description)

    def _bucket(self, key: object, capacity: float, rate: float, now: float) -> TokenBucket:
        bucket = self._buckets.get(key)
        if bucket is None or bucket.capacity != capacity or bucket.rate != rate:
            bucket = TokenBucket.full(capacity, rate, now)
            self._buckets[key] = bucket
        return bucket

    def _take_tokens(self, chat_key: Any) -> list[TokenBucket]:
        """Take one token from the global and the chat's bucket, or raise 429."""
        limits = self.rate_limits
        if not limits.enabled:
            return []
        now = self.clock()
        buckets = [self._bucket("global", limits.global_per_second, limits.global_per_second, now)]
        chat_id = _as_chat_id(chat_key)
        if chat_id is not None:
            chat = self.state.chats.get(chat_id)
            private = chat.is_private if chat is not None else chat_id > 0
            if private:
                bucket = self._bucket(
                    ("chat", chat_id), limits.private_burst, limits.private_per_second, now
                )
            else:
                bucket = self._bucket(
                    ("chat", chat_id), limits.group_burst, limits.group_per_minute / 60.0, now
                )
            buckets.append(bucket)
        wait = max(bucket.wait_time(now) for bucket in buckets)
        if wait > 0:
            seconds = retry_after_seconds(wait)
            raise ApiError(429, f"Too Many Requests: retry after {seconds}", seconds)
        for bucket in buckets:
            bucket.take(now)
        return buckets

    # ------------------------------------------------------------------ HTTP

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if path.startswith("/file/bot"):
            return await self._download(path.removeprefix("/file/bot"))
        if not path.startswith("/bot") or path.count("/") < 2:
            return self._json(404, {"ok": False, "error_code": 404, "description": "Not Found"})
        token, _, method = path.removeprefix("/bot").partition("/")
        if self._latency:
            await asyncio.sleep(self._latency)
        if token != self.token:
            return self._answer(method, None, ApiError(401, "Unauthorized"))
        name = method.lower()
        handler = self._methods.get(name)
        if handler is None:
            return self._answer(method, None, ApiError(404, "Not Found"))
        try:
            params = await self._read_params(request)
        except ApiError as err:
            return self._answer(method, None, err)
        except ConnectionResetError:  # the client went away mid-request (a bot stopping)
            return web.Response(status=499)
        chat_key = params.raw("chat_id")
        sending = _is_sending(name)
        taken: list[TokenBucket] = []
        try:
            fault = self._fault_for(name, sending, chat_key)
            if fault is not None:
                self.stats.faults_injected += 1
                raise fault
            if sending:
                taken = self._take_tokens(chat_key)
            result = await handler(params)
        except ApiError as err:
            now = self.clock()
            for bucket in taken:
                bucket.give_back(now)
            return self._answer(method, chat_key, err)
        except Exception:
            logger.exception("simulator failed on %s", method)
            return self._answer(method, chat_key, ApiError(500, "Internal Server Error"))
        if self.on_request is not None:
            self.on_request(name)
        return self._answer(method, chat_key, None, result)

    def _answer(
        self, method: str, chat_key: Any, error: ApiError | None, result: Any = None
    ) -> web.Response:
        status = 200 if error is None else error.status
        self.stats.requests += 1
        if status == 429:
            self.stats.served_429 += 1
        elif status >= 500:
            self.stats.served_5xx += 1
        elif status >= 400:
            self.stats.served_4xx += 1
        self._request_log.append(
            RequestRecord(
                method,
                _log_chat(chat_key),
                status,
                self.clock(),
                None if error is None else error.description,
            )
        )
        if error is not None:
            logger.debug("%s -> %s %s", method, status, error.description)
            return self._json(status, error.to_json())
        return self._json(200, {"ok": True, "result": result})

    @staticmethod
    def _json(status: int, body: JSON) -> web.Response:
        return web.json_response(body, status=status, dumps=_dumps)

    async def _read_params(self, request: web.Request) -> _Params:
        values: dict[str, Any] = dict(request.query)
        uploads: dict[str, _Upload] = {}
        if request.method == "POST" and request.can_read_body:
            content_type = request.content_type
            if content_type == "application/json":
                try:
                    body = await request.json()
                except ValueError:
                    raise bad_request("can't parse JSON request body") from None
                if not isinstance(body, dict):
                    raise bad_request("the request body must be a JSON object")
                values.update(body)
            elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        uploads[key] = _Upload(
                            data=value.file.read(),
                            filename=value.filename,
                            content_type=value.content_type,
                        )
                    else:
                        values[key] = value
        return _Params(values, uploads)

    async def _download(self, rest: str) -> web.Response:
        token, _, file_path = rest.partition("/")
        if token != self.token:
            return self._json(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
        stored = self.state.file_by_path(file_path)
        if stored is None:
            return self._json(404, {"ok": False, "error_code": 404, "description": "Not Found"})
        return web.Response(
            body=stored.data, content_type=stored.mime_type or "application/octet-stream"
        )

    # ------------------------------------------------------------------ updates

    def _bump(self) -> None:
        """Wake everything waiting for a change."""
        event, self._event = self._event, asyncio.Event()
        event.set()
        for listener in list(self._listeners):
            try:
                listener()
            except Exception:  # a listener must never break the Bot API
                logger.exception("simulator change listener failed")

    def _queue(self, kind: str, obj: JSON) -> int:
        update_id = self._next_update_id
        self._next_update_id += 1
        self._pending.append(_PendingUpdate(update_id, kind, {"update_id": update_id, kind: obj}))
        self._bump()
        return update_id

    def _confirm(self, offset: int) -> None:
        if offset < 0:
            keep = -offset
            self._pending = self._pending[-keep:]
            return
        self._pending = [
            update for update in self._pending if update.redelivery or update.update_id >= offset
        ]

    def _deliverable(self, limit: int) -> list[_PendingUpdate]:
        kept = [u for u in self._pending if u.kind in self._allowed_updates]
        self._pending = kept
        ordered = [u for u in kept if u.redelivery] + [u for u in kept if not u.redelivery]
        return ordered[:limit]

    async def _get_updates(self, p: _Params) -> list[JSON]:
        self._poll_generation += 1
        generation = self._poll_generation
        self._bump()  # an older long poll still waiting ends with 409 Conflict
        allowed = p.get_json("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = (
                frozenset(str(kind) for kind in allowed) if allowed else DEFAULT_UPDATE_TYPES
            )
        offset = p.get_int("offset")
        if offset:
            if self.on_confirm is not None:
                self.on_confirm(offset)
            self._confirm(offset)
        limit = min(100, max(1, p.get_int("limit") or 100))
        timeout = max(0.0, p.get_float("timeout") or 0.0)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            batch = self._deliverable(limit)
            if batch or self._stopping:
                break
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            event = self._event
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one "
                    "bot instance is running",
                )
        for update in batch:
            update.redelivery = False
            self._delivered[update.update_id] = update
        return [update.payload for update in batch]

    async def _delete_webhook(self, p: _Params) -> bool:
        if p.get_bool("drop_pending_updates"):
            self._pending.clear()
        return True

    async def _set_webhook(self, p: _Params) -> bool:
        raise bad_request("webhooks are not supported by the simulator; use getUpdates")

    async def _get_webhook_info(self, p: _Params) -> JSON:
        return {
            "url": "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }

    # ------------------------------------------------------------------ Bot API methods

    async def _true(self, p: _Params) -> bool:
        return True

    async def _get_me(self, p: _Params) -> JSON:
        data = self.bot_user.to_json()
        data.update(
            {
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
                "can_connect_to_business": False,
                "has_main_web_app": False,
            }
        )
        return data

    def _sendable_chat(self, p: _Params) -> SimChat:
        """The target chat of a sending method, refused as Telegram does."""
        raw = p.raw("chat_id")
        if raw is None or raw == "":
            raise bad_request("chat_id is empty")
        chat = self.state.api_chat(raw)
        if chat.is_private:
            if self.state.users[chat.id].blocked_bot:
                raise ApiError(403, "Forbidden: bot was blocked by the user")
        elif not chat.bot_is_member:
            kind = "supergroup" if chat.type == "supergroup" else "group"
            raise ApiError(403, f"Forbidden: bot is not a member of the {kind} chat")
        return chat

    def _reply_to(self, p: _Params, chat: SimChat) -> int | None:
        params = p.get_json("reply_parameters")
        target: int | None = None
        allow_missing = p.get_bool("allow_sending_without_reply")
        if isinstance(params, dict) and params.get("message_id") is not None:
            target = int(params["message_id"])
            allow_missing = bool(params.get("allow_sending_without_reply", allow_missing))
        elif p.get_int("reply_to_message_id") is not None:
            target = p.get_int("reply_to_message_id")
        if target is None:
            return None
        replied = self.state.message(chat.id, target)
        if replied is None or replied.deleted:
            if allow_missing:
                return None
            raise bad_request("message to be replied not found")
        return target

    def _new_bot_message(self, chat: SimChat, p: _Params) -> SimMessage:
        reply_to = self._reply_to(p, chat)
        message = self.state.new_message(chat.id, from_bot=True, from_user_id=None)
        message.reply_to_message_id = reply_to
        return message

    async def _send_message(self, p: _Params) -> JSON:
        text, entities = format_text(
            p.get_str("text") or "", p.get_str("parse_mode"), p.get_json("entities")
        )
        check_text(text)
        markup, buttons = parse_reply_markup(p.get_json("reply_markup"))
        chat = self._sendable_chat(p)
        message = self._new_bot_message(chat, p)
        message.text, message.entities = text, entities
        message.reply_markup, message.buttons = markup, buttons
        self._bump()
        return self.state.message_json(message)

    def _editable(self, p: _Params) -> SimMessage:
        if p.raw("inline_message_id") is not None:
            raise bad_request("message to edit not found")
        chat = self._sendable_chat(p)
        message_id = p.get_int("message_id")
        message = self.state.message(chat.id, message_id or 0)
        if message is None or message.deleted:
            raise bad_request("message to edit not found")
        if not message.from_bot:
            raise bad_request("message can't be edited")
        return message

    def _apply_edit(
        self,
        message: SimMessage,
        *,
        text: tuple[str, list[JSON]] | None = None,
        caption: tuple[str, list[JSON]] | None = None,
        markup: tuple[JSON | None, list[list[SimButton]]],
    ) -> None:
        same_text = text is None or (text[0], text[1]) == (message.text, message.entities)
        same_caption = caption is None or (caption[0], caption[1]) == (
            message.caption,
            message.caption_entities,
        )
        if same_text and same_caption and markup[1] == message.buttons:
            raise bad_request(NOT_MODIFIED.removeprefix("Bad Request: "))
        message.revisions.append(
            SimRevision(message.text, message.caption, message.buttons, message.edit_date)
        )
        if text is not None and text[0] != message.text and message.text is not None:
            message.history.append(message.text)
        if caption is not None and caption[0] != message.caption and message.caption is not None:
            message.history.append(message.caption)
        if text is not None:
            message.text, message.entities = text
        if caption is not None:
            message.caption = caption[0] or None
            message.caption_entities = caption[1] if caption[0] else []
        message.reply_markup, message.buttons = markup
        message.edits += 1
        message.edit_date = now_unix()
        self._bump()

    async def _edit_message_text(self, p: _Params) -> JSON:
        text = format_text(
            p.get_str("text") or "", p.get_str("parse_mode"), p.get_json("entities")
        )
        check_text(text[0])
        markup = parse_reply_markup(p.get_json("reply_markup"))
        message = self._editable(p)
        if message.text is None:
            raise bad_request("there is no text in the message to edit")
        self._apply_edit(message, text=text, markup=markup)
        return self.state.message_json(message)

    async def _edit_message_caption(self, p: _Params) -> JSON:
        caption = format_text(
            p.get_str("caption") or "", p.get_str("parse_mode"), p.get_json("caption_entities")
        )
        check_caption(caption[0])
        markup = parse_reply_markup(p.get_json("reply_markup"))
        message = self._editable(p)
        if message.photo is None and message.document is None:
            raise bad_request("there is no caption in the message to edit")
        self._apply_edit(message, caption=caption, markup=markup)
        return self.state.message_json(message)

    async def _edit_message_reply_markup(self, p: _Params) -> JSON:
        markup = parse_reply_markup(p.get_json("reply_markup"))
        message = self._editable(p)
        self._apply_edit(message, markup=markup)
        return self.state.message_json(message)

    async def _delete_message(self, p: _Params) -> bool:
        chat = self.state.api_chat(p.raw("chat_id"))
        message = self.state.message(chat.id, p.get_int("message_id") or 0)
        if message is None or message.deleted:
            raise bad_request("message to delete not found")
        message.deleted = True
        self._bump()
        return True

    async def _answer_callback_query(self, p: _Params) -> bool:
        text = p.get_str("text")
        if text is not None and len(text) > MAX_CALLBACK_ANSWER:
            raise bad_request("MESSAGE_TOO_LONG")
        query = self.state.callback_queries.get(p.get_str("callback_query_id") or "")
        if query is None or query.answer is not None:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        query.answer = SimCallbackAnswer(
            text=text or None, show_alert=p.get_bool("show_alert"), url=p.get_str("url")
        )
        self._bump()
        return True

    async def _send_poll(self, p: _Params) -> JSON:
        question = p.get_str("question") or ""
        check_poll_question(question)
        options = parse_poll_options(p.get_json("options"))
        markup, buttons = parse_reply_markup(p.get_json("reply_markup"))
        kind = p.get_str("type") or "regular"
        if kind not in ("regular", "quiz"):
            raise bad_request("poll type is invalid")
        chat = self._sendable_chat(p)
        message = self._new_bot_message(chat, p)
        poll = SimPoll(
            id=str(5_000_000_000_000_000_000 + self.state.next_serial()),
            chat_id=chat.id,
            message_id=message.message_id,
            question=question,
            options=options,
            is_anonymous=p.get_bool("is_anonymous", default=True),
            type=kind,
            allows_multiple_answers=p.get_bool("allows_multiple_answers"),
            is_closed=p.get_bool("is_closed"),
        )
        self.state.polls[poll.id] = poll
        message.poll = poll
        message.reply_markup, message.buttons = markup, buttons
        self._bump()
        return self.state.message_json(message)

    async def _stop_poll(self, p: _Params) -> JSON:
        markup, buttons = parse_reply_markup(p.get_json("reply_markup"))
        chat = self._sendable_chat(p)
        message = self.state.message(chat.id, p.get_int("message_id") or 0)
        if message is None or message.deleted:
            raise bad_request("message with poll to stop not found")
        if message.poll is None:
            raise bad_request("message is not a poll")
        if not message.from_bot:
            raise bad_request("poll can't be stopped")
        if message.poll.is_closed:
            raise bad_request("poll has already been closed")
        message.poll.is_closed = True
        message.reply_markup, message.buttons = markup, buttons
        self._queue("poll", message.poll.to_json())
        return message.poll.to_json()

    def _media(self, p: _Params, field: str, kind: str) -> SimFile:
        upload = p.uploads.get(field)
        value = p.raw(field)
        if upload is None and isinstance(value, str) and value.startswith("attach://"):
            upload = p.uploads.get(value.removeprefix("attach://"))
        if upload is not None:
            mime = upload.content_type
            if not mime or mime == "application/octet-stream":
                mime = mimetypes.guess_type(upload.filename or "")[0] or mime
            if kind == "photo":
                mime = None
            return self.state.store_file(kind, upload.data, upload.filename, mime)
        if not isinstance(value, str) or not value:
            raise bad_request(f"there is no {kind} in the request")
        return self.state.existing_file(value, kind)

    async def _send_media(self, p: _Params, field: str, kind: str) -> JSON:
        caption = format_text(
            p.get_str("caption") or "", p.get_str("parse_mode"), p.get_json("caption_entities")
        )
        check_caption(caption[0])
        markup, buttons = parse_reply_markup(p.get_json("reply_markup"))
        chat = self._sendable_chat(p)
        stored = self._media(p, field, kind)
        message = self._new_bot_message(chat, p)
        if kind == "photo":
            message.photo = stored
        else:
            message.document = stored
        if caption[0]:
            message.caption, message.caption_entities = caption
        message.reply_markup, message.buttons = markup, buttons
        self._bump()
        return self.state.message_json(message)

    async def _send_photo(self, p: _Params) -> JSON:
        return await self._send_media(p, "photo", "photo")

    async def _send_document(self, p: _Params) -> JSON:
        return await self._send_media(p, "document", "document")

    async def _get_file(self, p: _Params) -> JSON:
        stored = self.state.files.get(p.get_str("file_id") or "")
        if stored is None:
            raise bad_request("invalid file_id")
        if len(stored.data) > MAX_FILE_SIZE:
            raise bad_request("file is too big")
        return stored.file_json()

    async def _set_my_commands(self, p: _Params) -> bool:
        commands = parse_commands(p.get_json("commands"))
        key = commands_key(p.get_json("scope"), p.get_str("language_code"))
        if commands:
            self.state.commands[key] = commands
        else:
            self.state.commands.pop(key, None)
        self._bump()
        return True

    async def _get_my_commands(self, p: _Params) -> list[JSON]:
        key = commands_key(p.get_json("scope"), p.get_str("language_code"))
        return [
            {"command": command, "description": description}
            for command, description in self.state.commands.get(key, [])
        ]

    async def _delete_my_commands(self, p: _Params) -> bool:
        self.state.commands.pop(
            commands_key(p.get_json("scope"), p.get_str("language_code")), None
        )
        self._bump()
        return True

    async def _set_chat_menu_button(self, p: _Params) -> bool:
        button = p.get_json("menu_button")
        if button is not None and (not isinstance(button, dict) or "type" not in button):
            raise bad_request("can't parse menu button JSON object")
        if p.raw("chat_id") is None:
            self.state.default_menu_button = button or {"type": "default"}
        else:
            chat = self.state.api_chat(p.raw("chat_id"))
            if not chat.is_private:
                raise bad_request("menu button can be changed only in private chats")
            chat.menu_button = button
        self._bump()
        return True

    async def _get_chat_menu_button(self, p: _Params) -> JSON:
        if p.raw("chat_id") is None:
            return self.state.default_menu_button
        chat = self.state.api_chat(p.raw("chat_id"))
        return chat.menu_button or self.state.default_menu_button

    async def _get_chat(self, p: _Params) -> JSON:
        return self.state.chat_full_json(self.state.api_chat(p.raw("chat_id")))

    async def _get_chat_member(self, p: _Params) -> JSON:
        chat = self.state.api_chat(p.raw("chat_id"))
        user_id = p.get_int("user_id")
        if user_id is None or (user_id not in self.state.users and user_id != self.bot_user.id):
            raise bad_request("user not found")
        return self.state.member_json(chat, user_id)

    async def _get_chat_member_count(self, p: _Params) -> int:
        chat = self.state.api_chat(p.raw("chat_id"))
        if chat.is_private:
            return 2
        return len(chat.member_ids) + (1 if chat.bot_is_member else 0)

    async def _send_chat_action(self, p: _Params) -> bool:
        chat = self._sendable_chat(p)
        action = p.get_str("action") or ""
        if not action:
            raise bad_request("action is empty")
        self.chat_actions.append((chat.id, action))
        return True

    async def _pin_chat_message(self, p: _Params) -> bool:
        chat = self._sendable_chat(p)
        message = self.state.message(chat.id, p.get_int("message_id") or 0)
        if message is None or message.deleted:
            raise bad_request("message to pin not found")
        message.pinned = True
        if message.message_id in chat.pinned_message_ids:
            chat.pinned_message_ids.remove(message.message_id)
        chat.pinned_message_ids.append(message.message_id)
        self._bump()
        return True

    async def _unpin_chat_message(self, p: _Params) -> bool:
        chat = self._sendable_chat(p)
        message_id = p.get_int("message_id")
        if message_id is None and chat.pinned_message_ids:
            message_id = chat.pinned_message_ids[-1]
        if message_id is None or message_id not in chat.pinned_message_ids:
            raise bad_request("message to unpin not found")
        chat.pinned_message_ids.remove(message_id)
        message = self.state.message(chat.id, message_id)
        if message is not None:
            message.pinned = False
        self._bump()
        return True

    # ------------------------------------------------------------------ people: setup

    def add_user(
        self,
        user_id: int,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "zh-hans",
    ) -> SimUser:
        """Add a person; their private chat with the bot has the same id."""
        user = SimUser(
            id=user_id,
            first_name=first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
        )
        self.state.add_user(user)
        self._bump()
        return user

    def add_group(
        self,
        chat_id: int,
        title: str,
        member_ids: Iterable[int],
        *,
        admin_ids: Iterable[int] = (),
        owner_id: int | None = None,
        bot_is_member: bool = False,
    ) -> SimChat:
        """Add a group (negative id; -100… ids: supergroup); the bot joins by add_bot_to_group."""
        members = list(member_ids)
        chat = SimChat(
            id=chat_id,
            type="supergroup" if chat_id <= -1_000_000_000_000 else "group",
            title=title,
            member_ids=members,
            admin_ids=set(admin_ids),
            owner_id=owner_id,
            bot_is_member=bot_is_member,
        )
        for extra in [*chat.admin_ids, *([owner_id] if owner_id is not None else [])]:
            if extra not in members:
                members.append(extra)
        self.state.add_chat(chat)
        self._bump()
        return chat

    def add_member(self, chat_id: int, user_id: int) -> None:
        """Make a user a member of a group."""
        chat = self._group(chat_id)
        self.state.user(user_id)
        if user_id not in chat.member_ids:
            chat.member_ids.append(user_id)
        self._bump()

    def _group(self, chat_id: int) -> SimChat:
        chat = self.state.sim_chat(chat_id)
        if chat.is_private:
            raise SimError(f"chat {chat_id} is a private chat, not a group")
        return chat

    def _member_update(self, chat: SimChat, by_user_id: int, old: str, new: str) -> int:
        def member(status: str) -> JSON:
            data: JSON = {"status": status, "user": self.bot_user.to_json()}
            if status == "kicked":
                data["until_date"] = 0  # banned forever
            return data

        return self._queue(
            "my_chat_member",
            {
                "chat": self.state.chat_json(chat),
                "from": self.state.user_json(by_user_id),
                "date": now_unix(),
                "old_chat_member": member(old),
                "new_chat_member": member(new),
            },
        )

    def add_bot_to_group(self, chat_id: int, by_user_id: int) -> int:
        """A member adds the bot to a group: my_chat_member (left → member); returns update_id."""
        chat = self._group(chat_id)
        if by_user_id not in chat.member_ids:
            raise SimError(f"user {by_user_id} is not a member of {chat_id}")
        if chat.bot_is_member:
            raise SimError(f"the bot is already a member of {chat_id}")
        chat.bot_is_member = True
        return self._member_update(chat, by_user_id, "left", "member")

    def remove_bot_from_group(self, chat_id: int, by_user_id: int) -> int:
        """A member removes the bot: my_chat_member (member → left); returns update_id."""
        chat = self._group(chat_id)
        if not chat.bot_is_member:
            raise SimError(f"the bot is not a member of {chat_id}")
        chat.bot_is_member = False
        return self._member_update(chat, by_user_id, "member", "left")

    def block_bot(self, user_id: int, *, notify: bool = True) -> None:
        """The user blocks the bot: sends to them get 403; my_chat_member (member → kicked)."""
        user = self.state.user(user_id)
        if user.blocked_bot:
            return
        user.blocked_bot = True
        if notify:
            self._member_update(self.state.chats[user_id], user_id, "member", "kicked")
        self._bump()

    def unblock_bot(self, user_id: int, *, notify: bool = True) -> None:
        """The user unblocks the bot: my_chat_member (kicked → member)."""
        user = self.state.user(user_id)
        if not user.blocked_bot:
            return
        user.blocked_bot = False
        if notify:
            self._member_update(self.state.chats[user_id], user_id, "kicked", "member")
        self._bump()

    # ------------------------------------------------------------------ people: acting

    def _user_message(
        self, user_id: int, chat_id: int | None, reply_to: int | None = None
    ) -> tuple[SimChat, SimMessage]:
        user = self.state.user(user_id)
        chat = self.state.sim_chat(user_id if chat_id is None else chat_id)
        if chat.is_private:
            if chat.id != user_id:
                raise SimError(f"user {user_id} cannot write in {chat.id}'s private chat")
            if user.blocked_bot:
                raise SimError(f"user {user_id} blocked the bot; unblock_bot first")
        elif user_id not in chat.member_ids:
            raise SimError(f"user {user_id} is not a member of {chat.id}")
        if reply_to is not None and self.state.message(chat.id, reply_to) is None:
            raise SimError(f"no message {reply_to} in chat {chat.id} to reply to")
        message = self.state.new_message(chat.id, from_bot=False, from_user_id=user_id)
        message.reply_to_message_id = reply_to
        return chat, message

    def _deliver(self, chat: SimChat, message: SimMessage) -> None:
        if chat.is_private or chat.bot_is_member:
            self._queue("message", self.state.message_json(message))
        else:
            logger.info("chat %s: the bot is not a member, message not delivered", chat.id)
            self._bump()

    def send_text(
        self, user_id: int, text: str, chat_id: int | None = None, *, reply_to: int | None = None
    ) -> SimMessage:
        """The user sends text (a leading /command gets a bot_command entity)."""
        if not text:
            raise SimError("empty text")
        chat, message = self._user_message(user_id, chat_id, reply_to)
        message.text = text
        message.entities = command_entities(text)
        self._deliver(chat, message)
        return message

    def send_contact(
        self,
        user_id: int,
        phone_number: str,
        *,
        first_name: str | None = None,
        chat_id: int | None = None,
        contact_user_id: int | None = None,
    ) -> SimMessage:
        """The user shares their own contact (as a request_contact button does); with
        ``contact_user_id``, someone else's contact card (forwarded from the address book)."""
        user = self.state.user(user_id)
        chat, message = self._user_message(user_id, chat_id)
        message.contact = {
            "phone_number": phone_number,
            "first_name": first_name or user.first_name,
            "user_id": user_id if contact_user_id is None else contact_user_id,
        }
        if user.last_name and first_name is None:
            message.contact["last_name"] = user.last_name
        self._deliver(chat, message)
        return message

    def send_sticker(
        self, user_id: int, emoji: str = "👍", chat_id: int | None = None
    ) -> SimMessage:
        """The user sends a sticker."""
        chat, message = self._user_message(user_id, chat_id)
        serial = self.state.next_serial()
        message.sticker = {
            "file_id": f"sticker-{serial}",
            "file_unique_id": f"s{serial}",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
        }
        self._deliver(chat, message)
        return message

    def send_location(
        self, user_id: int, latitude: float, longitude: float, chat_id: int | None = None
    ) -> SimMessage:
        """The user shares a location."""
        chat, message = self._user_message(user_id, chat_id)
        message.location = {"latitude": latitude, "longitude": longitude}
        self._deliver(chat, message)
        return message

    def send_photo(
        self,
        user_id: int,
        data: bytes,
        filename: str = "photo.jpg",
        caption: str | None = None,
        chat_id: int | None = None,
        *,
        file_size: int | None = None,
    ) -> SimMessage:
        """The user sends a photo (``file_size``: padded to that many bytes, e.g. an oversized
        photo for a limit check)."""
        if file_size is not None and file_size > len(data):
            data = data + bytes(file_size - len(data))
        chat, message = self._user_message(user_id, chat_id)
        message.photo = self.state.store_file("photo", data, filename, None)
        message.caption = caption
        self._deliver(chat, message)
        return message

    def send_document(
        self,
        user_id: int,
        data: bytes,
        filename: str,
        caption: str | None = None,
        chat_id: int | None = None,
        *,
        mime_type: str | None = None,
    ) -> SimMessage:
        """The user sends a file (e.g. an .xlsx roster)."""
        chat, message = self._user_message(user_id, chat_id)
        mime = mime_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        message.document = self.state.store_file("document", data, filename, mime)
        message.caption = caption
        self._deliver(chat, message)
        return message

    def tap(self, user_id: int, chat_id: int, message_id: int, callback_data: str) -> str:
        """The user taps an inline button of a message's current markup; returns the query id."""
        return self._tap(user_id, chat_id, message_id, callback_data, forged=False)

    def tap_forged(self, user_id: int, chat_id: int, message_id: int, callback_data: str) -> str:
        """A tampered client sends callback data that no button of the message carries."""
        return self._tap(user_id, chat_id, message_id, callback_data, forged=True)

    def _tap(
        self, user_id: int, chat_id: int, message_id: int, callback_data: str, *, forged: bool
    ) -> str:
        user = self.state.user(user_id)
        chat = self.state.sim_chat(chat_id)
        if chat.is_private and chat.id != user_id:
            raise SimError(f"user {user_id} cannot see {chat.id}'s private chat")
        if not chat.is_private and user_id not in chat.member_ids:
            raise SimError(f"user {user_id} is not a member of {chat.id}")
        if chat.is_private and user.blocked_bot:
            raise SimError(f"user {user_id} blocked the bot")
        message = self.state.message(chat_id, message_id)
        if message is None or message.deleted:
            raise SimError(f"no message {message_id} in chat {chat_id}")
        if not forged and not message.has_callback(callback_data):
            raise SimError(
                f"message {message_id} has no button with callback_data {callback_data!r} "
                f"now; its buttons: {[(b.text, b.callback_data) for b in message.iter_buttons()]}"
            )
        query = SimCallbackQuery(
            id=str(4_000_000_000_000_000_000 + self.state.next_serial()),
            user_id=user_id,
            chat_id=chat_id,
            message_id=message_id,
            data=callback_data,
        )
        self.state.callback_queries[query.id] = query
        self._queue(
            "callback_query",
            {
                "id": query.id,
                "from": user.to_json(),
                "message": self.state.message_json(message),
                "chat_instance": self.state.chat_instance(chat_id),
                "data": callback_data,
            },
        )
        return query.id

    def tap_button(self, user_id: int, chat_id: int, text: str) -> str:
        """Tap the button labelled ``text`` (else containing it) on the newest message with one."""
        candidates = [m for m in reversed(self.state.chat_messages(chat_id)) if m.from_bot]
        candidates = [m for m in candidates if not m.deleted]
        for matches in (lambda label: label == text, lambda label: text in label):
            for message in candidates:
                for button in message.iter_buttons():
                    if not matches(button.text):
                        continue
                    if button.callback_data is None:
                        raise SimError(f"button {button.text!r} is not a callback button")
                    return self.tap(user_id, chat_id, message.message_id, button.callback_data)
        labels = [m.button_labels() for m in candidates[:5]]
        raise SimError(f"no bot message in {chat_id} has a button {text!r}; newest: {labels}")

    async def wait_callback_answer(
        self,
        callback_query_id: str,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> SimCallbackAnswer:
        """Wait until the bot answers a tap (answerCallbackQuery)."""
        query = self.state.callback_queries.get(callback_query_id)
        if query is None:
            raise SimError(f"unknown callback query {callback_query_id}")

        def answered() -> SimCallbackAnswer | None:
            return query.answer

        return await self._wait_for(
            answered, timeout, f"an answer to callback query {callback_query_id}"
        )

    def callback_answer(self, callback_query_id: str) -> SimCallbackAnswer | None:
        """The bot's answer to a tap so far (None: not answered yet)."""
        query = self.state.callback_queries.get(callback_query_id)
        if query is None:
            raise SimError(f"unknown callback query {callback_query_id}")
        return query.answer

    def vote(self, user_id: int, poll_id: str, option_ids: Iterable[int]) -> None:
        """The user votes (empty option_ids: retracts); queues poll_answer (if not anonymous)."""
        user = self.state.user(user_id)
        poll = self.state.polls.get(poll_id)
        if poll is None:
            raise SimError(f"unknown poll {poll_id}")
        chat = self.state.sim_chat(poll.chat_id)
        if (
            (chat.is_private and chat.id != user_id)
            or (not chat.is_private and user_id not in chat.member_ids)
        ) and user_id not in poll.shared_with:
            raise SimError(f"user {user_id} cannot see poll {poll_id}")
        chosen = sorted(set(option_ids))
        if poll.is_closed:
            raise SimError(f"poll {poll_id} is closed")
        if len(chosen) > 1 and not poll.allows_multiple_answers:
            raise SimError(f"poll {poll_id} allows one answer")
        if any(option < 0 or option >= len(poll.options) for option in chosen):
            raise SimError(f"poll {poll_id} has options 0..{len(poll.options) - 1}")
        if chosen:
            poll.votes[user_id] = chosen
        else:
            poll.votes.pop(user_id, None)
        if not poll.is_anonymous:
            self._queue(
                "poll_answer",
                {
                    "poll_id": poll.id,
                    "user": user.to_json(),
                    "option_ids": chosen,
                    "option_persistent_ids": [str(option) for option in chosen],
                },
            )
        self._queue("poll", poll.to_json())

    def forward_poll(self, user_id: int, poll_id: str, to_user_id: int) -> None:
        """The user forwards a poll they can see to another user, who may then vote on it
        (Telegram keeps one poll: the answer reaches the bot with the other voter)."""
        poll = self.poll(poll_id)
        chat = self.state.sim_chat(poll.chat_id)
        if chat.is_private and chat.id != user_id and user_id not in poll.shared_with:
            raise SimError(f"user {user_id} cannot see poll {poll_id}")
        self.state.user(to_user_id)
        poll.shared_with.add(to_user_id)

    def redeliver(self, update_id: int) -> None:
        """Queue an already delivered update again, with the same update_id."""
        update = self._delivered.get(update_id)
        if update is None:
            raise SimError(f"update {update_id} was never delivered")
        if any(pending.update_id == update_id for pending in self._pending):
            self._pending = [u for u in self._pending if u.update_id != update_id]
        self._pending.insert(0, _PendingUpdate(update_id, update.kind, update.payload, True))
        self._bump()

    def newest_update_id(self) -> int:
        """The id of the newest update queued (0: none yet)."""
        return self._next_update_id - 1

    def updates_pending(self) -> int:
        """Updates queued and not yet confirmed by the bot's getUpdates offset."""
        return len(self._pending)

    def delivered_updates(self) -> list[JSON]:
        """Every update the bot has fetched, by update_id."""
        return [self._delivered[key].payload for key in sorted(self._delivered)]

    # ------------------------------------------------------------------ people: reading

    def messages(self, chat_id: int, *, include_deleted: bool = False) -> list[SimMessage]:
        """The chat's messages from both sides, in order."""
        return [m for m in self.state.chat_messages(chat_id) if include_deleted or not m.deleted]

    def bot_messages(self, chat_id: int, *, include_deleted: bool = False) -> list[SimMessage]:
        """The bot's messages in a chat, in order."""
        return [m for m in self.messages(chat_id, include_deleted=include_deleted) if m.from_bot]

    def last_bot_message(self, chat_id: int) -> SimMessage | None:
        """The bot's newest (not deleted) message in a chat."""
        messages = self.bot_messages(chat_id)
        return messages[-1] if messages else None

    def message(self, chat_id: int, message_id: int) -> SimMessage:
        """One message by id (SimError when there is none)."""
        message = self.state.message(chat_id, message_id)
        if message is None:
            raise SimError(f"no message {message_id} in chat {chat_id}")
        return message

    def poll(self, poll_id: str) -> SimPoll:
        """A poll the bot sent."""
        try:
            return self.state.polls[poll_id]
        except KeyError:
            raise SimError(f"unknown poll {poll_id}") from None

    def file_bytes(self, file_id: str) -> bytes:
        """The bytes of a stored file."""
        try:
            return self.state.files[file_id].data
        except KeyError:
            raise SimError(f"unknown file {file_id}") from None

    def commands(
        self,
        scope: str = "default",
        chat_id: int | None = None,
        language_code: str = "",
        *,
        user_id: int | None = None,
    ) -> list[tuple[str, str]]:
        """The commands the bot set for exactly this scope and language (no fallback)."""
        return list(self.state.commands.get((scope, chat_id, user_id, language_code), []))

    def effective_commands(self, chat_id: int, user_id: int) -> list[tuple[str, str]]:
        """The command menu a user sees in a chat, resolved through scopes as Telegram does.

        Private chats: chat, all_private_chats, default; groups: chat_member,
        chat_administrators, chat, all_chat_administrators, all_group_chats, default (the
        administrator scopes for administrators only). Each scope is looked up with the user's
        language first, then without a language; the first one set wins.
        """
        chat = self.state.sim_chat(chat_id)
        user = self.state.user(user_id)
        language = (user.language_code or "").split("-")[0].lower()
        if chat.is_private:
            scopes: list[tuple[str, int | None, int | None]] = [
                ("chat", chat.id, None),
                ("all_private_chats", None, None),
                ("default", None, None),
            ]
        else:
            admin = user_id in chat.admin_ids or user_id == chat.owner_id
            scopes = [("chat_member", chat.id, user_id)]
            if admin:
                scopes.append(("chat_administrators", chat.id, None))
            scopes.append(("chat", chat.id, None))
            if admin:
                scopes.append(("all_chat_administrators", None, None))
            scopes += [("all_group_chats", None, None), ("default", None, None)]
        for kind, scope_chat, scope_user in scopes:
            for code in dict.fromkeys((language, "")):
                found = self.state.commands.get((kind, scope_chat, scope_user, code))
                if found:
                    return list(found)
        return []

    def menu_button(self, chat_id: int | None = None) -> JSON:
        """The menu button a chat shows (its own, else the default one)."""
        if chat_id is None:
            return self.state.default_menu_button
        return self.state.sim_chat(chat_id).menu_button or self.state.default_menu_button

    async def wait_bot_message(
        self,
        chat_id: int,
        predicate: Callable[[SimMessage], bool] | None = None,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109
        after: int | None = None,
    ) -> SimMessage:
        """Wait for a bot message (new or edited) with id > ``after`` matching ``predicate``.

        ``after`` defaults to the chat's newest message id now, i.e. a NEW message.
        """
        self.state.sim_chat(chat_id)
        threshold = self.state.last_message_id(chat_id) if after is None else after

        def find() -> SimMessage | None:
            for message in self.state.chat_messages(chat_id):
                if (
                    message.from_bot
                    and not message.deleted
                    and message.message_id > threshold
                    and (predicate is None or predicate(message))
                ):
                    return message
            return None

        try:
            return await self._wait_for(find, timeout, f"a bot message in {chat_id}")
        except SimTimeout as err:
            recent = [(m.message_id, m.content[:80]) for m in self.bot_messages(chat_id)[-3:]]
            raise SimTimeout(f"{err}; newest bot messages there: {recent}") from None

    async def wait_until(
        self,
        cond: Callable[[], bool],
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> None:
        """Wait until ``cond()`` is true (checked after every change)."""
        await self._wait_for(lambda: True if cond() else None, timeout, "a condition")

    async def _wait_for(
        self,
        probe: Callable[[], T | None],
        timeout: float,  # noqa: ASYNC109
        what: str,
    ) -> T:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            found = probe()
            if found is not None:
                return found
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise SimTimeout(f"timed out after {timeout}s waiting for {what}")
            event = self._event
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), min(remaining, 0.5))


def _as_chat_id(raw: Any) -> int | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str):
        try:
            return int(raw)
        except ValueError:
            return None
    return None


def _log_chat(raw: Any) -> int | str | None:
    chat_id = _as_chat_id(raw)
    if chat_id is not None:
        return chat_id
    return raw if isinstance(raw, str) else None


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)
