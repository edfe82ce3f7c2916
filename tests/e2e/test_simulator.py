"""The local Bot API simulator, driven by the real python-telegram-bot client."""

from __future__ import annotations

import asyncio
import datetime as dtm
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MenuButtonCommands,
    Message,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
)
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.playground.sim_state import NOT_MODIFIED, tiny_png
from bot.playground.simulator import BotApiSimulator, RateLimits, SimError, SimMessage

ALICE = 1001
BOB = 1002
GROUP = -2001


@pytest.fixture(autouse=True)
def _ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    # PTB 22.x warns (PTBDeprecationWarning) inside RetryAfter.__init__ unless PTB_TIMEDELTA is
    # set; with filterwarnings=error that warning would replace the RetryAfter itself.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


async def _make_sim(limits: RateLimits) -> BotApiSimulator:
    sim = BotApiSimulator(rate_limits=limits)
    await sim.start()
    sim.add_user(ALICE, "Alice", username="alice")
    sim.add_user(BOB, "Bob", language_code="en")
    sim.add_group(GROUP, "Volunteers", [ALICE, BOB])
    return sim


@pytest.fixture
async def sim() -> AsyncIterator[BotApiSimulator]:
    simulator = await _make_sim(RateLimits.off())
    yield simulator
    await simulator.stop()


@pytest.fixture
async def limited_sim() -> AsyncIterator[BotApiSimulator]:
    simulator = await _make_sim(RateLimits())
    yield simulator
    await simulator.stop()


@pytest.fixture
async def bot(sim: BotApiSimulator) -> AsyncIterator[Bot]:
    async with Bot(sim.token, base_url=sim.base_url, base_file_url=sim.base_file_url) as client:
        yield client


def last_description(sim: BotApiSimulator) -> str | None:
    """Telegram's error text exactly as served (PTB's exception re-capitalises it)."""
    return sim.request_log[-1].description


def keyboard(*rows: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(text, callback_data=data) for text, data in row] for row in rows]
    )


async def test_get_me_and_base_urls(sim: BotApiSimulator, bot: Bot) -> None:
    assert sim.base_url == f"http://127.0.0.1:{sim.port}/bot"
    assert bot.username == "jiannuo_bot"
    assert bot.id == 123456


async def test_keyboard_tap_arrives_as_callback_query(sim: BotApiSimulator, bot: Bot) -> None:
    sent = await bot.send_message(
        ALICE, "选择：", reply_markup=keyboard([("是", "yes"), ("否", "no")])
    )
    shown = sim.bot_messages(ALICE)[-1]
    assert shown.message_id == sent.message_id
    assert [[b.text for b in row] for row in shown.buttons] == [["是", "否"]]

    query_id = sim.tap_button(ALICE, ALICE, "否")
    updates = await bot.get_updates(timeout=1)
    assert len(updates) == 1
    query = updates[0].callback_query
    assert query is not None
    assert query.id == query_id
    assert query.data == "no"
    assert query.from_user.id == ALICE
    assert query.message is not None and query.message.message_id == sent.message_id

    await bot.answer_callback_query(query.id, text="已记录", show_alert=True)
    answer = await sim.wait_callback_answer(query_id, timeout=1)
    assert (answer.text, answer.show_alert) == ("已记录", True)
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(query.id)
    with pytest.raises(SimError):
        sim.tap(ALICE, ALICE, sent.message_id, "maybe")


async def test_offset_confirms_and_limit(sim: BotApiSimulator, bot: Bot) -> None:
    for text in ("one", "two", "three"):
        sim.send_text(ALICE, text)
    first = await bot.get_updates(limit=2)
    assert [u.message.text for u in first if u.message] == ["one", "two"]
    again = await bot.get_updates()
    assert [u.update_id for u in again[:2]] == [u.update_id for u in first]
    rest = await bot.get_updates(offset=first[-1].update_id + 1)
    assert [u.message.text for u in rest if u.message] == ["three"]
    assert sim.updates_pending() == 1
    assert await bot.get_updates(offset=rest[-1].update_id + 1) == ()
    assert sim.updates_pending() == 0


