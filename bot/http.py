"""The bot's HTTP client for the Bot API: PTB's request interface over aiohttp.

PTB's default :class:`~telegram.request.HTTPXRequest` spends about twice the CPU per request
that aiohttp does (measured against the local simulator: sendMessage). Everything the bot
sends goes through :class:`AiohttpRequest`, which behaves like HTTPXRequest where it matters:

* the same constructor defaults (pool 256; read, write and connect 5 s; pool 1 s; media
  write 20 s), a per-call timeout overrides its default, ``DEFAULT_NONE`` means "the default";
* a JSON body (one C-encoded ``json.dumps``; httpx's url-encoded form escaped every byte of
  a Chinese text in Python), or, with files, ``multipart/form-data`` with the fields first
  and then the files, each part headed like httpx heads it (raw UTF-8 names and filenames,
  HTML5 escaping, the file's own content type), with a Content-Length;
* the same errors: a timeout is :class:`~telegram.error.TimedOut`, any other transport failure
  :class:`~telegram.error.NetworkError` naming the aiohttp exception, a request before
  :meth:`~AiohttpRequest.initialize` or after :meth:`~AiohttpRequest.shutdown` RuntimeError;
* the proxy from the environment (``HTTPS_PROXY``, ``HTTP_PROXY``, ``ALL_PROXY``,
  ``NO_PROXY``, read once when initialized, as httpx does) unless one is given; certifi's CA
  bundle when it is installed (it is, with httpx).

Timeouts, mapped onto :class:`aiohttp.ClientTimeout`:

* ``read_timeout`` → ``sock_read``: the longest wait for the next bytes of the answer (httpx's
  read timeout too). aiohttp starts it once the body is sent. A long poll's getUpdates passes
  its own (the poll's timeout plus the default), so long polls are not cut.
* ``connect_timeout`` → ``sock_connect``: opening one connection (TCP and TLS).
* ``pool_timeout``: aiohttp has no separate wait for a free connection; its ``connect``
  phase is that wait *and* the connecting. It is set to ``pool_timeout + connect_timeout``
  (no bound if either is None), so a request waits at most ``pool_timeout`` for a connection
  when connecting is quick; a full pool shows as TimedOut like httpx's PoolTimeout.
* ``write_timeout``: aiohttp has no per-write timeout. A body without files is a few
  kilobytes written at once into the socket's buffer, so there is nothing to bound. An upload
  (the write timeout is ``media_write_timeout`` unless given) is bounded as a whole: ``total``
  is connect + pool + write + read, so a stalled upload ends as TimedOut instead of hanging.
  That is stricter than httpx (which times each socket write): an upload must be done within
  its write timeout, 20 s by default; pass a longer ``write_timeout`` for a large file.
* no ``total`` otherwise (aiohttp's default of 5 minutes would cut nothing we send, but a
  file download may be slow and steady: httpx does not bound it either).

A file handle in an upload (PTB passes one only with ``read_file_handle=False``) is read from
its start into the body, as httpx reads it from its start.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import ssl
from typing import IO, Final
from urllib.parse import urlsplit
from urllib.request import getproxies, proxy_bypass

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput, UploadFileDict
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

_JSON: Final = {"Content-Type": "application/json"}

# Names and filenames in a multipart part's Content-Disposition, escaped as httpx (and HTML5
# browsers) escape them: the quote and control characters percent-encoded, backslash doubled.
_ESCAPES: Final = {'"': "%22", "\\": "\\\\"} | {
    chr(c): f"%{c:02X}" for c in range(0x20) if c != 0x1B
}
_ESCAPE_RE: Final = re.compile("|".join(re.escape(c) for c in _ESCAPES))


def _form_param(name: str, value: str) -> bytes:
    return f'{name}="{_ESCAPE_RE.sub(lambda m: _ESCAPES[m.group(0)], value)}"'.encode()


def _content(content: bytes | IO[bytes]) -> bytes:
    """A file part's bytes; a file handle is read from its start."""
    if isinstance(content, bytes):
        return content
    if hasattr(content, "seek"):
        with contextlib.suppress(io.UnsupportedOperation):
            content.seek(0)
    return content.read()


def multipart_body(fields: dict[str, str], files: UploadFileDict) -> tuple[bytes, str]:
    """A ``multipart/form-data`` body (the fields, then the files) and its content type."""
    boundary = os.urandom(16).hex().encode("ascii")
    chunks: list[bytes] = []
    for name, value in fields.items():
        chunks += (b"--", boundary, b"\r\nContent-Disposition: form-data; ")
        chunks += (_form_param("name", name), b"\r\n\r\n", value.encode(), b"\r\n")
    for name, (filename, content, mime_type) in files.items():
        chunks += (b"--", boundary, b"\r\nContent-Disposition: form-data; ")
        chunks.append(_form_param("name", name))
        if filename:
            chunks += (b"; ", _form_param("filename", filename))
        chunks += (b"\r\nContent-Type: ", mime_type.encode(), b"\r\n\r\n")
        chunks += (_content(content), b"\r\n")
    chunks += (b"--", boundary, b"--\r\n")
    return b"".join(chunks), "multipart/form-data; boundary=" + boundary.decode("ascii")


def _ssl_context() -> ssl.SSLContext:
    """Verified TLS with certifi's CA bundle when it is installed (as httpx), else the
    system's."""
    try:
        import certifi
    except ImportError:  # pragma: no cover - httpx (a PTB dependency) brings it
        return ssl.create_default_context()
    return ssl.create_default_context(cafile=certifi.where())


def _given(timeout: ODVInput[float], default: float | None) -> float | None:
    """A per-call timeout, or the default when the caller passed DEFAULT_NONE."""
    return default if isinstance(timeout, DefaultValue) else timeout


