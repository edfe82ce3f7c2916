"""Files people send are Jiannuo's: a photo of evidence is kept in the store, shown again by the
file_id Telegram knows it under, uploaded once more when Telegram no longer takes that id, and a
photo carried over from before the store (held by Telegram only) is fetched into it."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import update

from bot.channels.telegram.files import CHANNEL
from bot.playground.sim_state import tiny_png
from storage import schema
from tests.e2e.files_support import kept_files, store_of
from tests.e2e.harness import WAIT, Human, World
from tests.e2e.test_progress import bot_photos, published_pledge, send_photo


async def photo_of_evidence(world: World) -> tuple[Human, Human]:
    """王建国 records progress with a photo and claims; 沈宝方 gets the claim card."""
    member, secretary = await published_pledge(world)
    await member.send("/progress", expect="请选择要记录进展的承诺事项")
    await member.tap("1. 每月参加支部学习", expect="请用几句话写下做了什么")
    await member.send("参加了6月的支部学习", expect="已记下")
    await send_photo(member, tiny_png(), expect="已收到第 1 个证据")
    await member.tap("申请兑现销号", expect="已申请兑现销号")
    await secretary.receive("王建国 申请兑现销号")
    return member, secretary


async def view_evidence(world: World, secretary: Human) -> str:
    """The secretary taps 查看证据 and gets the photo; the file_id it came under."""
    before = len(bot_photos(world, secretary))
    await secretary.tap("查看证据", expect="的证据，共 1 个")
    await world.sim.wait_until(lambda: len(bot_photos(world, secretary)) > before, WAIT)
    photo = bot_photos(world, secretary)[-1].photo
    assert photo is not None
    return photo.file_id


async def cached_as(world: World, upload_id: str) -> Any:
    """The one kept file, once its Telegram upload id is ``upload_id`` (or as it is at WAIT)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while True:
        [kept] = await kept_files(world)
        if kept.telegram_id == upload_id or loop.time() > deadline:
            return kept
        await asyncio.sleep(0.05)


async def test_a_file_id_telegram_refuses_is_replaced_by_one_upload(world: World) -> None:
    _, secretary = await photo_of_evidence(world)
    [photo] = await kept_files(world)
    # Telegram no longer takes the id the photo came under (another bot's, or expired).
    async with world.db.uow() as uow:
        await uow.files.conn.execute(
            update(schema.file_uploads).values(upload_id="AgACAgUAAxkBAAIBgoneXXXX")
        )

    files_before = len(world.sim.state.files)
    uploaded = await view_evidence(world, secretary)
    # Uploaded from Jiannuo's store: the very bytes, under a new file_id that is cached.
    assert len(world.sim.state.files) == files_before + 1
    assert world.sim.file_bytes(uploaded) == tiny_png()
    # The new id is cached once the send is recorded, a moment after the photo arrives.
    again = await cached_as(world, uploaded)
    assert again.telegram_id == uploaded and again.file.id == photo.file.id

    # The next time it goes by that id: nothing uploaded.
    assert await view_evidence(world, secretary) == uploaded
    assert len(world.sim.state.files) == files_before + 1


async def test_a_photo_telegram_alone_held_is_shown_and_fetched_into_the_store(
    world: World,
) -> None:
    _, secretary = await photo_of_evidence(world)
    [photo] = await kept_files(world)
    assert photo.file.sha256 is not None and photo.telegram_id is not None
    # As revision 0012 leaves a file_id of before the store: no bytes here, Telegram has them.
    blob = world.settings.files_root() / photo.file.sha256[:2] / photo.file.sha256
    blob.unlink()
    async with world.db.uow() as uow:
        await uow.files.conn.execute(
            update(schema.stored_files).values(sha256=None, size=None, held_by=CHANNEL)
        )
    [held] = await kept_files(world)
    assert (held.data, held.file.held_by) == (None, CHANNEL)

    # Still shown, by Telegram's id.
    assert await view_evidence(world, secretary) == photo.telegram_id

    # The bot running with Telegram fetches it (the hourly job's work, driven here).
    app = world.runner.app
    assert app is not None
    assert await app.bot_data.services.files.fetch_held(app.bot) == 1
    [fetched] = await kept_files(world)
    assert fetched.data == tiny_png() and fetched.file.here and fetched.file.held_by is None
    assert await store_of(world).held_elsewhere(CHANNEL, 10) == []
    assert await app.bot_data.services.files.fetch_held(app.bot) == 0