async def test_long_poll_returns_early(sim: BotApiSimulator, bot: Bot) -> None:
    async def later() -> None:
        await asyncio.sleep(0.2)
        sim.send_text(ALICE, "/start")

    task = asyncio.create_task(later())
    started = time.monotonic()
    updates = await bot.get_updates(timeout=5)
    await task
    assert time.monotonic() - started < 2
    message = updates[0].message
    assert message is not None and message.text == "/start"
    assert message.entities[0].type == "bot_command"
    assert message.chat.type == "private"


async def test_allowed_updates(sim: BotApiSimulator, bot: Bot) -> None:
    sim.send_text(ALICE, "hello")
    sent = await bot.send_message(ALICE, "x", reply_markup=keyboard([("ok", "ok")]))
    sim.tap(ALICE, ALICE, sent.message_id, "ok")
    updates = await bot.get_updates(allowed_updates=["callback_query"])
    assert [u.callback_query is not None for u in updates] == [True]


async def test_group_command_with_bot_username(sim: BotApiSimulator, bot: Bot) -> None:
    sim.send_text(ALICE, "/start@jiannuo_bot", chat_id=GROUP)
    assert await bot.get_updates() == ()  # the bot is not a member yet
    update_id = sim.add_bot_to_group(GROUP, by_user_id=ALICE)
    sim.send_text(ALICE, "/start@jiannuo_bot now", chat_id=GROUP)
    updates = await bot.get_updates()
    member = updates[0].my_chat_member
    assert updates[0].update_id == update_id
    assert member is not None and member.new_chat_member.status == "member"
    message = updates[1].message
    assert message is not None and message.chat.type == "group"
    assert message.parse_entities(["bot_command"]) != {}
    assert list(message.parse_entities(["bot_command"]).values()) == ["/start@jiannuo_bot"]


async def test_html_is_parsed(sim: BotApiSimulator, bot: Bot) -> None:
    sent = await bot.send_message(
        ALICE,
        '<b>粗</b> a &lt; b &amp; <a href="https://x.org">链接</a>',
        parse_mode=ParseMode.HTML,
    )
    assert sent.text == "粗 a < b & 链接"
    stored = sim.bot_messages(ALICE)[-1]
    assert stored.text == "粗 a < b & 链接"
    assert [e["type"] for e in stored.entities] == ["bold", "text_link"]
    assert sent.parse_entities() == {sent.entities[0]: "粗", sent.entities[1]: "链接"}
    for bad in ("<b>unclosed", "<b><i>x</b></i>", "line<br>break", "x</b>"):
        with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
            await bot.send_message(ALICE, bad, parse_mode=ParseMode.HTML)
        assert (last_description(sim) or "").startswith("Bad Request: can't parse entities: ")
    assert len(sim.bot_messages(ALICE)) == 1


async def test_entity_offsets_count_utf16_code_units(sim: BotApiSimulator, bot: Bot) -> None:
    html = "<b>📢 通知</b>｜<i>沈宝方</i>"
    sent = await bot.send_message(ALICE, html, parse_mode=ParseMode.HTML)
    stored = sim.bot_messages(ALICE)[-1]
    assert [(e["type"], e["offset"], e["length"]) for e in stored.entities] == [
        ("bold", 0, 5),  # 📢 is two code units
        ("italic", 6, 3),
    ]
    assert list(sent.parse_entities().values()) == ["📢 通知", "沈宝方"]


