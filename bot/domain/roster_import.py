"""Applying a validated roster to the database in one transaction, in batches."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.clock import Clock
from bot.domain.roster import Roster
from storage.db import Database


@dataclass(frozen=True)
class ImportReport:
    """How many rows the import created and updated."""

    orgs_created: int
    orgs_updated: int
    people_created: int
    people_updated: int


async def import_roster(db: Database, clock: Clock, roster: Roster) -> ImportReport:
    """Upsert orgs by code and people by (org, name, phone); all or nothing."""
    now = clock.now()
    async with db.uow() as uow:
        before = await uow.orgs.codes()
        await uow.orgs.upsert_many([o.model_dump(mode="json") for o in roster.orgs])
        codes = await uow.orgs.codes()
        identities = await uow.people.identity_map()
        inserts = []
        updates = []
        for row in roster.people:
            org_id = codes[row.org]
            phone = row.phone or ""
            values = {
                "role": row.role.value,
                "cadre": row.cadre,
                "post": row.post,
                "oral": row.oral,
                "origin_org_id": codes[row.origin_org] if row.origin_org else None,
                "residence_org_id": codes[row.residence_org] if row.residence_org else None,
                "updated_at": now,
            }
            pid = identities.get((org_id, row.name, phone))
            if pid is None:
                inserts.append(
                    {
                        "name": row.name,
                        "org_id": org_id,
                        "phone": phone,
                        "is_admin": False,
                        "created_at": now,
                        **values,
                    }
                )
                identities[(org_id, row.name, phone)] = -1
            else:
                updates.append({"pid": pid, **values})
        await uow.people.insert_many(inserts)
        await uow.people.update_many(updates)
        linked = [row for row in roster.people if row.linked_orgs]
        if linked:  # a liaison leader's branches (联系支部): exactly those the roster names
            identities = await uow.people.identity_map()
            await uow.leader_reviews.set_links(
                {
                    identities[(codes[row.org], row.name, row.phone or "")]: [
                        codes[c] for c in row.linked_orgs
                    ]
                    for row in linked
                }
            )
        created = sum(1 for o in roster.orgs if o.code not in before)
        return ImportReport(
            orgs_created=created,
            orgs_updated=len(roster.orgs) - created,
            people_created=len(inserts),
            people_updated=len(updates),
        )
