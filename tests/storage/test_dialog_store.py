"""Dialog state in the database (bot/chat/dialogs.py, storage/dialog_repo.py): a step's change is
written with the step's effect or not at all, with the update's mark, and a step answered twice
(another worker, a redelivery) changes nothing the second time."""

from __future__ import annotations

from contextlib import nullcontext
from datetime import UTC, datetime, timedelta

import pytest

from bot.chat.dialogs import DialogMoved, Dialogs, DialogState, staging
from storage.db import Database
from storage.update_claim import UpdateSeenBefore

NOW = datetime(2026, 11, 22, 8, tzinfo=UTC)
TTL = timedelta(hours=1)
UPDATE = 5151


class Killed(Exception):
    """The process dies here (its transaction never commits)."""


async def seed(db: Database) -> int:
    async with db.uow() as uow:
        await uow.orgs.upsert_many([{"code": "XH-HS", "name": "黄思村党支部", "type": "rural"}])
        org = await uow.orgs.by_code("XH-HS")
        assert org is not None
        person = await uow.people.create(
            name="王建国",
            org_id=org.id,
            role="member",
            phone="13900000002",
            locale="zh_CN",
            created_at=NOW,
            updated_at=NOW,
        )
    return person.id


async def dialogs_of(db: Database, person_id: int) -> list[DialogState]:
    async with db.read() as uow:
        return await uow.dialogs.of_person(person_id)


async def save_comment(db: Database, person_id: int, text: str) -> None:
    """A step's effect: one write."""
    async with db.uow() as uow:
        await uow.kv.put_many({("comments", str(person_id)): {"text": text}})


async def comments(db: Database) -> dict[str, object]:
    async with db.read() as uow:
        return await uow.kv.get_namespace("comments")


async def test_the_next_step_is_written_with_the_steps_effect(db: Database) -> None:
    person = await seed(db)
    with db.one_update(UPDATE, NOW), staging() as staged:
        dialogs = Dialogs(person, await dialogs_of(db, person), staged, NOW)
        dialogs.go("review_comment", "confirm", {"text": "目标请写具体"}, TTL)
        await save_comment(db, person, "目标请写具体")
        assert not staged.writes  # carried by the effect's unit of work
    (state,) = await dialogs_of(db, person)
    assert (state.name, state.step, state.data) == (
        "review_comment",
        "confirm",
        {"text": "目标请写具体"},
    )
    assert state.version == 1 and state.expires_at == NOW + TTL
    async with db.read() as uow:
        assert await uow.updates.seen(UPDATE)  # marked handled in the same transaction


async def test_a_crash_before_the_effect_commits_keeps_the_dialog_where_it_was(
    db: Database,
) -> None:
    person = await seed(db)
    with staging() as staged:
        Dialogs(person, [], staged, NOW).go("review_comment", "text", {}, TTL)
        async with db.uow() as uow:
            await uow.dialogs.write(staged.take())
    (before,) = await dialogs_of(db, person)
    with db.one_update(UPDATE, NOW), staging() as staged, pytest.raises(Killed):
        dialogs = Dialogs(person, [before], staged, NOW)
        dialogs.go("review_comment", "confirm", {"text": "x"}, TTL)
        async with db.uow() as uow:
            await uow.kv.put_many({("comments", str(person)): {"text": "x"}})
            raise Killed
    assert await dialogs_of(db, person) == [before]
    assert await comments(db) == {}


async def test_a_step_answered_twice_changes_nothing_the_second_time(db: Database) -> None:
    """Two workers read the dialog at the same step; the second one's answer and its effect
    are rolled back together."""
    person = await seed(db)
    with staging() as staged:
        Dialogs(person, [], staged, NOW).go("review_comment", "text", {}, TTL)
        async with db.uow() as uow:
            await uow.dialogs.write(staged.take())
    read = await dialogs_of(db, person)
    with staging() as staged:
        Dialogs(person, read, staged, NOW).go("review_comment", "confirm", {"text": "a"}, TTL)
        await save_comment(db, person, "a")
    with staging() as staged:
        Dialogs(person, read, staged, NOW).go("review_comment", "confirm", {"text": "b"}, TTL)
        with pytest.raises(DialogMoved):
            await save_comment(db, person, "b")
    assert await comments(db) == {str(person): {"text": "a"}}
    (state,) = await dialogs_of(db, person)
    assert state.data == {"text": "a"} and state.version == 2