async def test_edit_in_place_and_not_modified(sim: BotApiSimulator, bot: Bot) -> None:
    markup = keyboard([("A", "a")])
    sent = await bot.send_message(ALICE, "v1", reply_markup=markup)
    await bot.edit_message_text("v2", ALICE, sent.message_id, reply_markup=markup)
    edited = await bot.edit_message_text("v3", ALICE, sent.message_id)
    assert isinstance(edited, Message) and edited.edit_date is not None
    stored = sim.message(ALICE, sent.message_id)
    assert (stored.text, stored.edits, stored.history, stored.buttons) == (
        "v3",
        2,
        ["v1", "v2"],
        [],
    )
    assert len(sim.bot_messages(ALICE)) == 1
    with pytest.raises(BadRequest) as caught:
        await bot.edit_message_text("v3", ALICE, sent.message_id)
    assert caught.value.message.lower() == NOT_MODIFIED.removeprefix("Bad Request: ").lower()
    assert last_description(sim) == NOT_MODIFIED
    await bot.edit_message_reply_markup(ALICE, sent.message_id, reply_markup=markup)
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_reply_markup(ALICE, sent.message_id, reply_markup=markup)
    assert sim.message(ALICE, sent.message_id).edits == 3


async def test_wait_bot_message_sees_new_and_edited(sim: BotApiSimulator, bot: Bot) -> None:
    typed = sim.send_text(ALICE, "hi")

    async def reply() -> None:
        await asyncio.sleep(0.05)
        sent = await bot.send_message(ALICE, "正在处理")
        await asyncio.sleep(0.05)
        await bot.edit_message_text("完成", ALICE, sent.message_id)

    task = asyncio.create_task(reply())
    first = await sim.wait_bot_message(ALICE, timeout=2)
    assert first.text == "正在处理"
    done = await sim.wait_bot_message(
        ALICE, lambda m: m.text == "完成", timeout=2, after=typed.message_id
    )
    await task
    assert done.message_id == first.message_id and done.edits == 1
    with pytest.raises(TimeoutError):
        await sim.wait_bot_message(ALICE, timeout=0.1)


