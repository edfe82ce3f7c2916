"""The playground's web page and its small JSON API, served on the simulator's own port.

The page (``static/``) acts as the demo personas through the simulator's people API, so the
bot receives exactly the updates Telegram would send. Routes, all under ``/play/``:

    GET  /play/                                          the page
    GET  /play/api/personas                              the roster
    GET  /play/api/personas/{pid}/chats                  the persona's private chat and groups
    GET  /play/api/personas/{pid}/chats/{cid}/messages   messages, the persona's command menu
    GET  /play/api/personas/{pid}/chats/{cid}/files/{mid}  a message's photo or file
    POST /play/api/personas/{pid}/chats/{cid}/send       {"text": …, "reply_to"?: id}
    POST /play/api/personas/{pid}/chats/{cid}/tap        {"message_id": id, "data": callback}
    POST /play/api/personas/{pid}/chats/{cid}/vote       {"message_id": id, "options": [i, …]}
    POST /play/api/personas/{pid}/chats/{cid}/upload     multipart: file, caption?, kind?
    POST /play/api/reset                                 back to the seeded demo
    GET  /play/api/events                                server-sent events: what changed

Every refusal is a 4xx with ``{"ok": false, "status": …, "error": "…"}``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import mimetypes
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote, unquote

from aiohttp import BodyPartReader, web

from bot.i18n import t
from bot.playground.demo import Persona
from bot.playground.sim_state import (
    JSON,
    MAX_CAPTION,
    MAX_FILE_SIZE,
    MAX_TEXT,
    SimChat,
    SimError,
    SimFile,
    SimMessage,
    SimTimeout,
    utf16_len,
)
from bot.playground.simulator import BotApiSimulator

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
API = "/play/api"
TAP_ANSWER_WAIT = 5.0  # a Telegram client shows the button's spinner until the bot answers
KEEPALIVE_SECONDS = 15.0
COALESCE_SECONDS = 0.03  # one burst of changes (send + edit + answer) becomes one event
CHUNK = 64 * 1024
MAX_FIELD = 16 * 1024  # a caption or a kind, read from a multipart form
IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a")
LOCALES = ("zh_CN", "en")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class PlaygroundHost(Protocol):
    """What the web layer needs from the running playground."""

    sim: BotApiSimulator
    cast: list[Persona]
    resetting: bool

    def persona(self, user_id: int) -> Persona | None:
        """The demo persona with this Telegram id."""

    async def reset(self) -> None:
        """Back to the seeded demo."""


class Refusal(Exception):
    """A request the API answers with a 4xx and a clear message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def refusal_response(status: int, message: str) -> web.Response:
    """The JSON body of every refusal."""
    return web.json_response(
        {"ok": False, "status": status, "error": message}, status=status, dumps=_dumps
    )


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)


def _ok(body: JSON) -> web.Response:
    return web.json_response({"ok": True, **body}, dumps=_dumps)


