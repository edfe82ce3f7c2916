"""One repository per aggregate. They take an open connection and return pydantic models."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    Integer,
    Row,
    Select,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    select,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.chat.actor import Account
from bot.domain.models import (
    Invite,
    ItemDraft,
    Org,
    OutboxMessage,
    Person,
    Pledge,
    PledgeItem,
    Review,
)
from storage import schema as s
from storage.accounts import PERSON, TELEGRAM, person_of_account, telegram_id
from storage.bulk import insert_rows, json_each, json_text
from storage.ordering import by_name
from storage.upsert import insert_on_conflict


def _org(row: Row[Any]) -> Org:
    return Org.model_validate(row._mapping)


def _person(row: Row[Any]) -> Person:
    return Person.model_validate(row._mapping)


_ORG_BY_ID = select(s.orgs).where(s.orgs.c.id == bindparam("id"))


class OrgRepo:
    """Organisations and the tree they form."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def get(self, org_id: int) -> Org | None:
        """The organisation with this id."""
        row = (await self.conn.execute(_ORG_BY_ID, {"id": org_id})).first()
        return _org(row) if row else None

    async def by_code(self, code: str) -> Org | None:
        """The organisation with this code."""
        row = (await self.conn.execute(select(s.orgs).where(s.orgs.c.code == code))).first()
        return _org(row) if row else None

    async def all(self) -> list[Org]:
        """Every organisation."""
        rows = await self.conn.execute(select(s.orgs).order_by(s.orgs.c.id))
        return [_org(r) for r in rows]

    async def codes(self) -> dict[str, int]:
        """Map of code → id."""
        rows = await self.conn.execute(select(s.orgs.c.code, s.orgs.c.id))
        return {code: oid for code, oid in rows}

    async def by_board_chat(self, chat_id: int) -> list[Org]:
        """Organisations whose board is this chat."""
        rows = await self.conn.execute(select(s.orgs).where(s.orgs.c.board_chat_id == chat_id))
        return [_org(r) for r in rows]

    async def ancestors(self, org_id: int) -> list[Org]:
        """Parents from the nearest up to the root."""
        result: list[Org] = []
        org = await self.get(org_id)
        seen = {org_id}
        while org is not None and org.parent_id is not None and org.parent_id not in seen:
            seen.add(org.parent_id)
            org = await self.get(org.parent_id)
            if org is not None:
                result.append(org)
        return result

    async def upsert_many(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert or update orgs by code; parents are given as codes and must come first."""
        existing = await self.codes()
        for row in rows:
            parent_id = existing.get(row["parent"]) if row.get("parent") else None
            values = {"name": row["name"], "type": row["type"], "parent_id": parent_id}
            if row["code"] in existing:
                await self.conn.execute(
                    update(s.orgs).where(s.orgs.c.code == row["code"]).values(**values)
                )
            else:
                result = await self.conn.execute(insert(s.orgs).values(code=row["code"], **values))
                pk = result.inserted_primary_key
                assert pk is not None
                existing[row["code"]] = int(pk[0])

    async def set_board(self, org_id: int, chat_id: int | None) -> None:
        """Link the board chat of an organisation."""
        await self.conn.execute(
            update(s.orgs).where(s.orgs.c.id == org_id).values(board_chat_id=chat_id)
        )


# The people looked up while one update is handled: ("account", (channel, external id)) or
# ("id", person id) → Person (None: no such person, or an unbound account).
# An update reads its sender several times (their language, then each service's permission
# check); inside one update the first read answers the others. Set for each update by
# people_of_one_update (the Application's lanes); outside an update (jobs, the outbox) it is
# None and every read goes to the database. Any write to people empties it.
_update_people: ContextVar[dict[tuple[str, object], Person | None] | None] = ContextVar(
    "update_people", default=None
)


@contextmanager
def people_of_one_update() -> Iterator[None]:
    """Within: an account's person is read from the database once (see _update_people)."""
    token = _update_people.set({})
    try:
        yield
    finally:
        _update_people.reset(token)


def remembered_account(account: Account) -> tuple[bool, Person | None]:
    """(True, person) if this update already read the account (person None: unbound);
    (False, None) if it did not, or outside an update."""
    seen = _update_people.get()
    key = ("account", (account.channel, account.external_id))
    if seen is None or key not in seen:
        return False, None
    return True, seen[key]


_PERSON_BY_ID = PERSON.where(s.people.c.id == bindparam("id"))
_PERSON_BY_ACCOUNT = PERSON.where(
    s.people.c.id == person_of_account(bindparam("channel"), bindparam("external_id"))
)


class PersonRepo:
    """People on the roster."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        self._wrote = False  # this transaction changed people: its reads are not shared

    def _writing(self) -> None:
        """Before any write to people: what this update read of them is forgotten."""
        self._wrote = True
        seen = _update_people.get()
        if seen is not None:
            seen.clear()

    async def get(self, person_id: int) -> Person | None:
        """The person with this id (read once per update, see above)."""
        return await self._one(_PERSON_BY_ID, ("id", person_id), {"id": person_id})

    async def by_account(self, account: Account) -> Person | None:
        """The person bound to this channel account (read once per update, see above)."""
        key = (account.channel, account.external_id)
        params = {"channel": account.channel, "external_id": account.external_id}
        return await self._one(_PERSON_BY_ACCOUNT, ("account", key), params)

    async def by_tg(self, tg_user_id: int) -> Person | None:
        """The person bound to this Telegram account (read once per update, see above)."""
        return await self.by_account(Account(TELEGRAM, str(tg_user_id)))

    async def _one(
        self, query: Select[Any], key: tuple[str, object], params: dict[str, Any]
    ) -> Person | None:
        seen = None if self._wrote else _update_people.get()
        if seen is not None and key in seen:
            return seen[key]
        row = (await self.conn.execute(query, params)).first()
        person = _person(row) if row else None
        if seen is not None:
            seen[key] = person
            if person is not None:  # the same person, whichever way it is asked for next
                seen["id", person.id] = person
        return person

    async def in_org(self, org_id: int, roles: Iterable[str] | None = None) -> list[Person]:
        """People of one organisation, optionally of some roles, by name."""
        query = PERSON.where(s.people.c.org_id == org_id)
        if roles is not None:
            query = query.where(s.people.c.role.in_(list(roles)))
        rows = await self.conn.execute(
            query.order_by(by_name(s.people.c.name, self.conn.dialect.name), s.people.c.id)
        )
        return [_person(r) for r in rows]

    async def identity_map(self) -> dict[tuple[int, str, str], int]:
        """Map of (org_id, name, phone) → person id, for re-imports."""
        rows = await self.conn.execute(
            select(s.people.c.org_id, s.people.c.name, s.people.c.phone, s.people.c.id)
        )
        return {(o, n, p): pid for o, n, p, pid in rows}

    async def insert_many(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert people in one batch (a Telegram id is an account: storage.accounts)."""
        self._writing()
        if any("tg_user_id" in row for row in rows):  # would be dropped without a word
            raise ValueError("people has no tg_user_id: use storage.accounts.insert_people")
        if rows:
            await self.conn.execute(insert(s.people), list(rows))

    async def update_many(self, rows: Sequence[dict[str, Any]]) -> None:
        """Update people by id in one batch (each row has ``pid`` and the new values)."""
        self._writing()
        if not rows:
            return
        stmt = (
            update(s.people)
            .where(s.people.c.id == _bind("pid"))
            .values(
                role=_bind("role"),
                cadre=_bind("cadre"),
                post=_bind("post"),
                oral=_bind("oral"),
                origin_org_id=_bind("origin_org_id"),
                residence_org_id=_bind("residence_org_id"),
                updated_at=_bind("updated_at"),
            )
        )
        await self.conn.execute(stmt, list(rows))

    async def create(self, **values: Any) -> Person:
        """Insert one person and return it."""
        self._writing()
        result = await self.conn.execute(insert(s.people).values(**values))
        pk = result.inserted_primary_key
        assert pk is not None
        person = await self.get(int(pk[0]))
        assert person is not None
        return person

    async def bind(
        self, person_id: int, tg_user_id: int, locale: str, at: datetime | None = None
    ) -> None:
        """Bind a Telegram account to a roster entry (at ``at``, else now), in place of any
        Telegram account the person had."""
        self._writing()
        await self.conn.execute(
            delete(s.accounts).where(
                and_(s.accounts.c.person_id == person_id, s.accounts.c.channel == TELEGRAM)
            )
        )
        await self.conn.execute(
            insert(s.accounts).values(
                channel=TELEGRAM,
                external_id=str(tg_user_id),
                person_id=person_id,
                created_at=at or datetime.now(UTC),
            )
        )
        await self.conn.execute(
            update(s.people).where(s.people.c.id == person_id).values(locale=locale)
        )

    async def set_phone_confirmed(self, person_id: int, confirmed: bool) -> None:
        """Remember that a resident confirmed their phone by sharing their own contact."""
        self._writing()
        await self.conn.execute(
            update(s.people).where(s.people.c.id == person_id).values(phone_confirmed=confirmed)
        )

    async def unconfirmed_residents_in_evaluations(self) -> list[tuple[int, Person]]:
        """(evaluation, resident) for every open mass evaluation and each bound resident of
        its branch who has not confirmed their phone yet (they are asked to)."""
        p, ev = s.people, s.evaluations
        rows = await self.conn.execute(
            select(ev.c.id.label("evaluation_id"), *PERSON.selected_columns)
            .select_from(ev.join(p, p.c.org_id == ev.c.org_id))
            .where(
                and_(
                    ev.c.status == "open",
                    p.c.role == "resident",
                    p.c.phone_confirmed.is_(False),
                    telegram_id(p.c.id).is_not(None),
                )
            )
            .order_by(ev.c.id, p.c.id)
        )
        return [(int(r.evaluation_id), _person(r)) for r in rows]

    async def set_locale(self, person_id: int, locale: str) -> None:
        """Remember the person's language."""
        self._writing()
        await self.conn.execute(
            update(s.people).where(s.people.c.id == person_id).values(locale=locale)
        )

    async def by_ids(self, ids: Iterable[int]) -> dict[int, Person]:
        """People by id."""
        id_list = list(set(ids))
        if not id_list:
            return {}
        rows = await self.conn.execute(PERSON.where(s.people.c.id.in_(id_list)))
        return {r.id: _person(r) for r in rows}


def _bind(name: str) -> Any:
    from sqlalchemy import bindparam

    return bindparam(name)


class InviteRepo:
    """Invite codes."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def get(self, code: str) -> Invite | None:
        """The invite with this code."""
        row = (await self.conn.execute(select(s.invites).where(s.invites.c.code == code))).first()
        return Invite.model_validate(row._mapping) if row else None

    async def add_many(self, rows: Sequence[dict[str, Any]]) -> None:
        """Store new invites in one batch."""
        if rows:
            await self.conn.execute(insert(s.invites), list(rows))

    async def mark_used(self, code: str, at: datetime, tg_user_id: int) -> bool:
        """Use an invite once; False if someone used it first."""
        result = await self.conn.execute(
            update(s.invites)
            .where(and_(s.invites.c.code == code, s.invites.c.used_at.is_(None)))
            .values(used_at=at, used_by_tg=tg_user_id)
        )
        return result.rowcount == 1

    async def revoke_open_for(self, person_ids: Sequence[int], at: datetime) -> None:
        """Expire every unused invite of these people (a new list replaces the old one)."""
        if person_ids:
            await self.conn.execute(
                update(s.invites)
                .where(
                    and_(
                        s.invites.c.person_id.in_(list(person_ids)), s.invites.c.used_at.is_(None)
                    )
                )
                .values(expires_at=at)
            )


_PLEDGE_BY_ID = select(s.pledges).where(s.pledges.c.id == bindparam("id"))
_ITEMS_OF = (
    select(s.pledge_items)
    .where(s.pledge_items.c.pledge_id.in_(bindparam("ids", expanding=True)))
    .order_by(s.pledge_items.c.pledge_id, s.pledge_items.c.position)
)


@cache
def _find_pledges(given: frozenset[str], published: bool) -> Select[Any]:
    """PledgeRepo.find's statement for the filters given (built once per combination; the
    values are bound parameters named as the filters)."""
    p = s.pledges.c
    query = select(s.pledges)
    for name in ("person_id", "org_id", "drafter_id", "pledger_kind"):  # column == value
        if name in given:
            query = query.where(p[name] == bindparam(name))
    if "org_ids" in given:
        query = query.where(p.org_id.in_(bindparam("org_ids", expanding=True)))
    if "statuses" in given:
        query = query.where(p.status.in_(bindparam("statuses", expanding=True)))
    if published:
        query = query.where(p.number.is_not(None))
    query = query.order_by(p.id)
    if "limit" in given:
        query = query.limit(bindparam("limit", type_=Integer))
    return query


class PledgeRepo:
    """Pledges with their items."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def _load(self, rows: Sequence[Row[Any]]) -> list[Pledge]:
        if not rows:
            return []
        item_rows = await self.conn.execute(_ITEMS_OF, {"ids": [r.id for r in rows]})
        items: dict[int, list[PledgeItem]] = {}
        for r in item_rows:
            items.setdefault(r.pledge_id, []).append(PledgeItem.model_validate(r._mapping))
        result = []
        for r in rows:
            data = dict(r._mapping)
            data["cadre_gaps"] = data.get("cadre_gaps") or []
            pending = data.get("pending_item")
            data["pending_item"] = ItemDraft.model_validate(pending) if pending else None
            data["items"] = tuple(items.get(r.id, ()))
            result.append(Pledge.model_validate(data))
        return result

    async def get(self, pledge_id: int) -> Pledge | None:
        """The pledge with this id, with its items."""
        rows = (await self.conn.execute(_PLEDGE_BY_ID, {"id": pledge_id})).all()
        loaded = await self._load(rows)
        return loaded[0] if loaded else None

    async def find(
        self,
        *,
        person_id: int | None = None,
        org_id: int | None = None,
        org_ids: Sequence[int] | None = None,
        drafter_id: int | None = None,
        statuses: Sequence[str] | None = None,
        pledger_kind: str | None = None,
        published: bool | None = None,
        limit: int | None = None,
    ) -> list[Pledge]:
        """Pledges matching every given filter, oldest first."""
        given = {
            "person_id": person_id,
            "org_id": org_id,
            "org_ids": list(org_ids) if org_ids is not None else None,
            "drafter_id": drafter_id,
            "statuses": list(statuses) if statuses is not None else None,
            "pledger_kind": pledger_kind,
            "limit": limit,
        }
        params = {name: value for name, value in given.items() if value is not None}
        query = _find_pledges(frozenset(params), published is True)
        rows = (await self.conn.execute(query, params)).all()
        return await self._load(rows)

    async def create(self, **values: Any) -> int:
        """Insert a pledge and return its id."""
        result = await self.conn.execute(insert(s.pledges).values(**values))
        pk = result.inserted_primary_key
        assert pk is not None
        return int(pk[0])

    async def update(
        self, pledge_id: int, expected_version: int | None = None, **values: Any
    ) -> bool:
        """Update a pledge; with expected_version, only if nobody changed it meanwhile."""
        stmt = update(s.pledges).where(s.pledges.c.id == pledge_id)
        if expected_version is not None:
            stmt = stmt.where(s.pledges.c.version == expected_version)
        result = await self.conn.execute(stmt.values(**values))
        return result.rowcount == 1

    async def add_item(self, pledge_id: int, **values: Any) -> int:
        """Append an item at the end."""
        pos = (
            await self.conn.execute(
                select(func.coalesce(func.max(s.pledge_items.c.position), 0)).where(
                    s.pledge_items.c.pledge_id == pledge_id
                )
            )
        ).scalar_one()
        result = await self.conn.execute(
            insert(s.pledge_items).values(pledge_id=pledge_id, position=int(pos) + 1, **values)
        )
        pk = result.inserted_primary_key
        assert pk is not None
        return int(pk[0])

    async def update_item(self, pledge_id: int, item_id: int, **values: Any) -> bool:
        """Change an item of this pledge (a new deadline re-arms its reminders)."""
        if "deadline" in values:
            values = {**values, "remind_from": None}
        result = await self.conn.execute(
            update(s.pledge_items)
            .where(and_(s.pledge_items.c.id == item_id, s.pledge_items.c.pledge_id == pledge_id))
            .values(**values)
        )
        return result.rowcount == 1

    async def remove_item(self, pledge_id: int, item_id: int) -> bool:
        """Delete an item of this pledge."""
        result = await self.conn.execute(
            delete(s.pledge_items).where(
                and_(s.pledge_items.c.id == item_id, s.pledge_items.c.pledge_id == pledge_id)
            )
        )
        return result.rowcount == 1

    async def replace_items(self, pledge_id: int, items: Sequence[dict[str, Any]]) -> None:
        """Replace every item (used when an amendment is abandoned)."""
        await self.conn.execute(
            delete(s.pledge_items).where(s.pledge_items.c.pledge_id == pledge_id)
        )
        if items:
            await self.conn.execute(
                insert(s.pledge_items),
                [{"pledge_id": pledge_id, "position": i + 1, **it} for i, it in enumerate(items)],
            )

    async def restore_items(self, pledge_id: int, items: Sequence[dict[str, Any]]) -> None:
        """Bring the items back to a snapshot in place: same rows (ids) updated, rows added
        since deleted, so progress recorded against the items stays attached."""
        t = s.pledge_items
        current = {
            row.id: row
            for row in await self.conn.execute(select(t).where(t.c.pledge_id == pledge_id))
        }
        keep: set[int] = set()
        for position, item in enumerate(items, start=1):
            values = {
                "position": position,
                "category": item["category"],
                "content": item["content"],
                "target": item["target"],
                "deadline": item["deadline"],
                "responsible": item["responsible"],
            }
            item_id = item.get("id")
            if item_id is not None and item_id in current:
                keep.add(item_id)
                if current[item_id].deadline != values["deadline"]:
                    values["remind_from"] = None
                await self.conn.execute(update(t).where(t.c.id == item_id).values(**values))
            else:
                await self.conn.execute(
                    insert(t).values(
                        pledge_id=pledge_id, **values, **({"id": item_id} if item_id else {})
                    )
                )
        gone = [item_id for item_id in current if item_id not in keep]
        if gone:
            await self.conn.execute(delete(t).where(t.c.id.in_(gone)))

    async def items_with_progress(self, item_ids: Sequence[int]) -> set[int]:
        """Which of these items have progress recorded (their history must not be lost)."""
        if not item_ids:
            return set()
        rows = await self.conn.execute(
            select(s.progress_entries.c.item_id)
            .where(s.progress_entries.c.item_id.in_(list(item_ids)))
            .distinct()
        )
        return {int(item_id) for (item_id,) in rows}

    async def delete(self, pledge_id: int) -> None:
        """Delete a pledge that was never submitted."""
        await self.conn.execute(
            delete(s.pledge_items).where(s.pledge_items.c.pledge_id == pledge_id)
        )
        await self.conn.execute(delete(s.pledges).where(s.pledges.c.id == pledge_id))

    async def next_number(self, prefix: str) -> str:
        """Allocate the next pledge number under a prefix, e.g. HS-2026-0001."""
        name = f"pledge:{prefix}"
        updated = await self.conn.execute(
            update(s.counters)
            .where(s.counters.c.name == name)
            .values(value=s.counters.c.value + 1)
        )
        if updated.rowcount == 0:
            await self.conn.execute(insert(s.counters).values(name=name, value=1))
        value = (
            await self.conn.execute(select(s.counters.c.value).where(s.counters.c.name == name))
        ).scalar_one()
        return f"{prefix}-{int(value):04d}"


