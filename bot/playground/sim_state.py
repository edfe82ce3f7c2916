"""State, dataclasses and validation of the local Telegram Bot API simulator.

Nothing here does I/O: the server in :mod:`bot.playground.simulator` turns HTTP requests into
calls on :class:`SimState` and turns the dataclasses back into Telegram JSON.
"""

from __future__ import annotations

import math
import re
import struct
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_BUTTONS = 100
MAX_BUTTONS_PER_ROW = 8
MAX_CALLBACK_ANSWER = 200
MAX_POLL_QUESTION = 300
MAX_POLL_OPTION = 100
MIN_POLL_OPTIONS = 2
MAX_POLL_OPTIONS = 12
MAX_COMMANDS = 100
MAX_FILE_SIZE = 20 * 1024 * 1024  # getFile serves bots files up to 20 MB; bigger is refused

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)


class ApiError(Exception):
    """A refusal that the server answers as Telegram does (``ok: false``)."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def to_json(self) -> JSON:
        """Telegram's error body for this refusal."""
        body: JSON = {"ok": False, "error_code": self.status, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(reason: str) -> ApiError:
    """A 400 with Telegram's ``Bad Request:`` prefix."""
    return ApiError(400, f"Bad Request: {reason}")


class SimError(Exception):
    """Misuse of the in-process people API (unknown user, a button that is not there, ...)."""


class SimTimeout(SimError, TimeoutError):
    """A ``wait_*`` call ran out of time."""


# --------------------------------------------------------------------------- rate limits


@dataclass
class RateLimits:
    """Telegram's flood limits as the simulator enforces them on sending methods."""

    enabled: bool = True
    global_per_second: float = 30.0
    private_burst: int = 5
    private_per_second: float = 1.0
    group_burst: int = 20
    group_per_minute: float = 20.0

    @classmethod
    def off(cls) -> RateLimits:
        """Limits that never refuse."""
        return cls(enabled=False)


@dataclass
class TokenBucket:
    """A token bucket: ``capacity`` tokens, refilled at ``rate`` tokens per second."""

    capacity: float
    rate: float
    tokens: float
    updated: float

    @classmethod
    def full(cls, capacity: float, rate: float, now: float) -> TokenBucket:
        """A bucket that starts full."""
        return cls(capacity=capacity, rate=rate, tokens=capacity, updated=now)

    def _refill(self, now: float) -> None:
        elapsed = max(0.0, now - self.updated)
        self.tokens = min(self.capacity, self.tokens + elapsed * self.rate)
        self.updated = now

    def wait_time(self, now: float) -> float:
        """Seconds until one token is available (0 when one is available now)."""
        self._refill(now)
        if self.tokens >= 1.0:
            return 0.0
        if self.rate <= 0:
            return math.inf
        return (1.0 - self.tokens) / self.rate

    def take(self, now: float) -> None:
        """Take one token (the caller checked :meth:`wait_time` first)."""
        self._refill(now)
        self.tokens -= 1.0

    def give_back(self, now: float) -> None:
        """Return a token taken for a request that then failed."""
        self._refill(now)
        self.tokens = min(self.capacity, self.tokens + 1.0)


def retry_after_seconds(wait: float) -> int:
    """Telegram's ``retry_after`` for a wait: whole seconds, at least 1."""
    if math.isinf(wait):
        return 3600
    return max(1, math.ceil(wait))


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class RequestRecord:
    """One request the server answered."""

    method: str
    chat_id: int | str | None
    status: int
    at: float
    description: str | None = None


@dataclass
class SimStats:
    """Counters of what the server answered."""

    requests: int = 0
    served_429: int = 0
    served_5xx: int = 0
    served_4xx: int = 0
    faults_injected: int = 0


@dataclass
class Fault:
    """A pending injected fault: the next ``remaining`` calls of ``method`` fail (to
    ``chat_id`` only, when it is given)."""

    method: str | None
    status: int
    remaining: int
    retry_after: int = 1
    chat_id: int | None = None


# --------------------------------------------------------------------------- people and chats


@dataclass
class SimUser:
    """A simulated Telegram user."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "zh-hans"
    is_bot: bool = False
    blocked_bot: bool = False

    def to_json(self) -> JSON:
        """Telegram's User object."""
        data: JSON = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code:
            data["language_code"] = self.language_code
        return data

    @property
    def full_name(self) -> str:
        """First and last name, as a client shows them."""
        return f"{self.first_name} {self.last_name}" if self.last_name else self.first_name


@dataclass
class SimChat:
    """A private chat (id == user id) or a group (negative id)."""

    id: int
    type: str
    title: str | None = None
    member_ids: list[int] = field(default_factory=list)
    admin_ids: set[int] = field(default_factory=set)
    owner_id: int | None = None
    bot_is_member: bool = True
    menu_button: JSON | None = None
    pinned_message_ids: list[int] = field(default_factory=list)

    @property
    def is_private(self) -> bool:
        """Whether this is a one-to-one chat with a user."""
        return self.type == "private"


@dataclass(frozen=True)
class SimButton:
    """One inline keyboard button."""

    text: str
    callback_data: str | None = None
    url: str | None = None


@dataclass
class SimFile:
    """A stored file (uploaded by the bot or sent by a user)."""

    file_id: str
    file_unique_id: str
    kind: str
    data: bytes
    file_name: str | None = None
    mime_type: str | None = None
    width: int = 0
    height: int = 0

    @property
    def file_path(self) -> str:
        """The path under the file download route."""
        suffix = ""
        if self.file_name and "." in self.file_name:
            suffix = "." + self.file_name.rsplit(".", 1)[1]
        return f"{self.kind}s/{self.file_unique_id}{suffix}"

    def photo_json(self) -> list[JSON]:
        """Telegram's ``photo`` array (one size)."""
        return [
            {
                "file_id": self.file_id,
                "file_unique_id": self.file_unique_id,
                "width": self.width,
                "height": self.height,
                "file_size": len(self.data),
            }
        ]

    def document_json(self) -> JSON:
        """Telegram's Document object."""
        data: JSON = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
        }
        if self.file_name:
            data["file_name"] = self.file_name
        if self.mime_type:
            data["mime_type"] = self.mime_type
        return data

    def file_json(self) -> JSON:
        """Telegram's File object (getFile)."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
            "file_path": self.file_path,
        }


@dataclass
class SimPoll:
    """A poll the bot sent, with every voter's current answer."""

    id: str
    chat_id: int
    message_id: int
    question: str
    options: list[str]
    is_anonymous: bool = True
    type: str = "regular"
    allows_multiple_answers: bool = False
    is_closed: bool = False
    votes: dict[int, list[int]] = field(default_factory=dict)
    # Users a copy was forwarded to: they see the same poll and may vote on it.
    shared_with: set[int] = field(default_factory=set)

    @property
    def voter_counts(self) -> list[int]:
        """How many voters chose each option."""
        counts = [0] * len(self.options)
        for chosen in self.votes.values():
            for option in chosen:
                counts[option] += 1
        return counts

    def to_json(self) -> JSON:
        """Telegram's Poll object (Bot API 9.6+ fields included, as PTB 22.8 requires them)."""
        return {
            "id": self.id,
            "question": self.question,
            "options": [
                {"text": text, "voter_count": count, "persistent_id": str(index)}
                for index, (text, count) in enumerate(
                    zip(self.options, self.voter_counts, strict=True)
                )
            ],
            "total_voter_count": sum(1 for chosen in self.votes.values() if chosen),
            "is_closed": self.is_closed,
            "is_anonymous": self.is_anonymous,
            "type": self.type,
            "allows_multiple_answers": self.allows_multiple_answers,
            "allows_revoting": True,
            "members_only": False,
        }


