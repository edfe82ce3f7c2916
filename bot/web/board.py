"""The public web board (网上晒): a read-only page per branch and per committee.

``/board/`` lists the organisation tree; ``/board/<code>`` shows a branch (its published
pledges with items, responsible persons, deadlines, progress, and the latest evaluation
results) or a committee (per-branch totals). Pages are plain HTML (escaped with
``html.escape``), readable on a phone without JavaScript or anything from a CDN, paged for
large branches, and cache-friendly (ETag, short max-age).

Nothing unpublished is shown: only numbered pledges with a published snapshot; never a phone
number (phone-like numbers typed into free text are masked too), a participant list or a ballot.
The board reads on a connection of its own, outside the bot's write lock (SQLite WAL readers).
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from html import escape
from typing import Any
from urllib.parse import quote

from aiohttp import web

from bot.domain.board import item_state
from bot.domain.clock import Clock
from bot.domain.dates import format_date, format_day
from bot.domain.enums import OrgType
from bot.domain.models import Org
from bot.domain.progress_models import Figures, ItemProgress
from bot.i18n import t
from storage.db import Database
from storage.public_board_repo import EvaluationResult, PublicBoardRepo, PublicPledge

log = logging.getLogger(__name__)

PREFIX = "/board"
PLEDGES_PER_PAGE = 20
BRANCHES_PER_PAGE = 50
MAX_AGE_SECONDS = 60
LOCALE = "zh_CN"  # the board speaks the district's language
# Mainland mobile numbers (11 digits from 1[3-9]) and landlines with an area code.
PHONE = re.compile(
    r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d(?:[- ]?\d{4}){2}(?!\d)|(?<!\d)0\d{2,3}-\d{7,8}"
)

FOOTER = re.compile(r"<footer>.*?</footer>", re.S)

DbSource = Callable[[], Database | None]

CSS = """
*{box-sizing:border-box}
body{margin:0;font:17px/1.6 "Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;
color:#222;background:#f6f3ee}
header{background:#b71c1c;color:#fff;padding:12px 16px}
header a{color:#fff;text-decoration:none}
header .site{font-size:14px;opacity:.9}
h1{font-size:22px;margin:4px 0 0}
main{max-width:880px;margin:0 auto;padding:12px}
nav.crumbs{font-size:15px;margin:4px 0 12px}
a{color:#0d47a1}
.totals{background:#fff;border-left:4px solid #b71c1c;padding:10px 12px;margin:0 0 14px}
.pledge{background:#fff;border-radius:8px;padding:12px 14px;margin:0 0 14px;
box-shadow:0 1px 2px rgba(0,0,0,.08)}
.pledge h2{font-size:19px;margin:0 0 4px}
.meta{color:#555;font-size:15px;margin:0 0 8px}
ol.items{padding-left:1.4em;margin:0}
ol.items li{margin:0 0 10px}
.item-content{font-weight:600}
dl{display:grid;grid-template-columns:auto 1fr;gap:0 10px;margin:4px 0;font-size:15px}
dt{color:#666}
dd{margin:0}
.st-fulfilled{color:#1b5e20;font-weight:600}
.st-open{color:#0d47a1}
.st-overdue{color:#b71c1c;font-weight:600}
table{border-collapse:collapse;width:100%;background:#fff;font-size:15px}
th,td{border-bottom:1px solid #e5e0d8;padding:6px 8px;text-align:left}
td.num,th.num{text-align:right;white-space:nowrap}
.scroll{overflow-x:auto}
ul.tree{list-style:none;padding-left:0}
ul.tree ul{list-style:none;padding-left:1.2em;border-left:2px solid #e5d7c7;margin-left:.3em}
ul.tree li{margin:6px 0}
.evals{background:#fff;border-radius:8px;padding:12px 14px;margin:0 0 14px}
.evals h2{font-size:19px;margin:0 0 6px}
.note{color:#666;font-size:14px}
.pager{display:flex;gap:16px;justify-content:center;margin:16px 0;font-size:16px}
footer{color:#777;font-size:13px;text-align:center;padding:16px}
@media (max-width:520px){body{font-size:16px}h1{font-size:20px}main{padding:8px}}
"""


def mask_phones(text: str) -> str:
    """Free text (an item, a responsible person) never shows a phone number."""
    return PHONE.sub("***", text)


def _e(value: object) -> str:
    """Escaped for HTML, with phone-like numbers masked."""
    return escape(mask_phones(str(value)), quote=True)


def _tr(key: str, **params: Any) -> str:
    return t(LOCALE, key, **params)


def _percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def org_url(code: str) -> str:
    """The page of an organisation."""
    return f"{PREFIX}/{quote(code, safe='')}"


@dataclass(frozen=True)
class Page:
    """A rendered page: status and HTML."""

    status: int
    html: str


def _layout(title: str, body: str, now: datetime, crumbs: str = "") -> str:
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} · {escape(_tr('webboard.site'))}</title>"
        f"<style>{CSS}</style></head><body>"
        f'<header><div class="site"><a href="{PREFIX}/">{escape(_tr("webboard.site"))}</a></div>'
        f"<h1>{escape(title)}</h1></header><main>"
        f"{crumbs}{body}</main>"
        f"<footer>{escape(_tr('webboard.footer', time=now.strftime('%Y-%m-%d %H:%M')))}</footer>"
        "</body></html>\n"
    )


def _pager(url: str, page: int, pages: int) -> str:
    if pages <= 1:
        return ""
    parts = []
    if page > 1:
        parts.append(f'<a href="{url}?page={page - 1}">{escape(_tr("webboard.prev"))}</a>')
    parts.append(f"<span>{escape(_tr('webboard.page', page=page, pages=pages))}</span>")
    if page < pages:
        parts.append(f'<a href="{url}?page={page + 1}">{escape(_tr("webboard.next"))}</a>')
    return f'<nav class="pager">{"".join(parts)}</nav>'


def _pages(count: int, per_page: int) -> int:
    return max(1, -(-count // per_page))


def _crumbs(parent: Org | None) -> str:
    links = [f'<a href="{PREFIX}/">{escape(_tr("webboard.home"))}</a>']
    if parent is not None:
        links.append(
            f'<a href="{org_url(parent.code)}">'
            f"{escape(_tr('webboard.branch.up', org=parent.name))}</a>"
        )
    return f'<nav class="crumbs">{" · ".join(links)}</nav>'


# ---- the pages ------------------------------------------------------------------------------


def render_tree(orgs: list[Org], now: datetime) -> str:
    """/board/: every organisation as a nested list of links."""
    children: dict[int | None, list[Org]] = {}
    ids = {o.id for o in orgs}
    for org in orgs:
        parent = org.parent_id if org.parent_id in ids else None
        children.setdefault(parent, []).append(org)

    def branch(parent: int | None) -> str:
        items = []
        for org in children.get(parent, []):
            below = branch(org.id) if org.id in children else ""
            items.append(f'<li><a href="{org_url(org.code)}">{_e(org.name)}</a>{below}</li>')
        return f"<ul>{''.join(items)}</ul>" if items else ""

    tree = branch(None)
    body = f"<p>{escape(_tr('webboard.tree.intro'))}</p>"
    body += (
        f'<ul class="tree">{tree[4:-5]}</ul>'
        if tree
        else f"<p>{escape(_tr('webboard.tree.empty'))}</p>"
    )
    return _layout(_tr("webboard.tree.title"), body, now)


def _figures_line(key: str, pledges: int, figures: Figures, **extra: object) -> str:
    return _tr(
        key,
        pledges=pledges,
        items=figures.items,
        fulfilled=figures.fulfilled,
        rate=_percent(figures.rate),
        **extra,
    )


def _item_html(
    index: int, item: dict[str, Any], progress: ItemProgress | None, today: date, clock: Clock
) -> str:
    deadline = date.fromisoformat(item["deadline"])
    state = item_state(progress, deadline, today)
    last = progress.last_progress_at if progress is not None else None
    last_text = (
        format_day(last, clock.tz, LOCALE) if last is not None else _tr("webboard.no_progress")
    )
    rows = [
        ("webboard.item.category", _e(_tr(f"category.{item['category']}"))),
        ("webboard.item.target", _e(item.get("target", ""))),
        ("webboard.item.responsible", _e(item.get("responsible", ""))),
        ("webboard.item.deadline", _e(format_date(deadline, LOCALE))),
        (
            "webboard.item.status",
            f'<span class="st-{state}">{escape(_tr(f"webboard.status.{state}"))}</span>',
        ),
        ("webboard.item.last", _e(last_text)),
    ]
    dl = "".join(f"<dt>{escape(_tr(k))}</dt><dd>{v}</dd>" for k, v in rows)
    return (
        f'<li value="{index}"><div class="item-content">{_e(item.get("content", ""))}</div>'
        f"<dl>{dl}</dl></li>"
    )


def _pledge_html(
    pledge: PublicPledge, progress: dict[int, ItemProgress], today: date, clock: Clock
) -> str:
    snap = pledge.snapshot
    meta = [
        _tr("webboard.pledge.pledger", name=snap.get("pledger_name", "")),
        _tr("webboard.pledge.horizon", horizon=_tr(f"horizon.{snap.get('horizon') or 'unset'}")),
    ]
    if pledge.published_at is not None:
        meta.append(
            _tr(
                "webboard.pledge.published",
                date=format_day(pledge.published_at, clock.tz, LOCALE),
            )
        )
    if snap.get("is_oral"):
        meta.append(_tr("webboard.pledge.oral"))
    if snap.get("amended"):
        meta.append(_tr("webboard.pledge.amended"))
    items = "".join(
        _item_html(
            n,
            item,
            progress.get(int(item["id"])) if item.get("id") is not None else None,
            today,
            clock,
        )
        for n, item in enumerate(snap.get("items", []), start=1)
    )
    return (
        f'<article class="pledge" id="p{pledge.id}">'
        f"<h2>{_e(_tr('webboard.pledge.number', number=pledge.number))}</h2>"
        f'<p class="meta">{"　".join(_e(m) for m in meta)}</p>'
        f'<ol class="items">{items}</ol></article>'
    )


def _evaluations_html(results: list[EvaluationResult], clock: Clock) -> str:
    parts = [f"<h2>{escape(_tr('webboard.eval.title'))}</h2>"]
    if not results:
        parts.append(f"<p>{escape(_tr('webboard.eval.none'))}</p>")
    for result in results:
        closed = (
            format_day(result.closed_at, clock.tz, LOCALE) if result.closed_at is not None else "—"
        )
        voters = result.valid_voters or 0
        parts.append(f"<p>{_e(_tr('webboard.eval.closed', date=closed, voters=voters))}</p>")
        rows = []
        for subject in result.subjects:
            name = (
                _tr("webboard.eval.subject_branch", org=subject.name)
                if subject.is_branch
                else subject.name
            )
            rate = "—" if subject.rate_permille is None else f"{subject.rate_permille / 10:.1f}%"
            verdict = ""
            if subject.passed is not None:
                verdict = _tr("webboard.eval.passed" if subject.passed else "webboard.eval.failed")
            line = _tr(
                "webboard.eval.row",
                satisfied=subject.satisfied,
                basic=subject.basic,
                unsatisfied=subject.unsatisfied,
                rate=rate,
            )
            rows.append(f"<li><b>{_e(name)}</b>：{_e(line)} {_e(verdict)}</li>")
        parts.append(f"<ul>{''.join(rows)}</ul>")
    parts.append(f'<p class="note">{escape(_tr("webboard.eval.note"))}</p>')
    return f'<section class="evals">{"".join(parts)}</section>'


class PublicBoard:
    """The web board's pages; mount with ``setup(app)`` on any aiohttp application."""

    def __init__(self, db: DbSource | Database, clock: Clock) -> None:
        if isinstance(db, Database):
            fixed = db
            self._db: DbSource = lambda: fixed
        else:
            self._db = db
        self.clock = clock

    def setup(self, app: web.Application) -> None:
        """Add the board's routes under /board/."""
        app.router.add_get(PREFIX, self._to_index)
        app.router.add_get(PREFIX + "/", self._index)
        app.router.add_get(PREFIX + "/{code}", self._org)

    # -- rendering (also used by tests without HTTP)

    async def page(self, code: str | None, page: int = 1) -> Page:
        """The page for an organisation code (None: the tree)."""
        db = self._db()
        if db is None:
            text = f"<p>{escape(_tr('webboard.unavailable'))}</p>"
            return Page(503, _layout(_tr("webboard.site"), text, self.clock.now()))
        now = self.clock.now().astimezone(self.clock.tz)
        today = now.date()
        async with db.engine.connect() as conn:
            repo = PublicBoardRepo(conn)
            if code is None:
                return Page(200, render_tree(await repo.orgs(), now))
            org = await repo.org(code)
            if org is None:
                body = (
                    f"<p>{escape(_tr('webboard.not_found'))}</p>"
                    f'<p><a href="{PREFIX}/">{escape(_tr("webboard.not_found.back"))}</a></p>'
                )
                return Page(404, _layout(_tr("webboard.not_found"), body, now))
            parent = await repo.org_by_id(org.parent_id) if org.parent_id is not None else None
            if org.type is OrgType.COMMITTEE:
                return Page(200, await self._committee(repo, org, parent, page, today, now))
            return Page(200, await self._branch(repo, org, parent, page, today, now))

    async def _committee(
        self,
        repo: PublicBoardRepo,
        org: Org,
        parent: Org | None,
        page: int,
        today: date,
        now: datetime,
    ) -> str:
        totals = await repo.district_totals(org.id, today)
        pages = _pages(totals.branches, BRANCHES_PER_PAGE)
        page = min(max(page, 1), pages)
        branches = await repo.district_branches(
            org.id, today, BRANCHES_PER_PAGE, (page - 1) * BRANCHES_PER_PAGE
        )
        counts = await repo.pledge_count([b.org_id for b in branches])
        pledges = await repo.scope_pledge_count(org.id)
        body = (
            '<p class="totals">'
            + _e(
                _figures_line(
                    "webboard.committee.totals",
                    pledges,
                    totals.figures,
                    branches=totals.branches,
                )
            )
            + "</p>"
        )
        if not branches:
            body += f"<p>{escape(_tr('webboard.committee.empty'))}</p>"
        else:
            head = "".join(
                f'<th class="{"num" if k != "branch" else ""}">'
                f"{escape(_tr(f'webboard.col.{k}'))}</th>"
                for k in ("branch", "pledges", "items", "fulfilled", "rate")
            )
            rows = "".join(
                "<tr>"
                f'<td><a href="{org_url(b.code)}">{_e(b.name)}</a></td>'
                f'<td class="num">{counts.get(b.org_id, 0)}</td>'
                f'<td class="num">{b.figures.items}</td>'
                f'<td class="num">{b.figures.fulfilled}</td>'
                f'<td class="num">{_percent(b.figures.rate)}</td>'
                "</tr>"
                for b in branches
            )
            body += (
                f'<div class="scroll"><table><thead><tr>{head}</tr></thead>'
                f"<tbody>{rows}</tbody></table></div>"
            )
        body += _pager(org_url(org.code), page, pages)
        return _layout(_tr("webboard.committee.title", org=org.name), body, now, _crumbs(parent))

    async def _branch(
        self,
        repo: PublicBoardRepo,
        org: Org,
        parent: Org | None,
        page: int,
        today: date,
        now: datetime,
    ) -> str:
        count = (await repo.pledge_count([org.id])).get(org.id, 0)
        figures = await repo.branch_figures(org.id, today)
        pages = _pages(count, PLEDGES_PER_PAGE)
        page = min(max(page, 1), pages)
        pledges = await repo.pledges(org.id, PLEDGES_PER_PAGE, (page - 1) * PLEDGES_PER_PAGE)
        ids = [
            int(i["id"])
            for p in pledges
            for i in p.snapshot.get("items", [])
            if i.get("id") is not None
        ]
        progress = await repo.item_progress(ids)
        body = (
            f'<p class="totals">{_e(_figures_line("webboard.branch.totals", count, figures))}</p>'
        )
        if page == 1:
            body += _evaluations_html(await repo.evaluations(org.id), self.clock)
        if not pledges:
            body += f"<p>{escape(_tr('webboard.branch.empty'))}</p>"
        body += "".join(_pledge_html(p, progress, today, self.clock) for p in pledges)
        body += _pager(org_url(org.code), page, pages)
        return _layout(_tr("webboard.branch.title", org=org.name), body, now, _crumbs(parent))

    # -- HTTP

    async def _to_index(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(PREFIX + "/")

    async def _index(self, request: web.Request) -> web.StreamResponse:
        return self._respond(request, await self.page(None))

    async def _org(self, request: web.Request) -> web.StreamResponse:
        try:
            number = int(request.query.get("page", "1"))
        except ValueError:
            number = 1
        return self._respond(request, await self.page(request.match_info["code"], number))

    @staticmethod
    def _respond(request: web.Request, page: Page) -> web.StreamResponse:
        body = page.html.encode("utf-8")
        # The footer's "updated at" minute is left out: an unchanged board keeps its ETag.
        content = FOOTER.sub("", page.html).encode("utf-8")
        etag = hashlib.sha256(content).hexdigest()[:32]
        headers = {
            "Cache-Control": f"public, max-age={MAX_AGE_SECONDS}",
            "ETag": f'"{etag}"',
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
        }
        if page.status == 200 and request.headers.get("If-None-Match") == f'"{etag}"':
            return web.Response(status=304, headers=headers)
        if page.status != 200:
            headers["Cache-Control"] = "no-store"
        return web.Response(
            status=page.status,
            body=body,
            content_type="text/html",
            charset="utf-8",
            headers=headers,
        )


# ---- the stand-alone server of the bot process ------------------------------------------------

_servers: dict[int, web.AppRunner] = {}


async def start_server(
    key: object,
    board: PublicBoard,
    host: str,
    port: int,
    beside: Sequence[Callable[[web.Application], None]] = (),
) -> web.AppRunner:
    """Serve the board on ``host:port`` (the bot process's own web server), with the pages
    mounted ``beside`` it (the ballot slips' page)."""
    app = web.Application()
    board.setup(app)
    for setup in beside:
        setup(app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    _servers[id(key)] = runner
    log.info("public web board on http://%s:%s%s/", host, port, PREFIX)
    return runner


async def stop_server(key: object) -> None:
    """Stop the server started for ``key`` (nothing if none)."""
    runner = _servers.pop(id(key), None)
    if runner is not None:
        await runner.cleanup()