class PlaygroundWeb:
    """Serves the page, the JSON API and the live event stream."""

    def __init__(self, host: PlaygroundHost) -> None:
        """Serve ``host``'s simulator and cast; mount with ``sim.add_routes(web.setup)``."""
        self.host = host
        self._tick = asyncio.Event()
        self._closing = False
        self._reset_generation = 0
        self._streams = 0
        host.sim.add_listener(self._changed)

    @property
    def sim(self) -> BotApiSimulator:
        """The simulator the page acts through."""
        return self.host.sim

    @property
    def open_streams(self) -> int:
        """How many pages are listening for live updates."""
        return self._streams

    def setup(self, app: web.Application) -> None:
        """Add the page's routes to the simulator's app."""
        router = app.router
        router.add_get("/", self._to_page)
        router.add_get("/play", self._to_page)
        router.add_get("/play/", self._page)
        router.add_static("/play/static/", STATIC_DIR, append_version=False)
        routes: list[tuple[str, str, Handler]] = [
            ("GET", "/personas", self._personas),
            ("GET", "/personas/{pid}/chats", self._chats),
            ("GET", "/personas/{pid}/chats/{cid}/messages", self._messages),
            ("GET", "/personas/{pid}/chats/{cid}/files/{mid}", self._file),
            ("POST", "/personas/{pid}/chats/{cid}/send", self._send),
            ("POST", "/personas/{pid}/chats/{cid}/tap", self._tap),
            ("POST", "/personas/{pid}/chats/{cid}/vote", self._vote),
            ("POST", "/personas/{pid}/chats/{cid}/upload", self._upload),
            ("POST", "/personas/{pid}/chats/{cid}/contact", self._contact),
            ("POST", "/reset", self._reset),
        ]
        for method, path, handler in routes:
            router.add_route(method, API + path, _guarded(self, handler))
        router.add_get(API + "/events", self._events)
        router.add_route("*", API + "/{tail:.*}", self._unknown)

    # ------------------------------------------------------------------ live updates

    def _changed(self) -> None:
        event, self._tick = self._tick, asyncio.Event()
        event.set()

    def announce_reset(self) -> None:
        """Tell every open page that the demo was reset."""
        self._reset_generation += 1
        self._changed()

    async def close(self) -> None:
        """End the live streams (the server is stopping)."""
        self._closing = True
        self._changed()
        for _ in range(50):
            if not self._streams:
                return
            await asyncio.sleep(0.01)

    def _signatures(self) -> dict[int, tuple[Any, ...]]:
        """A cheap fingerprint of every chat: it changes whenever the chat looks different."""
        state = self.sim.state
        result: dict[int, tuple[Any, ...]] = {}
        for chat_id, chat in state.chats.items():
            messages = state.chat_messages(chat_id)
            polls = tuple(
                (tuple(m.poll.voter_counts), m.poll.is_closed) for m in messages if m.poll
            )
            result[chat_id] = (
                len(messages),
                sum(m.edits for m in messages),
                sum(1 for m in messages if m.deleted),
                tuple(chat.pinned_message_ids),
                polls,
            )
        return result

    def _menu_signature(self) -> int:
        return hash(repr(sorted(self.sim.state.commands.items(), key=repr)))

    async def _events(self, request: web.Request) -> web.StreamResponse:
        foreign = _foreign_origin(request)
        if foreign is not None:
            return refusal_response(403, foreign)
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream; charset=utf-8",
                "Cache-Control": "no-cache",
                "X-Accel-Buffering": "no",
            }
        )
        await response.prepare(request)
        self._streams += 1
        try:
            generation = self._reset_generation
            seen = self._signatures()
            menu = self._menu_signature()
            await _sse(response, "hello", {"generation": generation})
            while not self._closing:
                tick = self._tick
                try:
                    await asyncio.wait_for(tick.wait(), KEEPALIVE_SECONDS)
                except TimeoutError:
                    await response.write(b": keepalive\n\n")
                    continue
                if self._closing:
                    break
                await asyncio.sleep(COALESCE_SECONDS)
                if self.host.resetting:
                    continue  # the reset's end is announced by its own event
                if generation != self._reset_generation:
                    generation = self._reset_generation
                    seen, menu = self._signatures(), self._menu_signature()
                    await _sse(response, "reset", {"generation": generation})
                    continue
                now = self._signatures()
                changed = [cid for cid, sig in now.items() if seen.get(cid) != sig]
                seen = now
                if changed:
                    await _sse(response, "changed", {"chats": changed})
                new_menu = self._menu_signature()
                if new_menu != menu:
                    menu = new_menu
                    await _sse(response, "menu", {})
        except ConnectionResetError:
            pass  # the page went away
        finally:
            self._streams -= 1
        return response

    # ------------------------------------------------------------------ the page

    async def _to_page(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("/play/")

    async def _page(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(
            STATIC_DIR / "index.html",
            headers={"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-cache"},
        )

    async def _unknown(self, request: web.Request) -> web.StreamResponse:
        return refusal_response(404, f"no such API: {request.method} {request.path}")

    # ------------------------------------------------------------------ lookups

    def _persona(self, request: web.Request) -> Persona:
        raw = request.match_info["pid"]
        persona = self.host.persona(int(raw)) if raw.lstrip("-").isdigit() else None
        if persona is None:
            raise Refusal(404, f"unknown persona {raw!r}; GET {API}/personas lists them")
        return persona

    def _chat(self, request: web.Request, persona: Persona) -> SimChat:
        raw = request.match_info["cid"]
        chat = self.sim.state.chats.get(int(raw)) if raw.lstrip("-").isdigit() else None
        if chat is None:
            raise Refusal(404, f"unknown chat {raw!r}")
        if not self._can_see(persona.user_id, chat):
            raise Refusal(
                403, f"{persona.person.name} ({persona.user_id}) is not in chat {chat.id}"
            )
        return chat

    @staticmethod
    def _can_see(user_id: int, chat: SimChat) -> bool:
        return chat.id == user_id if chat.is_private else user_id in chat.member_ids

    def _message(self, chat: SimChat, message_id: int) -> SimMessage:
        message = self.sim.state.message(chat.id, message_id)
        if message is None or message.deleted:
            raise Refusal(404, f"no message {message_id} in chat {chat.id}")
        return message

    # ------------------------------------------------------------------ reading

    async def _personas(self, request: web.Request) -> web.StreamResponse:
        orgs = {p.org.id: p.org for p in self.host.cast}
        personas = []
        for persona in self.host.cast:
            person = persona.person
            origin = orgs.get(person.origin_org_id) if person.origin_org_id else None
            residence = orgs.get(person.residence_org_id) if person.residence_org_id else None
            personas.append(
                {
                    "id": persona.user_id,
                    "name": person.name,
                    "role": person.role.value,
                    "role_label": {loc: t(loc, f"role.{person.role.value}") for loc in LOCALES},
                    "org": {
                        "code": persona.org.code,
                        "name": persona.org.name,
                        "type": persona.org.type.value,
                    },
                    "cadre": person.cadre,
                    "oral": person.oral,
                    "post": person.post,
                    "origin_org": origin.name if origin else None,
                    "residence_org": residence.name if residence else None,
                }
            )
        return _ok({"personas": personas, "bot": self._bot_json()})

    def _bot_json(self) -> JSON:
        bot = self.sim.bot_user
        return {"id": bot.id, "name": bot.first_name, "username": bot.username}

    async def _chats(self, request: web.Request) -> web.StreamResponse:
        persona = self._persona(request)
        state = self.sim.state
        chats = [state.chats[persona.user_id]] if persona.user_id in state.chats else []
        chats += sorted(
            (
                c
                for c in state.chats.values()
                if not c.is_private and self._can_see(persona.user_id, c)
            ),
            key=lambda c: c.id,
            reverse=True,
        )
        return _ok({"chats": [self._chat_json(chat, persona) for chat in chats]})

    def _chat_json(self, chat: SimChat, persona: Persona) -> JSON:
        messages = [m for m in self.sim.state.chat_messages(chat.id) if not m.deleted]
        last = messages[-1] if messages else None
        data: JSON = {
            "id": chat.id,
            "type": "private" if chat.is_private else "group",
            "title": self.sim.bot_user.first_name if chat.is_private else (chat.title or ""),
            "members": 2 if chat.is_private else len(chat.member_ids) + int(chat.bot_is_member),
            "bot_is_member": chat.bot_is_member,
            "last_id": last.message_id if last else 0,
            "last_bot_id": max((m.message_id for m in messages if m.from_bot), default=0),
            "last": None,
        }
        if last is not None:
            data["last"] = {
                "id": last.message_id,
                "date": last.date,
                "kind": _kind(last),
                "text": (last.poll.question if last.poll else last.content)[:120],
                "from_bot": last.from_bot,
                "from_me": last.from_user_id == persona.user_id,
                "sender": self._sender_name(last),
            }
        return data

    async def _messages(self, request: web.Request) -> web.StreamResponse:
        persona = self._persona(request)
        chat = self._chat(request, persona)
        base = f"{API}/personas/{persona.user_id}/chats/{chat.id}"
        messages = [
            self._message_json(m, persona.user_id, base)
            for m in self.sim.state.chat_messages(chat.id)
            if not m.deleted
        ]
        commands = [
            {"command": command, "description": description}
            for command, description in self.sim.effective_commands(chat.id, persona.user_id)
        ]
        return _ok(
            {
                "chat": self._chat_json(chat, persona),
                "messages": messages,
                "commands": commands,
                "reply_keyboard": self._reply_keyboard(chat, persona.user_id),
            }
        )

    def _reply_keyboard(self, chat: SimChat, viewer: int) -> list[list[dict[str, Any]]] | None:
        """The bot's reply keyboard showing under the chat now (None: none or removed).

        A keyboard stays until a later bot message removes or replaces it; a one-time
        keyboard hides once the person has answered after it.
        """
        answered = False
        for message in reversed(self.sim.state.chat_messages(chat.id)):
            if message.deleted:
                continue
            if not message.from_bot:
                answered = answered or message.from_user_id == viewer
                continue
            markup = message.reply_markup
            if not isinstance(markup, dict):
                continue
            if markup.get("remove_keyboard"):
                return None
            rows = markup.get("keyboard")
            if not isinstance(rows, list):
                continue
            if answered and markup.get("one_time_keyboard"):
                return None
            return [
                [
                    {
                        "text": b if isinstance(b, str) else str(b.get("text", "")),
                        "request_contact": isinstance(b, dict) and bool(b.get("request_contact")),
                    }
                    for b in row
                ]
                for row in rows
                if isinstance(row, list)
            ]
        return None

    def _sender_name(self, message: SimMessage) -> str:
        if message.from_bot or message.from_user_id is None:
            return self.sim.bot_user.first_name
        user = self.sim.state.users.get(message.from_user_id)
        return user.full_name if user else str(message.from_user_id)

    def _message_json(self, message: SimMessage, viewer: int, base: str) -> JSON:
        data: JSON = {
            "id": message.message_id,
            "date": message.date,
            "edit_date": message.edit_date,
            "edits": message.edits,
            "from_bot": message.from_bot,
            "from_id": message.from_user_id,
            "from_name": self._sender_name(message),
            "outgoing": message.from_user_id == viewer and not message.from_bot,
            "text": message.text,
            "entities": message.entities,
            "caption": message.caption,
            "caption_entities": message.caption_entities,
            "photo": None,
            "document": None,
            "poll": None,
            "contact": message.contact,
            "buttons": [
                [{"text": b.text, "data": b.callback_data, "url": b.url} for b in row]
                for row in message.buttons
            ],
            "reply_to": None,
            "pinned": message.pinned,
        }
        file_url = f"{base}/files/{message.message_id}"
        if message.photo is not None:
            data["photo"] = {
                "url": file_url,
                "width": message.photo.width,
                "height": message.photo.height,
            }
        if message.document is not None:
            data["document"] = {
                "url": file_url,
                "name": message.document.file_name or "file",
                "size": len(message.document.data),
                "mime": message.document.mime_type,
            }
        if message.poll is not None:
            poll = message.poll
            chosen = poll.votes.get(viewer, [])
            data["poll"] = {
                "id": poll.id,
                "question": poll.question,
                "options": [
                    {"text": text, "votes": count}
                    for text, count in zip(poll.options, poll.voter_counts, strict=True)
                ],
                "total": sum(1 for c in poll.votes.values() if c),
                "closed": poll.is_closed,
                "anonymous": poll.is_anonymous,
                "multiple": poll.allows_multiple_answers,
                "chosen": chosen,
            }
        if message.reply_to_message_id is not None:
            replied = self.sim.state.message(message.chat_id, message.reply_to_message_id)
            if replied is not None and not replied.deleted:
                data["reply_to"] = {
                    "id": replied.message_id,
                    "from_name": self._sender_name(replied),
                    "text": replied.content[:100],
                    "kind": _kind(replied),
                }
        return data

    async def _file(self, request: web.Request) -> web.StreamResponse:
        persona = self._persona(request)
        chat = self._chat(request, persona)
        message = self._message(chat, _path_int(request, "mid"))
        stored: SimFile | None = message.photo or message.document
        if stored is None:
            raise Refusal(404, f"message {message.message_id} has no photo or file")
        mime = stored.mime_type
        if mime is None and stored.kind == "photo":
            mime = mimetypes.guess_type(stored.file_name or "")[0] or "image/jpeg"
        headers = {"Cache-Control": "private, max-age=3600"}
        if stored.kind == "document" and stored.file_name:
            headers["Content-Disposition"] = _attachment(stored.file_name)
        return web.Response(
            body=stored.data, content_type=mime or "application/octet-stream", headers=headers
        )

    # ------------------------------------------------------------------ acting

    async def _send(self, request: web.Request) -> web.StreamResponse:
        persona = self._persona(request)
        chat = self._chat(request, persona)
        body = await _json_body(request)
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            raise Refusal(400, '"text" must be a non-empty string')
        if utf16_len(text) > MAX_TEXT:
            units = utf16_len(text)
            raise Refusal(400, f"text is {units} UTF-16 units; Telegram allows {MAX_TEXT}")
        reply_to = _optional_int(body, "reply_to")
        if reply_to is not None:
            self._message(chat, reply_to)
        message = self.sim.send_text(persona.user_id, text, chat_id=chat.id, reply_to=reply_to)
        base = f"{API}/personas/{persona.user_id}/chats/{chat.id}"
        return _ok({"message": self._message_json(message, persona.user_id, base)})

    async def _contact(self, request: web.Request) -> web.StreamResponse:
        """A request_contact button: the persona shares their own contact (roster phone)."""
        persona = self._persona(request)
        chat = self._chat(request, persona)
        if not chat.is_private:
            raise Refusal(400, "a contact is shared in the private chat with the bot")
        phone = persona.person.phone or str(persona.user_id)
        message = self.sim.send_contact(persona.user_id, phone, chat_id=chat.id)
        base = f"{API}/personas/{persona.user_id}/chats/{chat.id}"
        return _ok({"message": self._message_json(message, persona.user_id, base)})

    async def _tap(self, request: web.Request) -> web.StreamResponse:
        persona = self._persona(request)
        chat = self._chat(request, persona)
        body = await _json_body(request)
        message_id = _required_int(body, "message_id")
        data = body.get("data")
        if not isinstance(data, str) or not data:
            raise Refusal(400, '"data" must be the callback_data of one of the message\'s buttons')
        message = self._message(chat, message_id)
        if not message.has_callback(data):
            raise Refusal(
                409, f"message {message.message_id} has no button with this data (any more)"
            )
        query_id = self.sim.tap(persona.user_id, chat.id, message.message_id, data)
        try:
            answer = await self.sim.wait_callback_answer(query_id, TAP_ANSWER_WAIT)
        except SimTimeout:
            return _ok({"answer": None})
        return _ok({"answer": {"text": answer.text, "show_alert": answer.show_alert}})

    async def _vote(self, request: web.Request) -> web.StreamResponse:
        persona = self._persona(request)
        chat = self._chat(request, persona)
        body = await _json_body(request)
        message_id = _required_int(body, "message_id")
        options = body.get("options")
        if not isinstance(options, list) or not all(
            isinstance(o, int) and not isinstance(o, bool) for o in options
        ):
            raise Refusal(400, '"options" must be a list of option numbers ([] retracts)')
        message = self._message(chat, message_id)
        if message.poll is None:
            raise Refusal(400, f"message {message.message_id} is not a poll")
        if message.poll.is_closed:
            raise Refusal(409, "the poll is closed")
        self.sim.vote(persona.user_id, message.poll.id, options)
        return _ok({"poll": {"id": message.poll.id, "chosen": sorted(set(options))}})

    async def _upload(self, request: web.Request) -> web.StreamResponse:
        persona = self._persona(request)
        chat = self._chat(request, persona)
        if request.content_type != "multipart/form-data":
            raise Refusal(400, "send the file as multipart/form-data with a field named 'file'")
        if request.content_length is not None and request.content_length > MAX_FILE_SIZE + CHUNK:
            raise Refusal(413, _too_big(request.content_length))
        form = await _read_form(request)
        upload = form.file
        if upload is None:
            raise Refusal(400, "no field named 'file' in the form")
        filename, content_type, data = upload
        if not data:
            raise Refusal(400, "the file is empty")
        caption = form.fields.get("caption") or None
        if caption is not None and utf16_len(caption) > MAX_CAPTION:
            raise Refusal(
                400, f"caption is {utf16_len(caption)} UTF-16 units; Telegram allows {MAX_CAPTION}"
            )
        kind = form.fields.get("kind") or ("photo" if data.startswith(IMAGE_MAGIC) else "document")
        if kind not in ("photo", "document"):
            raise Refusal(400, "kind must be 'photo' or 'document'")
        if kind == "photo":
            if not data.startswith(IMAGE_MAGIC):
                raise Refusal(400, "this file is not a PNG, JPEG or GIF image; send it as a file")
            message = self.sim.send_photo(
                persona.user_id, data, filename or "photo.jpg", caption, chat.id
            )
        else:
            mime = content_type if content_type not in (None, "application/octet-stream") else None
            message = self.sim.send_document(
                persona.user_id, data, filename or "file", caption, chat.id, mime_type=mime
            )
        base = f"{API}/personas/{persona.user_id}/chats/{chat.id}"
        return _ok({"message": self._message_json(message, persona.user_id, base)})

    async def _reset(self, request: web.Request) -> web.StreamResponse:
        await self.host.reset()
        return _ok({"personas": len(self.host.cast)})


# ---------------------------------------------------------------------- helpers


def _guarded(web_: PlaygroundWeb, handler: Handler) -> Handler:
    """Turn refusals and people-API misuse into 4xx JSON; refuse while resetting."""

    async def run(request: web.Request) -> web.StreamResponse:
        foreign = _foreign_origin(request)
        if foreign is not None:
            return refusal_response(403, foreign)
        if web_.host.resetting:
            return refusal_response(503, "the demo is being reset; try again in a moment")
        try:
            return await handler(request)
        except Refusal as exc:
            return refusal_response(exc.status, exc.message)
        except SimError as exc:
            return refusal_response(409, str(exc))
        except web.HTTPException:
            raise
        except Exception:
            log.exception("playground API failed on %s %s", request.method, request.path)
            return refusal_response(500, "the playground failed on this request; see its log")

    return run


LOCAL_HOSTS = ("127.0.0.1", "localhost")


def _foreign_origin(request: web.Request) -> str | None:
    """Why a request that another web site (or a rebound DNS name) made is refused, if it is.

    The API changes the demo on a plain POST, so only the page itself may call it: the Host
    must be the loopback address, and a browser's Origin, when sent, this very server.
    """
    host = request.host or ""
    name, _, port = host.rpartition(":") if ":" in host else (host, "", "")
    if name not in LOCAL_HOSTS:
        return f"refused: the playground answers on 127.0.0.1 only, not {host!r}"
    origin = request.headers.get("Origin")
    own = {f"http://{local}:{port}" if port else f"http://{local}" for local in LOCAL_HOSTS}
    if origin is not None and origin not in own:
        return f"refused: a request from another site ({origin})"
    return None


async def _sse(response: web.StreamResponse, event: str, data: JSON) -> None:
    await response.write(f"event: {event}\ndata: {_dumps(data)}\n\n".encode())


def _kind(message: SimMessage) -> str:
    if message.photo is not None:
        return "photo"
    if message.document is not None:
        return "document"
    if message.poll is not None:
        return "poll"
    if message.contact is not None:
        return "contact"
    return "text"


def _too_big(size: int | None) -> str:
    limit = f"the simulator's limit is {MAX_FILE_SIZE // (1024 * 1024)} MB ({MAX_FILE_SIZE} bytes)"
    return (
        f"the file is too big ({size} bytes); {limit}" if size else f"the file is too big; {limit}"
    )


def _attachment(filename: str) -> str:
    return f"attachment; filename*=UTF-8''{quote(filename)}"


def _path_int(request: web.Request, name: str) -> int:
    raw = request.match_info[name]
    try:
        return int(raw)
    except ValueError:
        raise Refusal(404, f"{name} must be a number, not {raw!r}") from None


async def _json_body(request: web.Request) -> dict[str, Any]:
    """The request's JSON object (400 for anything else)."""
    raw = await request.read()
    try:
        body = json.loads(raw.decode("utf-8")) if raw else None
    except (ValueError, UnicodeDecodeError) as exc:
        raise Refusal(400, f"malformed JSON body: {exc}") from None
    if not isinstance(body, dict):
        raise Refusal(400, "the body must be a JSON object")
    return body


def _optional_int(body: dict[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise Refusal(400, f'"{name}" must be an integer')
    return value


def _required_int(body: dict[str, Any], name: str) -> int:
    value = _optional_int(body, name)
    if value is None:
        raise Refusal(400, f'"{name}" is required')
    return value


class _Form:
    """A multipart form read with a size cap: text fields and at most one file."""

    def __init__(self) -> None:
        self.fields: dict[str, str] = {}
        self.file: tuple[str | None, str | None, bytes] | None = None


async def _read_form(request: web.Request) -> _Form:
    """Read the form part by part, refusing a file over the simulator's limit as it streams."""
    form = _Form()
    try:
        reader = await request.multipart()
        while True:
            part = await reader.next()
            if part is None:
                break
            if not isinstance(part, BodyPartReader):
                raise Refusal(400, "nested multipart forms are not supported")
            if part.filename is not None or part.name == "file":
                data = await _read_capped(part, MAX_FILE_SIZE, file=True)
                if part.name == "file":
                    form.file = (_filename(part.filename), part.headers.get("Content-Type"), data)
            else:
                raw = await _read_capped(part, MAX_FIELD, file=False)
                form.fields[part.name or ""] = raw.decode("utf-8", errors="replace")
    except (ValueError, AssertionError) as exc:
        raise Refusal(400, f"malformed multipart form: {exc}") from None
    return form


def _filename(raw: str | None) -> str | None:
    """The file's name as the person sees it (clients percent-encode non-ASCII and quotes)."""
    if raw and raw.isascii() and re.search(r"%[0-9A-Fa-f]{2}", raw):
        return unquote(raw)
    return raw


async def _read_capped(part: BodyPartReader, limit: int, *, file: bool) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await part.read_chunk(CHUNK)
        if not chunk:
            break
        size += len(chunk)
        if size > limit:
            if file:
                raise Refusal(413, _too_big(None))
            raise Refusal(400, f"form field {part.name!r} is too long")
        chunks.append(chunk)
    return b"".join(chunks)