class ReviewRepo:
    """The audit trail of review decisions."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(self, **values: Any) -> None:
        """Record a decision."""
        await self.conn.execute(insert(s.reviews).values(**values))

    async def for_pledge(self, pledge_id: int) -> list[Review]:
        """Every decision on a pledge, oldest first."""
        rows = await self.conn.execute(
            select(s.reviews).where(s.reviews.c.pledge_id == pledge_id).order_by(s.reviews.c.id)
        )
        return [Review.model_validate(r._mapping) for r in rows]


SETTLE_CHUNK = 300  # rows per UPDATE: two parameters each, well under every engine's limit


class OutboxRow(OutboxMessage):
    """An outbox row as the dispatcher loads it: with the broadcast it belongs to, if any."""

    broadcast_id: int | None = None


class OutboxBatch:
    """Outcomes of many sends, recorded in one transaction by :meth:`OutboxRepo.settle`."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.failed: list[dict[str, Any]] = []
        self.postponed: list[dict[str, Any]] = []

    def mark_sent(self, row_id: int, message_id: int | None, at: datetime) -> None:
        """The channel accepted the row's message."""
        self.sent.append({"b_id": row_id, "b_message_id": message_id, "b_at": at})

    def mark_failed(self, row_id: int, error: str) -> None:
        """The channel refused the row for good."""
        self.failed.append({"b_id": row_id, "b_error": error[:1000]})

    def postpone(
        self, row_id: int, not_before: datetime, attempts: int, error: str, parts_sent: int = 0
    ) -> None:
        """The row is tried again from ``not_before`` (after the ``parts_sent`` delivered)."""
        self.postponed.append(
            {
                "b_id": row_id,
                "b_not_before": not_before,
                "b_attempts": attempts,
                "b_error": error,
                "b_parts": parts_sent,
            }
        )