def _sum(*timeouts: float | None) -> float | None:
    """The sum of phases' timeouts; no bound if any phase has none."""
    if any(t is None for t in timeouts):
        return None
    return sum(t for t in timeouts if t is not None)


class AiohttpRequest(BaseRequest):
    """:class:`telegram.request.BaseRequest` over an aiohttp session (see the module's text).

    Args:
        connection_pool_size: at most this many connections (aiohttp's connector limit).
        read_timeout, write_timeout, connect_timeout, pool_timeout: seconds, None for no
            bound; the defaults of requests that do not pass their own.
        media_write_timeout: the write timeout of uploads that do not pass their own.
        proxy: an HTTP proxy's URL for every request; when None (and ``trust_env``) the
            environment's, per URL, like httpx.
        trust_env: read proxies from the environment.
        keepalive_timeout: an idle connection is closed after this many seconds (httpx's
            keep-alive expiry, 5 s).
    """

    __slots__ = (
        "_connect_timeout",
        "_default_timeouts",
        "_env_proxies",
        "_keepalive_timeout",
        "_media_write_timeout",
        "_pool_size",
        "_pool_timeout",
        "_proxy",
        "_proxy_for",
        "_read_timeout",
        "_session",
        "_trust_env",
        "_write_timeout",
    )

    def __init__(
        self,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
        *,
        proxy: str | None = None,
        trust_env: bool = True,
        keepalive_timeout: float = 5.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._proxy = proxy
        self._trust_env = trust_env
        self._keepalive_timeout = keepalive_timeout
        self._session: aiohttp.ClientSession | None = None
        self._env_proxies: dict[str, str] = {}
        self._proxy_for: dict[tuple[str, str], str | None] = {}
        # The two timeouts of requests that pass none of their own, built once.
        self._default_timeouts = (
            self._timeout(read_timeout, None, connect_timeout, pool_timeout),
            self._timeout(read_timeout, media_write_timeout, connect_timeout, pool_timeout),
        )

    @property
    def read_timeout(self) -> float | None:
        """The read timeout of requests that do not pass their own (getUpdates adds its
        long poll's timeout to it)."""
        return self._read_timeout

    @staticmethod
    def _timeout(
        read: float | None, upload_write: float | None, connect: float | None, pool: float | None
    ) -> aiohttp.ClientTimeout:
        """``upload_write``: None for a request without files (nothing to bound), else the
        upload's write timeout, which bounds the whole request (see the module's text)."""
        return aiohttp.ClientTimeout(
            total=_sum(connect, pool, upload_write, read) if upload_write is not None else None,
            connect=_sum(pool, connect),
            sock_connect=connect,
            sock_read=read,
        )

    async def initialize(self) -> None:
        """Open the session (in the running loop); again after :meth:`shutdown`."""
        if self._session is not None and not self._session.closed:
            return
        if self._proxy is None and self._trust_env:
            self._env_proxies = getproxies()
            self._proxy_for.clear()
        connector = aiohttp.TCPConnector(
            limit=self._pool_size,
            keepalive_timeout=self._keepalive_timeout,
            ssl=_ssl_context(),
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            headers={"User-Agent": self.USER_AGENT},
            cookie_jar=aiohttp.DummyCookieJar(),  # the Bot API sets none: skip the jar's work
            timeout=self._default_timeouts[0],
        )

    async def shutdown(self) -> None:
        """Close the session and its connections; nothing to do if it is closed."""
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

    def _proxy_of(self, url: str) -> str | None:
        """The proxy for this URL: the given one, else the environment's (cached per host)."""
        if self._proxy is not None or not self._env_proxies:
            return self._proxy
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc)
        if key not in self._proxy_for:
            proxies = self._env_proxies
            host = parts.hostname or ""
            bypass = bool(host) and bool(proxy_bypass(host))
            proxy = None if bypass else (proxies.get(parts.scheme) or proxies.get("all"))
            self._proxy_for[key] = proxy
        return self._proxy_for[key]

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """See :meth:`telegram.request.BaseRequest.do_request`: (status, body)."""
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")

        files = None
        body: bytes | None = None
        headers: dict[str, str] | None = None
        if request_data is not None and request_data.contains_files:
            files = request_data.multipart_data
            body, content_type = multipart_body(request_data.json_parameters, files)
            headers = {"Content-Type": content_type}
        elif request_data is not None:
            # A JSON body (the Bot API takes one): one C-encoded json.dumps, where form
            # encoding percent-escaped every byte of a Chinese text in Python.
            body = json.dumps(request_data.parameters, ensure_ascii=False).encode()
            headers = _JSON

        if (
            isinstance(read_timeout, DefaultValue)
            and isinstance(write_timeout, DefaultValue)
            and isinstance(connect_timeout, DefaultValue)
            and isinstance(pool_timeout, DefaultValue)
        ):
            timeout = self._default_timeouts[1 if files else 0]
        else:
            write = _given(write_timeout, self._media_write_timeout)
            timeout = self._timeout(
                _given(read_timeout, self._read_timeout),
                write if files else None,
                _given(connect_timeout, self._connect_timeout),
                _given(pool_timeout, self._pool_timeout),
            )

        try:
            async with session.request(
                method,
                url,
                data=body,
                headers=headers,
                timeout=timeout,
                proxy=self._proxy_of(url),
            ) as response:
                return response.status, await response.read()
        except aiohttp.ConnectionTimeoutError as exc:
            raise TimedOut(
                "Connect timeout: no connection within the pool and connect timeouts (all in "
                "use, or the server did not answer). The request was *not* sent to Telegram."
            ) from exc
        except TimeoutError as exc:  # sock_read (aiohttp.SocketTimeoutError), total
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{exc.__class__.__name__}: {exc}") from exc