Call = Callable[[Bot], Awaitable[Any]]
TOO_MANY_BUTTONS = keyboard(
    *[[(str(i * 10 + j), f"d{i}.{j}") for j in range(6)] for i in range(17)]
)
CASES: list[tuple[str, Call, str]] = [
    ("empty text", lambda b: b.send_message(ALICE, " "), "message text is empty"),
    ("long text", lambda b: b.send_message(ALICE, "长" * 4097), "message is too long"),
    (
        "long after html",
        lambda b: b.send_message(ALICE, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML"),
        "",
    ),
    # Telegram counts UTF-16 code units: 📢 is one character and two units.
    ("4095 + emoji", lambda b: b.send_message(ALICE, "📢" + "长" * 4095), "message is too long"),
    ("4094 + emoji", lambda b: b.send_message(ALICE, "📢" + "长" * 4094), ""),
    (
        "emoji in html",
        lambda b: b.send_message(ALICE, "<b>📢</b>" + "x" * 4095, parse_mode="HTML"),
        "message is too long",
    ),
    (
        "caption",
        lambda b: b.send_photo(ALICE, tiny_png(), caption="c" * 1025),
        "message caption is too long",
    ),
    (
        "caption + emoji",
        lambda b: b.send_photo(ALICE, tiny_png(), caption="📢" + "c" * 1023),
        "message caption is too long",
    ),
    (
        "callback data",
        lambda b: b.send_message(ALICE, "x", reply_markup=keyboard([("b", "数" * 22)])),
        "BUTTON_DATA_INVALID",
    ),
    (
        "9 per row",
        lambda b: b.send_message(ALICE, "x", reply_markup=keyboard([("b", "d")] * 9)),
        "REPLY_MARKUP_TOO_LONG",
    ),
    (
        "101 buttons",
        lambda b: b.send_message(ALICE, "x", reply_markup=TOO_MANY_BUTTONS),
        "REPLY_MARKUP_TOO_LONG",
    ),
    (
        "poll question",
        lambda b: b.send_poll(ALICE, "q" * 301, ["a", "b"]),
        "poll question length must not exceed 300",
    ),
    ("1 option", lambda b: b.send_poll(ALICE, "q", ["a"]), "poll must have at least 2 option"),
    (
        "13 options",
        lambda b: b.send_poll(ALICE, "q", [str(i) for i in range(13)]),
        "poll can't have more than 12 options",
    ),
    (
        "long option",
        lambda b: b.send_poll(ALICE, "q", ["a", "b" * 101]),
        "poll options length must not exceed 100",
    ),
    ("chat", lambda b: b.send_message(999, "x"), "chat not found"),
    ("edit", lambda b: b.edit_message_text("x", ALICE, 777), "message to edit not found"),
    ("delete", lambda b: b.delete_message(ALICE, 777), "message to delete not found"),
]


@pytest.mark.parametrize(("call", "reason"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
async def test_bad_requests(sim: BotApiSimulator, bot: Bot, call: Call, reason: str) -> None:
    if not reason:
        await call(bot)  # 4096 UTF-16 code units after parsing are fine
        return
    with pytest.raises(BadRequest) as caught:
        await call(bot)
    assert caught.value.message.lower() == reason.lower()
    assert last_description(sim) == f"Bad Request: {reason}"
    assert sim.request_log[-1].status == 400
    assert sim.bot_messages(ALICE) == []


async def test_long_callback_answer(sim: BotApiSimulator, bot: Bot) -> None:
    sent = await bot.send_message(ALICE, "x", reply_markup=keyboard([("b", "d")]))
    query_id = sim.tap(ALICE, ALICE, sent.message_id, "d")
    with pytest.raises(BadRequest, match=r"(?i)MESSAGE_TOO_LONG"):
        await bot.answer_callback_query(query_id, text="字" * 201)
    await bot.answer_callback_query(query_id, text="字" * 200)


async def test_blocked_user_is_forbidden(sim: BotApiSimulator, bot: Bot) -> None:
    sim.block_bot(BOB)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(BOB, "hello")
    assert last_description(sim) == "Forbidden: bot was blocked by the user"
    updates = await bot.get_updates()
    member = updates[0].my_chat_member
    assert member is not None and member.new_chat_member.status == "kicked"
    with pytest.raises(Forbidden, match="not a member of the group chat"):
        await bot.send_message(GROUP, "hello")


async def test_wrong_token_and_unknown_method(sim: BotApiSimulator, bot: Bot) -> None:
    wrong = Bot("123456:WRONG", base_url=sim.base_url)
    try:
        with pytest.raises(InvalidToken):
            await wrong.initialize()
    finally:
        await wrong.shutdown()
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("noSuchMethod")
    statuses = {(r.method, r.status) for r in sim.request_log}
    assert ("getMe", 401) in statuses and ("noSuchMethod", 404) in statuses


async def test_private_rate_limit(limited_sim: BotApiSimulator) -> None:
    sim = limited_sim
    async with Bot(sim.token, base_url=sim.base_url) as bot:
        sent = 0
        with pytest.raises(RetryAfter) as caught:
            for i in range(10):
                await bot.send_message(ALICE, f"m{i}")
                sent += 1
        assert sent == 5
        retry_after = caught.value.retry_after
        assert isinstance(retry_after, dtm.timedelta) and retry_after >= dtm.timedelta(seconds=1)
        assert sim.stats.served_429 == 1
        assert len(sim.bot_messages(ALICE)) == 5
        await bot.send_message(BOB, "another chat has its own bucket")
        await bot.get_updates()  # not a sending method
    assert [r.status for r in sim.request_log if r.chat_id == ALICE][-1] == 429


async def test_group_and_global_limits() -> None:
    ticks = [0.0]
    sim = BotApiSimulator(rate_limits=RateLimits(), clock=lambda: ticks[0])
    sim.add_user(ALICE, "Alice")
    sim.add_group(GROUP, "G", [ALICE], bot_is_member=True)
    for user in range(2000, 2040):
        sim.add_user(user, f"u{user}")
    await sim.start()
    try:
        async with Bot(sim.token, base_url=sim.base_url) as bot:
            for _ in range(20):
                await bot.send_message(GROUP, "g")
            with pytest.raises(RetryAfter) as caught:
                await bot.send_message(GROUP, "g")
            assert caught.value.retry_after == dtm.timedelta(seconds=3)
            ticks[0] += 1.0
            for user in range(2000, 2030):
                await bot.send_message(user, "u")
            with pytest.raises(RetryAfter):
                await bot.send_message(2039, "u")  # the 31st send within one second
            ticks[0] += 3.0
            await bot.send_message(GROUP, "g")
    finally:
        await sim.stop()
    assert sim.stats.served_429 == 2


async def test_injected_faults(sim: BotApiSimulator, bot: Bot) -> None:
    sim.inject_fault("sendMessage", 500)
    with pytest.raises(NetworkError) as caught:
        await bot.send_message(ALICE, "lost")
    assert not isinstance(caught.value, BadRequest)
    assert sim.bot_messages(ALICE) == []
    sim.inject_fault(None, 502, count=2)
    for _ in range(2):
        with pytest.raises(NetworkError, match="Bad Gateway"):
            await bot.send_message(ALICE, "lost")
    sim.inject_fault("sendMessage", 429, retry_after=7)
    with pytest.raises(RetryAfter) as retry:
        await bot.send_message(ALICE, "lost")
    assert retry.value.retry_after == dtm.timedelta(seconds=7)
    await bot.get_me()  # faults on sending methods leave other methods alone
    await bot.send_message(ALICE, "kept")
    assert [m.text for m in sim.bot_messages(ALICE)] == ["kept"]
    assert sim.stats.served_429 == 1 and sim.stats.served_5xx == 3

    sim.set_fault_rates(p5xx=1.0, seed=1)
    with pytest.raises(NetworkError):
        await bot.send_message(ALICE, "lost")
    sim.clear_faults()
    sim.set_latency(0.05)
    started = time.monotonic()
    await bot.send_message(ALICE, "slow")
    assert time.monotonic() - started >= 0.05


async def test_photos_and_documents(sim: BotApiSimulator, bot: Bot) -> None:
    png = tiny_png(3, 2)
    sent = await bot.send_photo(ALICE, png, caption="<i>图</i>", parse_mode="HTML")
    assert sent.caption == "图"
    photo = sent.photo[-1]
    assert (photo.width, photo.height) == (3, 2)
    file = await bot.get_file(photo.file_id)
    assert bytes(await file.download_as_bytearray()) == png
    again = await bot.send_photo(BOB, photo.file_id)
    assert again.photo[-1].file_id == photo.file_id
    doc = await bot.send_document(ALICE, b"a,b\n1,2\n", filename="roster.csv")
    assert doc.document is not None and doc.document.file_name == "roster.csv"
    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
        await bot.send_document(ALICE, "no-such-file-id")
    stored = sim.bot_messages(ALICE)
    assert stored[0].photo is not None and stored[1].document is not None

    sim.send_document(ALICE, b"PK\x03\x04", "名单.xlsx")
    update = (await bot.get_updates())[0]
    assert update.message is not None and update.message.document is not None
    incoming = await update.message.document.get_file()
    assert bytes(await incoming.download_as_bytearray()) == b"PK\x03\x04"


async def test_commands_per_scope_and_language(sim: BotApiSimulator, bot: Bot) -> None:
    await bot.set_my_commands([BotCommand("start", "开始"), BotCommand("help", "帮助")])
    await bot.set_my_commands([BotCommand("start", "Start")], language_code="en")
    await bot.set_my_commands(
        [BotCommand("pledge", "承诺")], scope=BotCommandScopeAllPrivateChats()
    )
    await bot.set_my_commands([BotCommand("admin", "管理")], scope=BotCommandScopeChat(GROUP))
    assert sim.commands() == [("start", "开始"), ("help", "帮助")]
    assert sim.commands(language_code="en") == [("start", "Start")]
    assert sim.commands("all_private_chats") == [("pledge", "承诺")]
    assert sim.commands("chat", chat_id=GROUP) == [("admin", "管理")]
    got = await bot.get_my_commands(language_code="en")
    assert [(c.command, c.description) for c in got] == [("start", "Start")]
    await bot.delete_my_commands(language_code="en")
    assert sim.commands(language_code="en") == []
    await bot.set_chat_menu_button(ALICE, MenuButtonCommands())
    assert sim.menu_button(ALICE) == {"type": "commands"}


async def test_redeliver_same_update_id(sim: BotApiSimulator, bot: Bot) -> None:
    sim.send_text(ALICE, "一次")
    first = await bot.get_updates()
    sim.send_text(ALICE, "二")
    second = await bot.get_updates(offset=first[-1].update_id + 1)
    sim.redeliver(first[0].update_id)
    again = await bot.get_updates(offset=second[-1].update_id + 1)
    assert [u.update_id for u in again] == [first[0].update_id]
    assert again[0].message is not None and again[0].message.text == "一次"
    assert await bot.get_updates(offset=again[-1].update_id + 1) == ()


async def test_polls_votes_and_chat_info(sim: BotApiSimulator, bot: Bot) -> None:
    sim.add_bot_to_group(GROUP, ALICE)
    sent = await bot.send_poll(GROUP, "哪天？", ["周六", "周日"], is_anonymous=False)
    assert sent.poll is not None
    sim.vote(BOB, sent.poll.id, [1])
    await bot.stop_poll(GROUP, sent.message_id)
    updates = await bot.get_updates()
    answers = [u.poll_answer for u in updates if u.poll_answer]
    assert answers[0].user is not None and answers[0].user.id == BOB
    assert answers[0].option_ids == (1,)
    polls = [u.poll for u in updates if u.poll]
    assert polls[-1].is_closed and polls[-1].options[1].voter_count == 1
    with pytest.raises(BadRequest, match=r"(?i)poll has already been closed"):
        await bot.stop_poll(GROUP, sent.message_id)

    chat = await bot.get_chat(GROUP)
    assert chat.title == "Volunteers"
    member = await bot.get_chat_member(GROUP, BOB)
    assert member.status == "member"
    await bot.send_chat_action(ALICE, "typing")
    await bot.pin_chat_message(GROUP, sent.message_id)
    assert sim.message(GROUP, sent.message_id).pinned


async def test_ptb_application_round_trip(sim: BotApiSimulator) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None
        await context.bot.send_message(
            update.effective_chat.id,
            "<b>欢迎</b>",
            parse_mode=ParseMode.HTML,
            reply_markup=keyboard([("加入", "join")]),
        )

    async def tapped(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer("好的")
        await query.edit_message_text("已加入")

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        await update.message.reply_text(f"你说：{update.message.text}")

    app = (
        Application.builder()
        .token(sim.token)
        .base_url(sim.base_url)
        .base_file_url(sim.base_file_url)
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(tapped))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        try:
            typed = sim.send_text(ALICE, "/start")
            welcome = await sim.wait_bot_message(ALICE, after=typed.message_id)
            assert welcome.text == "欢迎"
            query_id = sim.tap_button(ALICE, ALICE, "加入")
            assert (await sim.wait_callback_answer(query_id)).text == "好的"
            joined = await sim.wait_bot_message(
                ALICE, lambda m: m.edits == 1, after=welcome.message_id - 1
            )
            assert joined.text == "已加入" and joined.buttons == []
            sim.send_text(ALICE, "你好")
            echoed: SimMessage = await sim.wait_bot_message(ALICE)
            assert echoed.text == "你说：你好"
            assert echoed.message_id > joined.message_id
        finally:
            await app.updater.stop()
            await app.stop()
    assert sim.updates_pending() == 0