class OutboxRepo:
    """Messages waiting to be sent, and the messages that may be edited later."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(self, rows: Sequence[dict[str, Any]]) -> None:
        """Queue messages (in one batch, in their order)."""
        await insert_rows(self.conn, s.outbox, rows)

    async def due(self, now: datetime, limit: int) -> list[OutboxMessage]:
        """Pending messages due now, oldest first.

        A chat with a postponed row is skipped entirely, so its later rows wait behind it
        (order per chat) while other chats go on.
        """
        waiting = select(s.outbox.c.chat_id).where(
            and_(s.outbox.c.status == "pending", s.outbox.c.not_before > now)
        )
        rows = await self.conn.execute(
            select(s.outbox)
            .where(and_(s.outbox.c.status == "pending", s.outbox.c.chat_id.not_in(waiting)))
            .order_by(s.outbox.c.id)
            .limit(limit)
        )
        return [OutboxMessage.model_validate(r._mapping) for r in rows]

    async def due_ids(self, now: datetime, limit: int, own_only: bool = False) -> list[int]:
        """Ids of the pending rows due now, the bot's own messages before broadcast rows,
        oldest first within each (cheap to re-read: the dispatcher skips the ones it holds).

        Like :meth:`due`, a chat with a postponed row is skipped entirely. ``own_only``: the
        bot's own messages only (no broadcast rows)."""
        waiting = select(s.outbox.c.chat_id).where(
            and_(s.outbox.c.status == "pending", s.outbox.c.not_before > now)
        )
        query = select(s.outbox.c.id).where(
            and_(s.outbox.c.status == "pending", s.outbox.c.chat_id.not_in(waiting))
        )
        if own_only:
            query = query.where(s.outbox.c.broadcast_id.is_(None))
        rows = await self.conn.execute(
            # Two lanes: the bot's own messages first, broadcast rows after them.
            query.order_by(s.outbox.c.broadcast_id.is_not(None), s.outbox.c.id).limit(limit)
        )
        return [int(r[0]) for r in rows]

    async def rows(self, ids: Sequence[int]) -> list[OutboxRow]:
        """Outbox rows by id, oldest first."""
        result: list[OutboxRow] = []
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            rows = await self.conn.execute(
                select(s.outbox).where(s.outbox.c.id.in_(chunk)).order_by(s.outbox.c.id)
            )
            result.extend(OutboxRow.model_validate(r._mapping) for r in rows)
        result.sort(key=lambda r: r.id)
        return result

    async def settle(self, batch: OutboxBatch) -> None:
        """Record many outcomes at once: a few statements, not one commit per row.

        Sent and failed rows are updated by one ``UPDATE … SET x = CASE id … END WHERE id IN
        (…)`` per chunk rather than an executemany: the database steps once instead of once
        per row, and under load every step waits for the interpreter's lock.
        """
        c = s.outbox.c
        by_time: dict[datetime, list[dict[str, Any]]] = {}
        for row in batch.sent:
            by_time.setdefault(row["b_at"], []).append(row)
        for at, rows in by_time.items():
            for start in range(0, len(rows), SETTLE_CHUNK):
                chunk = rows[start : start + SETTLE_CHUNK]
                await self.conn.execute(
                    update(s.outbox)
                    .where(c.id.in_([r["b_id"] for r in chunk]))
                    .values(
                        status="sent",
                        message_id=case({r["b_id"]: r["b_message_id"] for r in chunk}, value=c.id),
                        sent_at=at,
                        error=None,
                    )
                )
        for start in range(0, len(batch.failed), SETTLE_CHUNK):
            chunk = batch.failed[start : start + SETTLE_CHUNK]
            await self.conn.execute(
                update(s.outbox)
                .where(c.id.in_([r["b_id"] for r in chunk]))
                .values(
                    status="failed",
                    error=case({r["b_id"]: r["b_error"] for r in chunk}, value=c.id),
                )
            )
        if batch.postponed:
            await self.conn.execute(
                update(s.outbox)
                .where(c.id == _bind("b_id"))
                .values(
                    not_before=_bind("b_not_before"),
                    attempts=_bind("b_attempts"),
                    error=_bind("b_error"),
                    parts_sent=_bind("b_parts"),
                ),
                batch.postponed,
            )

    async def refresh_view(self, row: dict[str, Any]) -> bool:
        """Queue a live view's refresh unless one is already pending under the same ref.

        At most one refresh of a view waits in the outbox, however often it is asked for
        (a unique index on the pending views' refs holds it, also between processes);
        False if one was already waiting.
        """
        if row.get("kind") != "view" or not row.get("ref"):
            raise ValueError("refresh_view takes a view row with a ref")
        result = await self.conn.execute(_queue_view(self.conn.dialect.name), row)
        return bool(result.rowcount)

    async def get(self, row_id: int) -> OutboxMessage | None:
        """One outbox row."""
        row = (await self.conn.execute(select(s.outbox).where(s.outbox.c.id == row_id))).first()
        return OutboxMessage.model_validate(row._mapping) if row else None

    async def mark_sent(self, row_id: int, message_id: int | None, at: datetime) -> None:
        """The channel accepted the message."""
        await self.conn.execute(
            update(s.outbox)
            .where(s.outbox.c.id == row_id)
            .values(status="sent", message_id=message_id, sent_at=at, error=None)
        )

    async def mark_failed(self, row_id: int, error: str) -> None:
        """The channel refused the message for good."""
        await self.conn.execute(
            update(s.outbox).where(s.outbox.c.id == row_id).values(status="failed", error=error)
        )

    async def postpone(self, row_id: int, not_before: datetime, attempts: int, error: str) -> None:
        """Try again later."""
        await self.conn.execute(
            update(s.outbox)
            .where(s.outbox.c.id == row_id)
            .values(not_before=not_before, attempts=attempts, error=error)
        )

    async def counts(self) -> dict[str, int]:
        """Rows per status."""
        rows = await self.conn.execute(
            select(s.outbox.c.status, func.count()).group_by(s.outbox.c.status)
        )
        return {status: int(n) for status, n in rows}

    async def posted(self, ref: str) -> tuple[int, int] | None:
        """(chat_id, message_id) of a message posted under this ref."""
        row = (
            await self.conn.execute(
                select(s.posted_messages.c.chat_id, s.posted_messages.c.message_id).where(
                    s.posted_messages.c.ref == ref
                )
            )
        ).first()
        return (int(row[0]), int(row[1])) if row else None

    async def discard(self, ids: Sequence[int]) -> None:
        """Delete unsent rows that were superseded before they went out."""
        await _discard(self.conn, ids)

    async def remember_posted(self, ref: str, chat_id: int, message_id: int) -> None:
        """Remember where a ref'd message was posted, for later edits."""
        await self.conn.execute(
            _remember_posted(self.conn.dialect.name),
            {"ref": ref, "chat_id": chat_id, "message_id": message_id},
        )