@dataclass(frozen=True)
class SimRevision:
    """A message's content before one of its edits."""

    text: str | None
    caption: str | None
    buttons: list[list[SimButton]]
    edit_date: int | None


@dataclass
class SimMessage:
    """A message in a chat, with its current content and its edit history."""

    message_id: int
    chat_id: int
    from_bot: bool
    from_user_id: int | None
    date: int
    text: str | None = None
    entities: list[JSON] = field(default_factory=list)
    caption: str | None = None
    caption_entities: list[JSON] = field(default_factory=list)
    reply_markup: JSON | None = None
    buttons: list[list[SimButton]] = field(default_factory=list)
    edits: int = 0
    history: list[str] = field(default_factory=list)
    revisions: list[SimRevision] = field(default_factory=list)
    edit_date: int | None = None
    photo: SimFile | None = None
    document: SimFile | None = None
    poll: SimPoll | None = None
    contact: JSON | None = None
    sticker: JSON | None = None
    location: JSON | None = None
    reply_to_message_id: int | None = None
    deleted: bool = False
    pinned: bool = False

    @property
    def content(self) -> str:
        """The text or the caption, whichever the message has ('' for neither)."""
        return self.text if self.text is not None else (self.caption or "")

    def iter_buttons(self) -> Iterator[SimButton]:
        """Every inline button of the current markup, row by row."""
        for row in self.buttons:
            yield from row

    def button_labels(self) -> list[str]:
        """The labels of every inline button of the current markup."""
        return [button.text for button in self.iter_buttons()]

    def has_callback(self, data: str) -> bool:
        """Whether the current markup has a button with this callback_data."""
        return any(button.callback_data == data for button in self.iter_buttons())


