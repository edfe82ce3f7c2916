"""The ballot slip's phone page (现场票): ``/v/<token>``, served beside the web board.

A resident scans the slip's QR code (any camera, or WeChat) and gets one plain page: the
subjects with 满意 / 基本满意 / 不满意 and one submit button. Chinese first (``?lang=en`` for
English), large type, no JavaScript, nothing from another site, every value escaped.

* Forgery: the form carries an HMAC of the slip and the revision it shows; a form from
  anywhere else (or another origin) is refused and changes nothing.
* Double submission: saving takes the slip's next revision only if the form was made from the
  current one; a second submit of the same form (a double tap, the back button) is answered
  with the choices as saved, not applied again. After a save the browser is redirected (303),
  so reloading the page never posts again.
* Rate limits: per address (requests, and misses: a wrong address), per slip (views, saves).
* The address holds the token: no referrer leaves the page, nothing is cached, and no access
  log is written by the servers that mount it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from typing import Any

from aiohttp import web

from bot.domain.clock import Clock
from bot.domain.dates import format_moment
from bot.domain.evaluation import percent
from bot.domain.evaluation_models import CHOICES, Choice, SubjectKind
from bot.domain.slips import Cast, SlipPage, SlipService, SlipState, normalize_token
from bot.i18n import t
from bot.web.throttle import Throttle
from storage.secrecy import MIN_PUBLISHED_VOTES

log = logging.getLogger(__name__)

PREFIX = "/v"
MAX_BODY = 16_384
SlipSource = Callable[[], SlipService | None]

CSS = """
*{box-sizing:border-box}
body{margin:0;font:20px/1.6 "Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;
color:#222;background:#f6f3ee}
header{background:#b71c1c;color:#fff;padding:12px 16px}
header .site{font-size:16px;opacity:.9}
header a{color:#fff}
h1{font-size:26px;margin:4px 0 0;line-height:1.3}
main{max-width:640px;margin:0 auto;padding:12px}
.note{background:#fff;border-left:5px solid #b71c1c;padding:10px 12px;margin:0 0 14px}
.ok{background:#e8f5e9;border-left:5px solid #1b5e20;padding:10px 12px;margin:0 0 14px}
.warn{background:#fff8e1;border-left:5px solid #f57f17;padding:10px 12px;margin:0 0 14px}
fieldset{background:#fff;border:0;border-radius:10px;padding:12px 14px;margin:0 0 14px;
box-shadow:0 1px 2px rgba(0,0,0,.08)}
legend{font-weight:700;font-size:22px;padding:0;float:left;width:100%;margin:0 0 8px}
label{display:flex;align-items:center;gap:12px;padding:10px 4px;min-height:52px;
border-top:1px solid #eee;clear:both}
label.skip{color:#666;font-size:18px}
input[type=radio]{width:30px;height:30px;margin:0;flex:none}
button{display:block;width:100%;font-size:24px;padding:14px;border:0;border-radius:10px;
background:#b71c1c;color:#fff;margin:8px 0 18px}
ul.results{padding-left:1.1em}
ul.results li{margin:0 0 10px}
.lang{text-align:right;font-size:16px;margin:0 0 6px}
footer{color:#777;font-size:14px;text-align:center;padding:16px}
"""

HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
}


@dataclass(frozen=True)
class Limits:
    """The page's rate limits (per address and per slip)."""

    address_requests: int = 600  # a meeting shares one Wi-Fi address: generous
    address_window: float = 60.0
    address_misses: int = 10  # wrong addresses tried before the address is held back
    miss_window: float = 600.0
    slip_views: int = 60
    view_window: float = 60.0
    slip_saves: int = 20
    save_window: float = 600.0


def _locale(value: str | None) -> str:
    return "en" if value == "en" else "zh_CN"


class BallotPage:
    """The slip page's routes; mount with ``setup(app)`` beside the web board."""

    def __init__(
        self,
        slips: SlipSource | SlipService,
        clock: Clock,
        limits: Limits | None = None,
        *,
        behind_proxy: bool = False,
    ) -> None:
        if isinstance(slips, SlipService):
            fixed = slips
            self._slips: SlipSource = lambda: fixed
        else:
            self._slips = slips
        self.clock = clock
        self.limits = limits = limits or Limits()
        self.behind_proxy = behind_proxy
        self._requests = Throttle(limits.address_requests, limits.address_window)
        self._misses = Throttle(limits.address_misses, limits.miss_window)
        self._views = Throttle(limits.slip_views, limits.view_window)
        self._saves = Throttle(limits.slip_saves, limits.save_window)

    def setup(self, app: web.Application) -> None:
        """Add ``/v/<token>`` (GET shows, POST saves)."""
        app.router.add_get(PREFIX + "/{token}", self._get)
        app.router.add_post(PREFIX + "/{token}", self._post)

    # -- HTTP

    def _address(self, request: web.Request) -> str:
        if self.behind_proxy:
            forwarded = request.headers.get("X-Forwarded-For", "")
            last = forwarded.split(",")[-1].strip()
            if last:
                return last
        return request.remote or "?"

    def _throttled(self, request: web.Request, loc: str) -> web.Response | None:
        """Too many requests or misses from this address: the answer, else None."""
        address = self._address(request)
        if self._misses.full(address):
            return self._too_many(loc, self._misses.retry_after(address))
        if not self._requests.hit(address):
            return self._too_many(loc, self._requests.retry_after(address))
        return None

    def _miss(self, request: web.Request, loc: str) -> web.Response:
        self._misses.hit(self._address(request))
        body = f"<p>{escape(t(loc, 'slip.unknown.body'))}</p>"
        return self._respond(404, t(loc, "slip.unknown.title"), body, loc)

    async def _get(self, request: web.Request) -> web.StreamResponse:
        loc = _locale(request.query.get("lang"))
        refused = self._throttled(request, loc)
        if refused is not None:
            return refused
        token = normalize_token(request.match_info["token"])
        slips = self._slips()
        if slips is None:
            return self._respond(503, t(loc, "slip.site"), "", loc)
        if token is None:
            return self._miss(request, loc)
        if not self._views.hit(token):
            return self._too_many(loc, self._views.retry_after(token))
        page = await slips.page(token)
        if page.state == SlipState.UNKNOWN:
            return self._miss(request, loc)
        notice = request.query.get("done", "")
        return self._respond(200, *self._render(slips, token, page, loc, notice))

    async def _post(self, request: web.Request) -> web.StreamResponse:
        loc = "zh_CN"
        refused = self._throttled(request, loc)
        if refused is not None:
            return refused
        if (request.content_length or 0) > MAX_BODY:
            return self._respond(413, t(loc, "slip.site"), "", loc)
        form = await request.post()
        loc = _locale(str(form.get("lang", "")))
        token = normalize_token(request.match_info["token"])
        slips = self._slips()
        if slips is None:
            return self._respond(503, t(loc, "slip.site"), "", loc)
        if token is None:
            return self._miss(request, loc)
        origin = request.headers.get("Origin")
        try:
            revision = int(str(form.get("rev", "")))
        except ValueError:
            revision = -1
        same_origin = origin is None or origin in ("null",) or _host_of(origin) == request.host
        if not same_origin or not slips.form_key_ok(token, revision, str(form.get("csrf", ""))):
            body = f"<p>{escape(t(loc, 'slip.forged'))}</p>"
            return self._respond(403, t(loc, "slip.site"), body, loc)
        if not self._saves.hit(token):
            return self._too_many(loc, self._saves.retry_after(token))
        choices: dict[int, Choice | None] = {}
        for name, value in form.items():
            if name.startswith("s") and name[1:].isdigit():
                raw = str(value)
                choices[int(name[1:])] = Choice(raw) if raw in _CHOICE_VALUES else None
        outcome = await slips.cast(token, revision, choices)
        if outcome == Cast.UNKNOWN:
            return self._miss(request, loc)
        target = f"{PREFIX}/{token}?done={outcome}" + ("&lang=en" if loc == "en" else "")
        raise web.HTTPSeeOther(target, headers=HEADERS)

    def _too_many(self, loc: str, seconds: int) -> web.Response:
        minutes = max(1, -(-seconds // 60))
        body = f"<p>{escape(t(loc, 'slip.throttled.body', minutes=minutes))}</p>"
        response = self._respond(429, t(loc, "slip.throttled.title"), body, loc)
        response.headers["Retry-After"] = str(seconds)
        return response

    @staticmethod
    def _respond(status: int, title: str, body: str, loc: str) -> web.Response:
        html = _layout(title, body, loc)
        response = web.Response(
            status=status,
            body=html.encode("utf-8"),
            content_type="text/html",
            charset="utf-8",
            headers=HEADERS,
        )
        # A weak connection: a 30-member page is 14 kB, 2 kB compressed (when accepted).
        response.enable_compression()
        return response

    # -- rendering

    def _render(
        self, slips: SlipService, token: str, page: SlipPage, loc: str, notice: str
    ) -> tuple[str, str, str]:
        title = t(loc, "slip.title", org=page.org_name)
        other = "zh_CN" if loc == "en" else "en"
        switch = f"{PREFIX}/{token}" + ("?lang=en" if other == "en" else "")
        parts = [
            f'<p class="lang"><a href="{escape(switch)}">{escape(t(loc, "slip.lang"))}</a></p>'
        ]
        closes = format_moment(page.closes_at, self.clock.tz, loc) if page.closes_at else ""
        if page.state == SlipState.OPEN:
            if notice == Cast.SAVED:
                parts.append(f'<p class="ok">{escape(t(loc, "slip.saved"))}</p>')
            elif notice == Cast.STALE:
                parts.append(f'<p class="warn">{escape(t(loc, "slip.stale"))}</p>')
            elif page.voted:
                parts.append(f'<p class="ok">{escape(t(loc, "slip.voted"))}</p>')
            parts.append(f'<p class="note">{escape(t(loc, "slip.secret", closes=closes))}</p>')
            parts.append(self._form(slips, token, page, loc))
        else:
            if notice == Cast.CLOSED:
                parts.append(f'<p class="warn">{escape(t(loc, "slip.too_late"))}</p>')
            parts.append(
                f'<p class="note">{escape(t(loc, f"slip.state.{page.state}", closes=closes))}</p>'
            )
            if page.state == SlipState.CLOSED:
                parts.append(_results(page, loc))
        return title, "".join(parts), loc

    def _form(self, slips: SlipService, token: str, page: SlipPage, loc: str) -> str:
        fields = [
            f'<input type="hidden" name="csrf" value="{slips.form_key(token, page.revision)}">',
            f'<input type="hidden" name="rev" value="{page.revision}">',
            f'<input type="hidden" name="lang" value="{"en" if loc == "en" else "zh"}">',
        ]
        for n, subject in enumerate(page.subjects, start=1):
            if page.kind is SubjectKind.BRANCH:
                legend = t(loc, "slip.question.branch", name=subject.name)
            else:
                legend = t(loc, "slip.question.member", number=n, name=subject.name)
            mine = page.choices.get(subject.id)
            options = []
            for choice in CHOICES:
                checked = " checked" if mine is choice else ""
                options.append(
                    f'<label><input type="radio" name="s{subject.id}" value="{choice.value}"'
                    f"{checked}> {escape(t(loc, f'ev.choice.{choice.value}'))}</label>"
                )
            checked = " checked" if mine is None else ""
            options.append(
                f'<label class="skip"><input type="radio" name="s{subject.id}" value=""'
                f"{checked}> {escape(t(loc, 'slip.skip'))}</label>"
            )
            fields.append(
                f"<fieldset><legend>{escape(legend)}</legend>{''.join(options)}</fieldset>"
            )
        fields.append(f'<button type="submit">{escape(t(loc, "slip.submit"))}</button>')
        return f'<form method="post" action="{PREFIX}/{token}">{"".join(fields)}</form>'


_CHOICE_VALUES = {c.value for c in CHOICES}


def _host_of(origin: str) -> str:
    """example.org:8080 from https://example.org:8080."""
    return origin.split("://", 1)[-1].split("/", 1)[0]


def _results(page: SlipPage, loc: str) -> str:
    items = []
    for subject in page.subjects:
        if subject.rate_permille is None:
            line = t(loc, "slip.result.hidden", min=MIN_PUBLISHED_VOTES)
        else:
            verdict = t(loc, "ev.result.pass" if subject.passed else "ev.result.fail")
            line = t(
                loc,
                "slip.result.line",
                satisfied=subject.satisfied,
                basic=subject.basic,
                unsatisfied=subject.unsatisfied,
                rate=percent(subject.rate_permille),
                verdict=verdict,
            )
        items.append(f"<li><b>{escape(subject.name)}</b>：{escape(line)}</li>")
    return f'<ul class="results">{"".join(items)}</ul>'


def _layout(title: str, body: str, loc: str, **_: Any) -> str:
    lang = "en" if loc == "en" else "zh-CN"
    site = escape(t(loc, "slip.site"))
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{escape(title)} · {site}</title>"
        f"<style>{CSS}</style></head><body>"
        f'<header><div class="site">{site}</div><h1>{escape(title)}</h1></header>'
        f"<main>{body}</main>"
        f"<footer>{escape(t(loc, 'slip.footer'))}</footer></body></html>\n"
    )