@cache
def _queue_view(dialect: str) -> Any:
    """INSERT a view's row unless a refresh of its ref is pending (uq_outbox_pending_view)."""
    return insert_on_conflict(s.outbox, dialect).on_conflict_do_nothing(
        index_elements=[s.outbox.c.ref], index_where=s.PENDING_VIEW
    )


@cache
def _remember_posted(dialect: str) -> Any:
    """INSERT a posted message's place, or move its ref to the new place."""
    stmt = insert_on_conflict(s.posted_messages, dialect)
    return stmt.on_conflict_do_update(
        index_elements=[s.posted_messages.c.ref],
        set_={"chat_id": stmt.excluded.chat_id, "message_id": stmt.excluded.message_id},
    )


async def _discard(conn: AsyncConnection, ids: Sequence[int]) -> None:
    if ids:
        await conn.execute(delete(s.outbox).where(s.outbox.c.id.in_(list(ids))))


def _claim(dialect: str) -> Any:
    """INSERT the update id, nothing if it is there: ON CONFLICT DO NOTHING, which SQLite and
    PostgreSQL both have (built once per engine: it runs for every update that writes)."""
    from sqlalchemy.dialects import postgresql, sqlite

    table = s.processed_updates
    values = {
        "update_id": bindparam("update_id", type_=table.c.update_id.type),
        "at": bindparam("at", type_=table.c.at.type),
    }
    insert_ = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert_(table).values(values).on_conflict_do_nothing(index_elements=[table.c.update_id])