@dataclass(frozen=True)
class SimCallbackAnswer:
    """What the bot answered to a button tap (answerCallbackQuery)."""

    text: str | None
    show_alert: bool
    url: str | None = None


@dataclass
class SimCallbackQuery:
    """A button tap and, once the bot answered it, the answer."""

    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    answer: SimCallbackAnswer | None = None


# --------------------------------------------------------------------------- text helpers


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's entity offsets."""
    return len(text.encode("utf-16-le")) // 2


_COMMAND_RE = re.compile(r"^/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?=\s|$)")


def command_entities(text: str) -> list[JSON]:
    """The ``bot_command`` entity of a text starting with ``/command`` (or ``/cmd@bot``)."""
    match = _COMMAND_RE.match(text)
    if not match:
        return []
    return [{"type": "bot_command", "offset": 0, "length": utf16_len(match.group(0))}]


_TAG_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(?:(lt|gt|amp|quot)|#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,6}));")
_TAG_NAME_RE = re.compile(r"[A-Za-z0-9-]*")
_ATTR_NAME_RE = re.compile(r"[A-Za-z0-9_-]+")


@dataclass
class _OpenTag:
    name: str
    start: int
    attrs: dict[str, str]
    language: str | None = None


def _parse_error(reason: str) -> ApiError:
    return bad_request(f"can't parse entities: {reason}")


def _decode_entities(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        if match.group(1):
            return _NAMED_ENTITIES[match.group(1)]
        code = int(match.group(2)) if match.group(2) else int(match.group(3), 16)
        try:
            return chr(code)
        except (ValueError, OverflowError):
            return match.group(0)

    return _ENTITY_RE.sub(replace, text)


class _HtmlParser:
    """Telegram's HTML parse mode: a small, strict subset of HTML."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.pos = 0
        self.out: list[str] = []
        self.out_len = 0
        self.stack: list[_OpenTag] = []
        self.entities: list[JSON] = []

    def byte_offset(self, index: int) -> int:
        return len(self.source[:index].encode("utf-8"))

    def emit(self, text: str) -> None:
        self.out.append(text)
        self.out_len += utf16_len(text)

    def parse(self) -> tuple[str, list[JSON]]:
        src = self.source
        while self.pos < len(src):
            lt = src.find("<", self.pos)
            chunk_end = len(src) if lt == -1 else lt
            if chunk_end > self.pos:
                self.emit(_decode_entities(src[self.pos : chunk_end]))
            self.pos = chunk_end
            if lt == -1:
                break
            if src.startswith("</", lt):
                self.end_tag(lt)
            else:
                self.start_tag(lt)
        if self.stack:
            raise _parse_error(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1].name}"'
            )
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.out), self.entities

    def start_tag(self, lt: int) -> None:
        src = self.source
        name_match = _TAG_NAME_RE.match(src, lt + 1)
        assert name_match is not None  # the pattern also matches the empty string
        name = name_match.group(0).lower()
        if name not in _TAG_TYPES:
            raise _parse_error(
                f'Unsupported start tag "{name}" at byte offset {self.byte_offset(lt)}'
            )
        pos = name_match.end()
        attrs: dict[str, str] = {}
        while True:
            while pos < len(src) and src[pos].isspace():
                pos += 1
            if pos >= len(src):
                raise _parse_error(f"Unclosed start tag at byte offset {self.byte_offset(lt)}")
            if src[pos] == ">":
                pos += 1
                break
            attr_match = _ATTR_NAME_RE.match(src, pos)
            if not attr_match:
                raise _parse_error(
                    f'Expected equal sign in declaration of an attribute of the tag "{name}" '
                    f"at byte offset {self.byte_offset(pos)}"
                )
            attr = attr_match.group(0).lower()
            pos = attr_match.end()
            while pos < len(src) and src[pos].isspace():
                pos += 1
            value = ""
            if pos < len(src) and src[pos] == "=":
                pos += 1
                while pos < len(src) and src[pos].isspace():
                    pos += 1
                if pos < len(src) and src[pos] in "\"'":
                    close = src.find(src[pos], pos + 1)
                    if close == -1:
                        raise _parse_error(
                            f"Unclosed start tag at byte offset {self.byte_offset(lt)}"
                        )
                    value = src[pos + 1 : close]
                    pos = close + 1
                else:
                    end = pos
                    while end < len(src) and not src[end].isspace() and src[end] != ">":
                        end += 1
                    value = src[pos:end]
                    pos = end
            attrs[attr] = _decode_entities(value)
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise _parse_error(
                f'Tag "span" must have class "tg-spoiler" at byte offset {self.byte_offset(lt)}'
            )
        self.stack.append(_OpenTag(name=name, start=self.out_len, attrs=attrs))
        self.pos = pos

    def end_tag(self, lt: int) -> None:
        src = self.source
        close = src.find(">", lt)
        if close == -1:
            raise _parse_error(f"Unclosed end tag at byte offset {self.byte_offset(lt)}")
        name = src[lt + 2 : close].strip().lower()
        if not self.stack:
            raise _parse_error(f"Unexpected end tag at byte offset {self.byte_offset(lt)}")
        top = self.stack[-1]
        if name != top.name:
            raise _parse_error(
                f"Unmatched end tag at byte offset {self.byte_offset(lt)}, "
                f'expected "</{top.name}>", found "</{name}>"'
            )
        self.stack.pop()
        self.pos = close + 1
        self.close_entity(top)

    def close_entity(self, tag: _OpenTag) -> None:
        length = self.out_len - tag.start
        kind = _TAG_TYPES[tag.name]
        if tag.name == "code" and self.stack and self.stack[-1].name == "pre":
            language = tag.attrs.get("class", "")
            if language.startswith("language-") and self.stack[-1].start == tag.start:
                self.stack[-1].language = language.removeprefix("language-")
                return
        if length <= 0:
            return
        entity: JSON = {"type": kind, "offset": tag.start, "length": length}
        if kind == "text_link":
            href = tag.attrs.get("href", "")
            if not href:
                return
            entity["url"] = href
        elif kind == "pre" and tag.language:
            entity["language"] = tag.language
        elif kind == "blockquote" and "expandable" in tag.attrs:
            entity["type"] = "expandable_blockquote"
        elif kind == "custom_emoji":
            entity["custom_emoji_id"] = tag.attrs.get("emoji-id", "")
        self.entities.append(entity)


def parse_html(source: str) -> tuple[str, list[JSON]]:
    """Parse Telegram HTML into plain text and entities; refuse it as Telegram does."""
    return _HtmlParser(source).parse()


def format_text(text: str, parse_mode: str | None, entities: Any) -> tuple[str, list[JSON]]:
    """Apply ``parse_mode`` (HTML parsed; Markdown kept verbatim) or take explicit entities."""
    mode = (parse_mode or "").strip().lower()
    if mode == "html":
        return parse_html(text)
    if mode in ("", "none"):
        if entities is None:
            return text, []
        if not isinstance(entities, list):
            raise bad_request("can't parse entities: entities must be an array")
        return text, [dict(entity) for entity in entities if isinstance(entity, dict)]
    if mode in ("markdown", "markdownv2"):
        return text, []  # not modelled: stored as sent
    raise bad_request("unsupported parse_mode")


def check_text(text: str) -> None:
    """Refuse an empty or too long message text (after parsing; Telegram counts the length
    in UTF-16 code units, so 📢 counts two)."""
    if not text.strip():
        raise bad_request("message text is empty")
    if utf16_len(text) > MAX_TEXT:
        raise bad_request("message is too long")


def check_caption(caption: str) -> None:
    """Refuse a too long caption (after parsing; in UTF-16 code units)."""
    if utf16_len(caption) > MAX_CAPTION:
        raise bad_request("message caption is too long")


# --------------------------------------------------------------------------- keyboards


def parse_reply_markup(markup: Any) -> tuple[JSON | None, list[list[SimButton]]]:
    """Validate a reply_markup as Telegram does; return it and its inline buttons."""
    if markup is None:
        return None, []
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    inline = markup.get("inline_keyboard")
    if inline is None:
        return markup, []  # a reply keyboard, keyboard removal or force reply
    if not isinstance(inline, list) or not all(isinstance(row, list) for row in inline):
        raise bad_request(
            'can\'t parse inline keyboard button: field "inline_keyboard" must be '
            "an Array of Arrays"
        )
    total = sum(len(row) for row in inline)
    if total > MAX_BUTTONS or any(len(row) > MAX_BUTTONS_PER_ROW for row in inline):
        raise bad_request("REPLY_MARKUP_TOO_LONG")
    rows: list[list[SimButton]] = []
    for row in inline:
        parsed: list[SimButton] = []
        for raw in row:
            if not isinstance(raw, dict) or not isinstance(raw.get("text"), str):
                raise bad_request("can't parse inline keyboard button: Text must be a String")
            data = raw.get("callback_data")
            url = raw.get("url")
            if data is not None:
                if not isinstance(data, str):
                    raise bad_request("BUTTON_DATA_INVALID")
                size = len(data.encode("utf-8"))
                if size < 1 or size > MAX_CALLBACK_DATA_BYTES:
                    raise bad_request("BUTTON_DATA_INVALID")
            if url is not None and (not isinstance(url, str) or not url):
                raise bad_request("BUTTON_URL_INVALID")
            parsed.append(SimButton(text=raw["text"], callback_data=data, url=url))
        if parsed:
            rows.append(parsed)
    return markup, rows


# --------------------------------------------------------------------------- polls


def parse_poll_options(raw: Any) -> list[str]:
    """Read sendPoll's ``options`` (strings or InputPollOption objects) and check them."""
    if not isinstance(raw, list):
        raise bad_request("poll options must be an Array")
    options: list[str] = []
    for item in raw:
        text = item.get("text") if isinstance(item, dict) else item
        if not isinstance(text, str):
            raise bad_request("poll options must be Strings")
        options.append(text)
    if len(options) < MIN_POLL_OPTIONS:
        raise bad_request("poll must have at least 2 option")
    if len(options) > MAX_POLL_OPTIONS:
        raise bad_request(f"poll can't have more than {MAX_POLL_OPTIONS} options")
    for option in options:
        if not option.strip():
            raise bad_request("poll options must be non-empty")
        if len(option) > MAX_POLL_OPTION:
            raise bad_request(f"poll options length must not exceed {MAX_POLL_OPTION}")
    return options


def check_poll_question(question: str) -> None:
    """Refuse an empty or too long poll question."""
    if not question.strip():
        raise bad_request("poll question must be non-empty")
    if len(question) > MAX_POLL_QUESTION:
        raise bad_request(f"poll question length must not exceed {MAX_POLL_QUESTION}")


# --------------------------------------------------------------------------- commands


_BOT_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")


def parse_commands(raw: Any) -> list[tuple[str, str]]:
    """Read and check setMyCommands' ``commands``."""
    if not isinstance(raw, list):
        raise bad_request("can't parse commands JSON object")
    if len(raw) > MAX_COMMANDS:
        raise bad_request("too many commands specified")
    commands: list[tuple[str, str]] = []
    for item in raw:
        if not isinstance(item, dict):
            raise bad_request("can't parse BotCommand")
        command = str(item.get("command", "")).removeprefix("/")
        description = str(item.get("description", ""))
        if not _BOT_COMMAND_RE.match(command):
            raise bad_request("BOT_COMMAND_INVALID")
        if not description.strip() or len(description) > 256:
            raise bad_request("command description must be non-empty")
        commands.append((command, description))
    return commands


CommandsKey = tuple[str, int | None, int | None, str]


def commands_key(scope: Any, language_code: str | None) -> CommandsKey:
    """The storage key of a BotCommandScope (type, chat_id, user_id) plus language."""
    if scope is None:
        scope = {"type": "default"}
    if not isinstance(scope, dict) or not isinstance(scope.get("type"), str):
        raise bad_request("can't parse BotCommandScope JSON object")
    kind = scope["type"]
    known = {
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    }
    if kind not in known:
        raise bad_request("wrong bot command scope type specified")
    per_chat = kind in ("chat", "chat_administrators", "chat_member")
    chat_id = scope.get("chat_id") if per_chat else None
    user_id = scope.get("user_id") if kind == "chat_member" else None
    return (
        kind,
        int(chat_id) if chat_id is not None else None,
        int(user_id) if user_id is not None else None,
        language_code or "",
    )


# --------------------------------------------------------------------------- images


def image_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG or JPEG (a stand-in size for anything else)."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data[:2] == b"\xff\xd8":
        pos = 2
        while pos + 9 < len(data):
            if data[pos] != 0xFF:
                break
            marker = data[pos + 1]
            length = int.from_bytes(data[pos + 2 : pos + 4], "big")
            if marker in (0xC0, 0xC1, 0xC2):
                height = int.from_bytes(data[pos + 5 : pos + 7], "big")
                width = int.from_bytes(data[pos + 7 : pos + 9], "big")
                return width, height
            pos += 2 + length
    return 320, 320


def tiny_png(width: int = 2, height: int = 2) -> bytes:
    """A valid, tiny, grey PNG (handy for tests that send photos)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def now_unix() -> int:
    """The current Unix time in whole seconds (Telegram's ``date``)."""
    return int(time.time())


# --------------------------------------------------------------------------- the world


class SimState:
    """Users, chats, messages, files, polls and commands: everything the simulator knows."""

    def __init__(self, bot: SimUser) -> None:
        self.bot = bot
        self.users: dict[int, SimUser] = {}
        self.chats: dict[int, SimChat] = {}
        self.files: dict[str, SimFile] = {}
        self.polls: dict[str, SimPoll] = {}
        self.callback_queries: dict[str, SimCallbackQuery] = {}
        self.commands: dict[CommandsKey, list[tuple[str, str]]] = {}
        self.default_menu_button: JSON = {"type": "default"}
        self._messages: dict[int, list[SimMessage]] = {}
        self._index: dict[tuple[int, int], SimMessage] = {}
        self._last_message_id: dict[int, int] = {}
        self._files_by_path: dict[str, SimFile] = {}
        self._serial = 0

    def next_serial(self) -> int:
        """A number unique within this simulator (ids of files, polls, callback queries)."""
        self._serial += 1
        return self._serial

    # -- people and chats

    def add_user(self, user: SimUser) -> SimUser:
        """Register a user and their private chat with the bot."""
        if user.id <= 0:
            raise SimError("user ids are positive")
        if user.id in self.users:
            raise SimError(f"user {user.id} already exists")
        self.users[user.id] = user
        self.chats[user.id] = SimChat(id=user.id, type="private")
        return user

    def add_chat(self, chat: SimChat) -> SimChat:
        """Register a group chat."""
        if chat.id >= 0:
            raise SimError("group chat ids are negative")
        if chat.id in self.chats:
            raise SimError(f"chat {chat.id} already exists")
        for member in chat.member_ids:
            self.user(member)
        self.chats[chat.id] = chat
        return chat

    def user(self, user_id: int) -> SimUser:
        """A known user (SimError otherwise)."""
        try:
            return self.users[user_id]
        except KeyError:
            raise SimError(f"unknown user {user_id}; add_user first") from None

    def sim_chat(self, chat_id: int) -> SimChat:
        """A known chat (SimError otherwise)."""
        try:
            return self.chats[chat_id]
        except KeyError:
            raise SimError(f"unknown chat {chat_id}") from None

    def api_chat(self, raw: Any) -> SimChat:
        """The chat a request names by ``chat_id`` (id or @username), or 400 chat not found."""
        if isinstance(raw, str) and raw.startswith("@"):
            name = raw[1:].lower()
            for user in self.users.values():
                if user.username and user.username.lower() == name:
                    return self.chats[user.id]
            raise bad_request("chat not found")
        try:
            chat_id = int(raw)
        except (TypeError, ValueError):
            raise bad_request("chat not found") from None
        chat = self.chats.get(chat_id)
        if chat is None:
            raise bad_request("chat not found")
        return chat

    # -- messages

    def new_message(self, chat_id: int, *, from_bot: bool, from_user_id: int | None) -> SimMessage:
        """Append an empty message to a chat, with the chat's next message id."""
        message_id = self._last_message_id.get(chat_id, 0) + 1
        self._last_message_id[chat_id] = message_id
        message = SimMessage(
            message_id=message_id,
            chat_id=chat_id,
            from_bot=from_bot,
            from_user_id=self.bot.id if from_bot else from_user_id,
            date=now_unix(),
        )
        self._messages.setdefault(chat_id, []).append(message)
        self._index[(chat_id, message_id)] = message
        return message

    def message(self, chat_id: int, message_id: int) -> SimMessage | None:
        """A message by chat and id (deleted ones included), or None."""
        return self._index.get((chat_id, message_id))

    def chat_messages(self, chat_id: int) -> list[SimMessage]:
        """Every message of a chat in order, deleted ones included."""
        return list(self._messages.get(chat_id, []))

    def last_message_id(self, chat_id: int) -> int:
        """The id of the newest message in a chat (0 for none)."""
        return self._last_message_id.get(chat_id, 0)

    # -- files

    def store_file(
        self, kind: str, data: bytes, file_name: str | None, mime_type: str | None
    ) -> SimFile:
        """Keep uploaded bytes and give them a file_id and a file_unique_id."""
        serial = self.next_serial()
        prefix = {"photo": "AgAC", "document": "BQAC"}.get(kind, "CAAC")
        width, height = image_size(data) if kind == "photo" else (0, 0)
        stored = SimFile(
            file_id=f"{prefix}sim{serial:06d}{zlib.crc32(data):08x}",
            file_unique_id=f"AQAD{serial:06d}",
            kind=kind,
            data=data,
            file_name=file_name,
            mime_type=mime_type,
            width=width,
            height=height,
        )
        self.files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    def file_by_path(self, path: str) -> SimFile | None:
        """A stored file by its download path."""
        return self._files_by_path.get(path)

    def existing_file(self, file_id: str, kind: str) -> SimFile:
        """A file the bot names by file_id, refused as Telegram does when unknown."""
        if file_id.startswith(("http://", "https://")):
            raise bad_request("wrong file identifier/HTTP URL specified")
        stored = self.files.get(file_id)
        if stored is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        if stored.kind != kind and kind == "photo":
            raise bad_request(f"can't use file of type {stored.kind.title()} as Photo")
        return stored

    # -- JSON

    def user_json(self, user_id: int) -> JSON:
        """Telegram's User object for the bot or a user."""
        if user_id == self.bot.id:
            return self.bot.to_json()
        return self.user(user_id).to_json()

    def chat_json(self, chat: SimChat) -> JSON:
        """Telegram's Chat object."""
        if chat.is_private:
            user = self.users[chat.id]
            data: JSON = {"id": chat.id, "type": "private", "first_name": user.first_name}
            if user.last_name:
                data["last_name"] = user.last_name
            if user.username:
                data["username"] = user.username
            return data
        return {"id": chat.id, "type": chat.type, "title": chat.title or ""}

    def chat_full_json(self, chat: SimChat) -> JSON:
        """Telegram's ChatFullInfo object (getChat)."""
        data = self.chat_json(chat)
        data.update(
            {
                "accent_color_id": 0,
                "max_reaction_count": 11,
                "accepted_gift_types": {
                    "unlimited_gifts": False,
                    "limited_gifts": False,
                    "unique_gifts": False,
                    "premium_subscription": False,
                    "gifts_from_channels": False,
                },
            }
        )
        if chat.pinned_message_ids:
            pinned = self.message(chat.id, chat.pinned_message_ids[-1])
            if pinned is not None and not pinned.deleted:
                data["pinned_message"] = self.message_json(pinned, with_reply=False)
        return data

    def member_json(self, chat: SimChat, user_id: int) -> JSON:
        """Telegram's ChatMember object for a user (or the bot) in a chat."""
        user = self.user_json(user_id)
        if chat.is_private:
            in_chat = user_id in (chat.id, self.bot.id)
            return {"status": "member" if in_chat else "left", "user": user}
        if user_id == self.bot.id:
            return {"status": "member" if chat.bot_is_member else "left", "user": user}
        if user_id == chat.owner_id:
            return {"status": "creator", "user": user, "is_anonymous": False}
        if user_id in chat.admin_ids:
            rights = {
                "can_be_edited": False,
                "is_anonymous": False,
                "can_manage_chat": True,
                "can_delete_messages": True,
                "can_manage_video_chats": True,
                "can_restrict_members": True,
                "can_promote_members": False,
                "can_change_info": True,
                "can_invite_users": True,
                "can_post_stories": False,
                "can_edit_stories": False,
                "can_delete_stories": False,
                "can_pin_messages": True,
            }
            return {"status": "administrator", "user": user, **rights}
        if user_id in chat.member_ids:
            return {"status": "member", "user": user}
        return {"status": "left", "user": user}

    def message_json(self, message: SimMessage, *, with_reply: bool = True) -> JSON:
        """Telegram's Message object for a message as it is now."""
        chat = self.chats[message.chat_id]
        data: JSON = {"message_id": message.message_id, "date": message.date}
        if message.from_user_id is not None:
            data["from"] = self.user_json(message.from_user_id)
        data["chat"] = self.chat_json(chat)
        if message.edit_date is not None:
            data["edit_date"] = message.edit_date
        if message.text is not None:
            data["text"] = message.text
            if message.entities:
                data["entities"] = message.entities
        if message.caption is not None:
            data["caption"] = message.caption
            if message.caption_entities:
                data["caption_entities"] = message.caption_entities
        if message.photo is not None:
            data["photo"] = message.photo.photo_json()
        if message.document is not None:
            data["document"] = message.document.document_json()
        if message.poll is not None:
            data["poll"] = message.poll.to_json()
        if message.contact is not None:
            data["contact"] = message.contact
        if message.sticker is not None:
            data["sticker"] = message.sticker
        if message.location is not None:
            data["location"] = message.location
        if message.reply_markup is not None and message.buttons:
            data["reply_markup"] = {
                "inline_keyboard": [
                    [_button_json(button) for button in row] for row in message.buttons
                ]
            }
        if with_reply and message.reply_to_message_id is not None:
            replied = self.message(message.chat_id, message.reply_to_message_id)
            if replied is not None and not replied.deleted:
                data["reply_to_message"] = self.message_json(replied, with_reply=False)
        return data

    def chat_instance(self, chat_id: int) -> str:
        """A stable chat_instance string for callback queries from a chat."""
        return str(zlib.crc32(f"{self.bot.id}:{chat_id}".encode()))


def _button_json(button: SimButton) -> JSON:
    data: JSON = {"text": button.text}
    if button.callback_data is not None:
        data["callback_data"] = button.callback_data
    if button.url is not None:
        data["url"] = button.url
    return data