async def test_two_openings_of_one_dialog_keep_the_first(db: Database) -> None:
    person = await seed(db)
    for text in ("first", "second"):
        with staging() as staged:
            Dialogs(person, [], staged, NOW).go("suggest", "text", {"text": text}, TTL)
            with pytest.raises(DialogMoved) if text == "second" else nullcontext():
                async with db.uow() as uow:
                    await uow.dialogs.write(staged.take())
    (state,) = await dialogs_of(db, person)
    assert state.data == {"text": "first"}


async def test_ending_a_dialog_and_a_redelivery(db: Database) -> None:
    """The end of a dialog marks the update; the same update again ends nothing twice."""
    person = await seed(db)
    with staging() as staged:
        Dialogs(person, [], staged, NOW).go("suggest", "text", {}, TTL)
        async with db.uow() as uow:
            await uow.dialogs.write(staged.take())
    read = await dialogs_of(db, person)
    with db.one_update(UPDATE, NOW), staging() as staged:
        dialogs = Dialogs(person, read, staged, NOW)
        dialogs.end("suggest")
        assert dialogs.get("suggest") is None and dialogs.open_names() == []
        async with db.uow() as uow:
            await uow.dialogs.write(staged.take())
    assert await dialogs_of(db, person) == []
    with db.one_update(UPDATE, NOW), staging() as staged:
        Dialogs(person, [], staged, NOW).go("suggest", "text", {}, TTL)
        with pytest.raises(UpdateSeenBefore):
            async with db.uow() as uow:
                await uow.dialogs.write(staged.take())
    assert await dialogs_of(db, person) == []


async def test_expired_dialogs_are_found_oldest_first(db: Database) -> None:
    person = await seed(db)
    with staging() as staged:
        dialogs = Dialogs(person, [], staged, NOW)
        dialogs.go("suggest", "text", {}, timedelta(minutes=5))
        dialogs.go("pledge_draft", "drafting", {"pledge_id": 3}, timedelta(minutes=1))
        async with db.uow() as uow:
            await uow.dialogs.write(staged.take())
    async with db.read() as uow:
        assert await uow.dialogs.expired(NOW + timedelta(minutes=2)) != []
        late = await uow.dialogs.expired(NOW + timedelta(minutes=10))
    assert [d.name for d in late] == ["pledge_draft", "suggest"]
    assert late[0].expired(NOW + timedelta(minutes=1)) and not late[1].expired(NOW)


async def test_two_steps_in_one_event_follow_each_other(db: Database) -> None:
    """A step carried by its effect, then another change in the same event (written at its
    end): the second starts from what the first wrote, so it is no conflict."""
    person = await seed(db)
    with db.one_update(UPDATE, NOW), staging() as staged:
        dialogs = Dialogs(person, [], staged, NOW)
        dialogs.go("pledge_draft", "drafting", {}, TTL)
        await save_comment(db, person, "effect")
        dialogs.go("pledge_draft", "drafting", {"pledge_id": 9}, TTL)
        async with db.uow() as uow:
            await uow.dialogs.write(staged.take())
    (state,) = await dialogs_of(db, person)
    assert state.data == {"pledge_id": 9} and state.version == 2


async def test_a_refused_step_keeps_what_the_event_wrote_before(db: Database) -> None:
    person = await seed(db)
    with staging() as staged:
        dialogs = Dialogs(person, [], staged, NOW)
        dialogs.go("pledge_draft", "drafting", {"pledge_id": 9}, TTL)
        await save_comment(db, person, "effect")
        dialogs.end("pledge_draft")
        dialogs.discard()  # the next step was refused
        assert staged.writes == {}
        kept = dialogs.get("pledge_draft")
        assert kept is not None and kept.data == {"pledge_id": 9}