_SEEN = select(s.processed_updates.c.update_id).where(
    s.processed_updates.c.update_id == bindparam("update_id")
)
_CLAIM = {name: _claim(name) for name in ("sqlite", "postgresql")}


class UpdateRepo:
    """Update ids already handled, so a redelivered update changes nothing twice."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def claim(self, update_id: int, at: datetime) -> bool:
        """Record the update as handled: True the first time, False if it was (one statement,
        in the transaction of the update's effects: storage/update_claim.py)."""
        result = await self.conn.execute(
            _CLAIM[self.conn.dialect.name], {"update_id": update_id, "at": at}
        )
        return bool(result.rowcount)

    async def seen(self, update_id: int) -> bool:
        """Whether the update is recorded as handled (a redelivery is stopped early)."""
        return (await self.conn.execute(_SEEN, {"update_id": update_id})).first() is not None

    async def prune(self, before: datetime) -> int:
        """Forget ids older than Telegram would ever redeliver (it keeps updates 24 h)."""
        result = await self.conn.execute(
            delete(s.processed_updates).where(s.processed_updates.c.at < before)
        )
        return int(result.rowcount or 0)

    async def record_handled(self, update_ids: Sequence[int], at: datetime) -> None:
        """Record update ids as handled (the ballot box's, with the ballots they set); ids
        already recorded stay as they are."""
        wanted = sorted(set(update_ids))
        if not wanted:
            return
        dialect = self.conn.dialect.name
        if dialect == "sqlite":  # one statement for the whole batch
            await self.conn.execute(_record_handled_json(), {"ids": json_text(wanted), "at": at})
            return
        await self.conn.execute(
            _record_handled(dialect), [{"update_id": u, "at": at} for u in wanted]
        )

    async def handled_among(self, update_ids: Sequence[int]) -> set[int]:
        """Which of these update ids are recorded as handled."""
        wanted = sorted(set(update_ids))
        if not wanted:
            return set()
        c = s.processed_updates.c
        rows = await self.conn.execute(
            select(c.update_id).where(c.update_id.between(wanted[0], wanted[-1]))
        )
        return {int(r[0]) for r in rows} & set(wanted)


class KvRepo:
    """A small key-value store for PTB persistence."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def get_namespace(self, namespace: str) -> dict[str, Any]:
        """Every key of a namespace."""
        rows = await self.conn.execute(
            select(s.kv.c.key, s.kv.c.value).where(s.kv.c.namespace == namespace)
        )
        return {k: v for k, v in rows}

    async def put_many(self, writes: Mapping[tuple[str, str], Any]) -> None:
        """Set or drop keys in at most two statements, whatever their number: (namespace, key)
        → value, None drops the key; a key set is inserted or overwritten in place."""
        if not writes:
            return
        dropped = [{"ns": ns, "k": key} for (ns, key), value in writes.items() if value is None]
        if dropped:
            await self.conn.execute(_KV_DELETE, dropped)
        rows = [
            {"namespace": namespace, "key": key, "value": value}
            for (namespace, key), value in writes.items()
            if value is not None
        ]
        if rows:
            await self.conn.execute(_kv_upsert(self.conn.dialect.name), rows)


_KV_DELETE = delete(s.kv).where(s.kv.c.namespace == bindparam("ns"), s.kv.c.key == bindparam("k"))


@cache
def _kv_upsert(dialect: str) -> Any:
    """INSERT a key's value, or overwrite the value already there."""
    stmt = insert_on_conflict(s.kv, dialect)
    return stmt.on_conflict_do_update(
        index_elements=[s.kv.c.namespace, s.kv.c.key], set_={"value": stmt.excluded.value}
    )


@cache
def _record_handled(dialect: str) -> Any:
    """INSERT an update id unless it is recorded (a row per id: engines without json_each)."""
    return insert_on_conflict(s.processed_updates, dialect).on_conflict_do_nothing(
        index_elements=[s.processed_updates.c.update_id]
    )


@cache
def _record_handled_json() -> Any:
    """INSERT … SELECT the ids of a JSON array, skipping those already recorded (SQLite)."""
    from sqlalchemy.dialects import sqlite

    ids = json_each("ids")
    at = bindparam("at", type_=s.processed_updates.c.at.type)
    # WHERE true: SQLite's parser needs it between INSERT … SELECT and ON CONFLICT.
    chosen = select(ids.c.value, at).where(true())
    return (
        sqlite.insert(s.processed_updates)
        .from_select(["update_id", "at"], chosen)
        .on_conflict_do_nothing(index_elements=[s.processed_updates.c.update_id])
    )
