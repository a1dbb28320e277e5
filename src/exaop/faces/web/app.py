"""The web interface: pages under /ui on exaop serve's own port, plain ASGI, Jinja2 templates.

Routes (``/`` redirects to ``/ui/``; nothing else outside ``/ui`` is this face's):

========================================  ===========================================  ==============
GET  /ui/login, POST /ui/login, /logout   the login form (signed nonce), a session     anyone
GET  /ui/                                 overview                                     User
GET  /ui/nodes/<n>, /ui/databases/<d>     node page, database page                     User
GET  /ui/logs?priority=&system=&node=     log viewer, live tail                        User
GET  /ui/runs/<n>                         progress of a start or stop run from here    User
GET  /ui/events?view=…                    Server-Sent Events: the live part of a page  User
POST /ui/databases/<d>/<action>           start, stop, restart, backup                 Administrator
POST /ui/cluster/start, /ui/cluster/stop  the lifecycle procedures, in a thread        Administrator
GET  /ui/users, POST /ui/users/role       users and roles                              Master
GET  /ui/simulation, POST /ui/simulation/ clock and fault injection (simulated only)   Master
========================================  ===========================================  ==============

Every action goes through the XML-RPC face's dispatcher as the logged-in user: the same
role checks, argument checks and model operations as the same call over XML-RPC. A POST
without the session's CSRF token is refused (403) before anything else is looked at.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import re
from collections.abc import Awaitable, Callable
from http.cookies import CookieError, SimpleCookie
from pathlib import Path
from types import CoroutineType
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote

import jinja2
from markupsafe import Markup

from exaop.faces.asgi import respond as _respond
from exaop.faces.auth import Authenticator, LoginRefused
from exaop.faces.exaoperation import faults
from exaop.faces.web import views
from exaop.faces.web.live import Changes, History
from exaop.faces.web.runs import Runs
from exaop.faces.web.sessions import COOKIE, LOGIN_COOKIE, MAX_STREAMS_PER_SESSION, Session, Sessions
from exaop.model.errors import Forbidden
from exaop.model.logs import PRIORITIES
from exaop.model.users import PERMISSIONS, ROLES

if TYPE_CHECKING:
    from exaop.engine.runtime import Runtime
    from exaop.faces.exaoperation.dispatch import Dispatcher
    from exaop.httpguard import ConnectionBook
    from exaop.model.users import User

log = logging.getLogger("exaop.faces.web")

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

HERE = Path(__file__).parent
PREFIX = "/ui"
MAX_FORM = 16 * 1024  # a form's body, logged in
MAX_LOGIN_FORM = 2 * 1024  # the login form's body: all a client that has not logged in can make us read
KEEPALIVE = 15.0  # seconds between comments on a quiet event stream
COALESCE = 0.2  # real seconds a stream waits after a change for the ones that follow it
MAX_RENDERED = 256  # live views whose latest rendering is kept
_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")


class HttpError(Exception):
    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text


class Request:
    def __init__(self, scope: Scope, receive: Receive) -> None:
        self.scope = scope
        self.receive = receive
        self.method: str = scope["method"]
        self.path: str = scope["path"]
        self.query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"))[:20])
        self.headers: dict[bytes, bytes] = {}
        for name, value in scope["headers"]:
            self.headers[name] = value
        self.cookies: dict[str, str] = {}
        raw = self.headers.get(b"cookie", b"")
        if raw and len(raw) < 4096:
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(raw.decode("latin-1"))
            except CookieError:
                pass
            self.cookies = {k: m.value for k, m in jar.items()}
        client = scope.get("client")
        self.client = str(client[0]) if client else ""

    async def form(self, limit: int) -> dict[str, str]:
        try:
            length = int(self.headers.get(b"content-length", b"0"))
        except ValueError:
            length = 0
        if length > limit:
            raise HttpError(413, f"a form of at most {limit} bytes")
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                raise HttpError(400, "the client went away")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise HttpError(413, f"a form of at most {limit} bytes")
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks).decode("utf-8", "replace")
        return dict(parse_qsl(body, keep_blank_values=True)[:50])


class WebApp:
    def __init__(
        self,
        runtime: Runtime,
        auth: Authenticator,
        dispatcher: Dispatcher,
        book: ConnectionBook | None = None,
        secure: bool = True,
        on_login_failure: Callable[[], None] | None = None,
    ) -> None:
        self.runtime = runtime
        self.auth = auth
        self.dispatcher = dispatcher
        self.secure = secure
        self.on_login_failure = on_login_failure
        self.sessions = Sessions()
        self.changes = Changes()
        self.history = History(runtime.cluster)
        runtime.on_change.append(self._changed)
        self.runs = Runs(runtime, dispatcher, self.changes.bump)
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE / "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.css = (HERE / "static" / "app.css").read_text("utf-8")
        self.js = (HERE / "static" / "app.js").read_bytes()
        css_hash = base64.b64encode(hashlib.sha256(self.css.encode()).digest()).decode()
        self.csp = (
            f"default-src 'none'; script-src 'self'; style-src 'sha256-{css_hash}'; img-src 'self'; "
            "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        ).encode()
        #: event streams open at once: each holds a connection, and may take a quarter of them at most
        self.max_streams = max(4, (book.max_connections if book is not None else 1024) // 4)
        self.streams = 0
        self._stopping = False
        self._rendered: dict[str, tuple[int, str]] = {}  # view -> (change version, its live part)

    # -- change notification ----------------------------------------------------------------

    def _changed(self) -> None:
        self.history.observe()
        self.changes.bump()

    def stop_streams(self) -> None:
        """The server stops: every event stream ends now (it would hold the shutdown up)."""
        self._stopping = True
        self.changes.bump()

    @staticmethod
    def owns(method: str, path: str) -> bool:
        return path == PREFIX or path.startswith(PREFIX + "/") or (path == "/" and method == "GET")

    # -- ASGI --------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        req = Request(scope, receive)
        try:
            await self._route(req, send)
        except HttpError as e:
            await self._error(req, send, e.status, e.text)

    async def _route(self, req: Request, send: Send) -> None:
        path, method = req.path, req.method
        if path in ("/", PREFIX):
            await self._redirect(send, PREFIX + "/")
            return
        if path == PREFIX + "/static/app.js" and method == "GET":
            await _respond(
                send,
                200,
                self.js,
                [(b"content-type", b"text/javascript; charset=utf-8"), (b"cache-control", b"max-age=3600"), *_COMMON],
            )
            return
        if path == PREFIX + "/login":
            if method == "GET":
                await self._login_page(req, send)
            elif method == "POST":
                await self._login(req, send)
            else:
                raise HttpError(405, "GET or POST")
            return
        session, user = self._session(req)
        if session is None or user is None:
            if method == "GET" and path != PREFIX + "/events":
                await self._redirect(send, PREFIX + "/login")
                return
            raise HttpError(401, "log in first")
        parts = [p for p in path[len(PREFIX) :].split("/") if p]
        if method == "POST":
            form = await req.form(MAX_FORM)
            if not Sessions.csrf_ok(session, form.get("csrf")):
                log.warning("web: POST %s by %s from %s without a valid CSRF token", path[:200], user.login, req.client)
                raise HttpError(403, "the form's CSRF token is missing or wrong: reload the page and try again")
            await self._post(req, send, session, user, parts, form)
        elif method == "GET":
            await self._get(req, send, session, user, parts)
        else:
            raise HttpError(405, "GET or POST")

    def _session(self, req: Request) -> tuple[Session | None, User | None]:
        session = self.sessions.get(req.cookies.get(COOKIE))
        if session is None:
            return None, None
        user = self.runtime.cluster.users.by_id.get(session.uid)
        if user is None or user.login != session.login or user.password_hash != session.password_hash:
            self.sessions.drop(session.token)  # deleted, renamed, or a new password: log in again
            return None, None
        return session, user

    # -- pages ---------------------------------------------------------------------------------

    async def _get(self, req: Request, send: Send, session: Session, user: User, parts: list[str]) -> None:
        rt = self.runtime
        rt.sync()
        c = rt.cluster
        head = parts[0] if parts else ""
        if not parts:
            await self._page(send, "overview.html", session, user, view="overview", o=self._view("overview", user))
        elif head == "nodes" and len(parts) == 2:
            data = self._view("node:" + parts[1], user)
            await self._page(send, "node.html", session, user, view="node:" + parts[1], n=data)
        elif head == "databases" and len(parts) == 2:
            data = self._view("database:" + parts[1], user)
            path = [c.name, "db_" + parts[1]]
            await self._page(
                send,
                "database.html",
                session,
                user,
                view="database:" + parts[1],
                d=data,
                can_operate=self._allowed(user, path, "operate"),
            )
        elif head == "logs" and len(parts) == 1:
            f = self._log_filter(req)
            rows, last = views.log_rows(rt, f["priority"], f["system"], f["node"])
            await self._page(
                send,
                "logs.html",
                session,
                user,
                view="logs",
                rows=rows,
                last=last,
                f=f,
                priorities=PRIORITIES,
                systems=views.log_systems(rt),
                nodes=sorted(c.nodes),
                query=_query(f),
            )
        elif head == "runs" and len(parts) == 2:
            run = self.runs.runs.get(_int(parts[1]))
            if run is None:
                raise HttpError(404, f"no run {parts[1]} (the last {len(self.runs.runs)} are kept)")
            await self._page(
                send, "run.html", session, user, view=f"run:{run.number}", r=self._view(f"run:{run.number}", user)
            )
        elif head == "users" and len(parts) == 1:
            self._require(user, [c.name], "manage", "the users page")
            await self._page(send, "users.html", session, user, view="", users=views.users_page(rt), roles=ROLES)
        elif head == "simulation" and len(parts) == 1:
            self._require(user, [c.name], "manage", "the simulation controls")
            if not c.simulated:
                raise HttpError(404, "the cluster's machines are real: there are no simulation controls")
            from exaop.model.cluster import FAULTS

            await self._page(
                send,
                "simulation.html",
                session,
                user,
                view="",
                faults=FAULTS,
                speed=rt.clock.speed,
                now=views.strtime(c.now),
                nodes=sorted(c.nodes),
                databases=sorted(c.databases),
                next_deadline=c.next_deadline(),
                next_in=round((c.next_deadline() or c.now) - c.now),
            )
        elif head == "events" and len(parts) == 1:
            await self._events(req, send, session, user)
        else:
            raise HttpError(404, f"no page {req.path[:100]}")

    def _view(self, view: str, user: User) -> dict[str, Any]:
        rt = self.runtime
        kind, _, arg = view.partition(":")
        if kind == "overview":
            data = views.overview(rt, self.history, self.runs.latest)
            data["run"] = self.runs.current
            data["latest_run"] = self.runs.latest
            return data
        if kind == "node":
            found = views.node_page(rt, self.history, arg)
        elif kind == "database":
            found = views.database_page(rt, self.history, arg)
        elif kind == "run":
            run = self.runs.runs.get(_int(arg))
            found = (
                None
                if run is None
                else {
                    "run": run,
                    "happening": views.happening(rt, run),
                    "timeline": views.last_episode(rt, self.history, run),
                }
            )
        else:
            raise HttpError(400, "view must be overview, node:<name>, database:<name>, logs or run:<number>")
        if found is None:
            raise HttpError(404, f"no {kind} {arg[:64]!r}")
        return found

    def _log_filter(self, req: Request) -> dict[str, str]:
        q = req.query
        priority = q.get("priority", "Information")
        system = q.get("system", "")
        node = q.get("node", "")
        if priority not in PRIORITIES:
            raise HttpError(400, f"priority must be one of {', '.join(PRIORITIES)}")
        if system and not _NAME.match(system):
            raise HttpError(400, "system: not a system's name")
        if node and not _NAME.match(node):
            raise HttpError(400, "node: not a node's name")
        return {"priority": priority, "system": system, "node": node}

    async def _page(
        self,
        send: Send,
        template: str,
        session: Session | None,
        user: User | None,
        status: int = 200,
        headers: list[tuple[bytes, bytes]] | None = None,
        **ctx: Any,
    ) -> None:
        c = self.runtime.cluster
        role = c.users.role_on(user, [c.name])[0] if user is not None else ""
        flash, session_flash = (session.flash, []) if session is not None else ([], [])
        if session is not None:
            session.flash = session_flash
        body = self.env.get_template(template).render(
            css=Markup(self.css),
            cluster=c.name,
            user=user,
            role=role,
            session=session,
            flash=flash,
            is_master=role in PERMISSIONS["manage"],
            can_operate_cluster=role in PERMISSIONS["operate"],
            simulated=c.simulated,
            **{"view": "", **ctx},
        )
        await _respond(
            send,
            status,
            body.encode("utf-8"),
            [
                (b"content-type", b"text/html; charset=utf-8"),
                (b"cache-control", b"no-store"),
                (b"content-security-policy", self.csp),
                *_COMMON,
                *(headers or []),
            ],
        )

    async def _error(self, req: Request, send: Send, status: int, text: str) -> None:
        if req.path == PREFIX + "/events" or req.headers.get(b"accept", b"").startswith(b"text/event-stream"):
            await _respond(
                send, status, text.encode() + b"\n", [(b"content-type", b"text/plain; charset=utf-8"), *_COMMON]
            )
            return
        session, user = self._session(req)
        await self._page(send, "error.html", session, user, status=status, status_code=status, message=text)

    async def _redirect(self, send: Send, location: str, cookies: list[str] | None = None) -> None:
        headers = [(b"location", location.encode("latin-1")), *_COMMON]
        headers += [(b"set-cookie", c.encode("latin-1")) for c in cookies or []]
        await _respond(send, 303, b"", headers)

    def _cookie(self, name: str, value: str, max_age: int | None = None) -> str:
        text = f"{name}={value}; Path={PREFIX}; HttpOnly; SameSite=Strict"
        if max_age is not None:
            text += f"; Max-Age={max_age}"
        return text + ("; Secure" if self.secure else "")

    # -- login ---------------------------------------------------------------------------------

    async def _login_page(self, req: Request, send: Send, message: str = "", status: int = 200) -> None:
        nonce, token = self.sessions.login_nonce()
        await self._page(
            send,
            "login.html",
            None,
            None,
            status=status,
            login_token=token,
            message=message,
            headers=[(b"set-cookie", self._cookie(LOGIN_COOKIE, nonce, 3600).encode())],
        )

    async def _login(self, req: Request, send: Send) -> None:
        form = await req.form(MAX_LOGIN_FORM)
        if not self.sessions.login_ok(req.cookies.get(LOGIN_COOKIE), form.get("csrf")):
            raise HttpError(403, "the login form's token is missing or wrong: reload the page and log in again")
        login, password = form.get("login", ""), form.get("password", "")
        header = b"Basic " + base64.b64encode(f"{login}:{password}".encode())
        try:
            user = await self.auth.authenticate(header, req.client)
        except LoginRefused as e:
            if self.on_login_failure:
                self.on_login_failure()
            await self._login_page(req, send, f"{e.reason}; try again in {max(1, round(e.retry_after))} s", e.status)
            return
        if user is None:
            if self.on_login_failure:
                self.on_login_failure()
            await self._login_page(req, send, "wrong user or password", 401)
            return
        old = req.cookies.get(COOKIE)
        if old:
            self.sessions.drop(old)
        s = self.sessions.create(user.uid, user.login, user.password_hash)
        log.info("web: %s logged in from %s", user.login, req.client, extra={"event": "web_login"})
        await self._redirect(send, PREFIX + "/", [self._cookie(COOKIE, s.token), self._cookie(LOGIN_COOKIE, "", 0)])

    # -- actions -------------------------------------------------------------------------------

    def _allowed(self, user: User, path: list[str], permission: str) -> bool:
        return self.runtime.cluster.users.role_on(user, path)[0] in PERMISSIONS[permission]

    def _require(self, user: User, path: list[str], permission: str, what: str) -> None:
        if not self._allowed(user, path, permission):
            role = self.runtime.cluster.users.role_on(user, path)[0]
            raise HttpError(
                403, f"user {user.login} has role {role}; {what} needs role {PERMISSIONS[permission][0]} or higher"
            )

    async def _post(
        self, req: Request, send: Send, session: Session, user: User, parts: list[str], form: dict[str, str]
    ) -> None:
        c = self.runtime.cluster
        head = parts[0] if parts else ""
        if parts == ["logout"]:
            self.sessions.drop(session.token)
            await self._redirect(send, PREFIX + "/login", [self._cookie(COOKIE, "", 0)])
            return
        if head == "databases" and len(parts) == 3:
            name, action = parts[1], parts[2]
            if name not in c.databases:
                raise HttpError(404, f"no database {name[:64]!r}")
            calls: dict[str, tuple[str, tuple[Any, ...]]] = {
                "start": ("startDatabase", ()),
                "stop": ("shutdownDatabase", ()),
                "restart": ("restartDatabase", ()),
            }
            if action == "backup":
                level = form.get("level", "0")
                if not level.isdigit():
                    raise HttpError(400, "level must be a number (0: full)")
                calls["backup"] = ("backupDatabase", (form.get("volume", ""), int(level), form.get("expire", "")))
            if action not in calls:
                raise HttpError(404, f"no action {action[:32]!r} (start, stop, restart, backup)")
            method, args = calls[action]
            await self._act(session, user, f"/{c.name}/db_{name}", method, args)
            await self._redirect(send, f"{PREFIX}/databases/{quote(name)}")
        elif head == "cluster" and len(parts) == 2 and parts[1] in ("start", "stop"):
            self._require(user, [c.name], "operate", f"a cluster {parts[1]}")
            if self.runtime.clock.speed == 0 and not self._allowed(user, [c.name], "manage"):
                session.tell("error", f"the cluster's clock stands still (speed 0): a {parts[1]} run moves it as "
                             "it waits, which needs the Master role; or set a clock speed first")  # fmt: skip
                await self._redirect(send, PREFIX + "/")
                return
            try:
                run = self.runs.begin(parts[1], user, asyncio.get_running_loop())
            except ValueError as e:
                session.tell("error", str(e))
                await self._redirect(send, PREFIX + "/")
                return
            log.info(
                "web: cluster %s by %s from %s (run #%d)",
                parts[1],
                user.login,
                req.client,
                run.number,
                extra={"event": "action"},
            )
            await self._redirect(send, f"{PREFIX}/runs/{run.number}")
        elif head == "simulation" and len(parts) == 2:
            self._require(user, [c.name], "manage", "the simulation controls")
            action = parts[1]
            if action == "advance":
                try:
                    seconds = float(form.get("seconds", ""))
                except ValueError:
                    raise HttpError(400, "seconds must be a number") from None
                await self._act(session, user, f"/{c.name}/simulation", "advanceClock", (seconds,))
            elif action == "speed":
                try:
                    speed = float(form.get("speed", ""))
                except ValueError:
                    raise HttpError(400, "speed must be a number") from None
                await self._act(session, user, f"/{c.name}/simulation", "setClockSpeed", (speed,))
            elif action == "fault":
                await self._act(
                    session,
                    user,
                    f"/{c.name}/simulation",
                    "injectFault",
                    (form.get("target", ""), form.get("fault", "")),
                )
            elif action == "clear":
                await self._act(session, user, f"/{c.name}/simulation", "clearFaults", ())
            else:
                raise HttpError(404, "no such simulation control (advance, speed, fault, clear)")
            await self._redirect(send, PREFIX + "/simulation")
        elif parts == ["users", "role"]:
            self._require(user, [c.name], "manage", "changing roles")
            await self._act(
                session,
                user,
                f"/{c.name}",
                "grantRole",
                (form.get("object", c.name), form.get("login", ""), form.get("role", "")),
            )
            await self._redirect(send, PREFIX + "/users")
        else:
            raise HttpError(404, f"no action {req.path[:100]}")

    async def _act(self, session: Session, user: User, path: str, method: str, args: tuple[Any, ...]) -> None:
        """One call through the dispatcher as ``user``; its outcome is shown on the next page.
        A role that does not allow it: 403."""
        rt = self.runtime
        rt.sync()
        if rt.halted or (rt.cluster.master.restarting and not path.endswith("/simulation")):
            session.tell("error", f"{method}: EXAoperation is {'halting' if rt.halted else 'restarting'}")
            return
        try:
            result = self.dispatcher.call(path, method, args, user)
            if type(result) is CoroutineType:
                result = await result
        except Forbidden as e:
            raise HttpError(403, e.reason) from None
        except Exception as e:  # refusals are shown, as the XML-RPC face would answer them
            session.tell("error", f"{method}: {faults.fault_for(e, method)[1]}")
            log.info("web: %s by %s on %s: refused", method, user.login, path[:200], extra={"event": "action"})
        else:
            session.tell("ok", f"{method}: {result if isinstance(result, str) else 'done'}")
            log.info("web: %s by %s on %s: done", method, user.login, path[:200], extra={"event": "action"})
        finally:
            rt.commit()

    # -- live ----------------------------------------------------------------------------------

    def _fragment(self, view: str, user: User, after: int, f: dict[str, str] | None) -> tuple[str, str, int]:
        """(event name, HTML, last log id) of ``view``'s live part now."""
        rt = self.runtime
        rt.sync()
        if view == "logs":
            assert f is not None
            rows, last = views.log_rows(rt, f["priority"], f["system"], f["node"], after=after)
            return "prepend", self.env.get_template("_log_rows.html").render(rows=rows), last
        # these parts are the same for every user (actions are outside them): rendered once per
        # change, whatever the number of pages that show them
        version = self.changes.version
        cached = self._rendered.get(view)
        if cached is not None and cached[0] == version:
            return "replace", cached[1], after
        kind = view.partition(":")[0]
        data = self._view(view, user)
        template, key = _FRAGMENTS[kind]
        html = self.env.get_template(template).render({key: data})
        if len(self._rendered) >= MAX_RENDERED:
            self._rendered.clear()
        self._rendered[view] = (version, html)
        return "replace", html, after

    async def _events(self, req: Request, send: Send, session: Session, user: User) -> None:
        view = req.query.get("view", "")
        f = self._log_filter(req) if view == "logs" else None
        after = _int(req.query.get("after", "0"))
        if view != "logs":
            self._view(view, user)  # a view that does not exist is refused now, not in the stream
        if self.streams >= self.max_streams:
            raise HttpError(503, "too many live pages are open; reload later")
        if session.streams >= MAX_STREAMS_PER_SESSION:
            raise HttpError(429, f"this session has {MAX_STREAMS_PER_SESSION} live pages open already")
        self.streams += 1
        session.streams += 1
        try:
            await self._stream(req, send, session, user, view, f, after)
        finally:
            self.streams -= 1
            session.streams -= 1

    async def _stream(
        self, req: Request, send: Send, session: Session, user: User, view: str, f: dict[str, str] | None, after: int
    ) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"text/event-stream; charset=utf-8"),
                    (b"cache-control", b"no-store"),
                    *_COMMON,
                ],
            }
        )
        gone = asyncio.ensure_future(_disconnected(req.receive))
        seen = -1
        try:
            while True:
                if seen >= 0:
                    waiting = asyncio.ensure_future(self.changes.newer_than(seen, KEEPALIVE))
                    done, _ = await asyncio.wait({gone, waiting}, return_when=asyncio.FIRST_COMPLETED)
                    if gone in done:
                        waiting.cancel()
                        return
                    if waiting.result() == seen:  # quiet: a comment keeps proxies from closing it
                        if self._session(req)[0] is None:
                            await send({"type": "http.response.body", "body": b"event: expired\ndata: \n\n"})
                            return
                        await send({"type": "http.response.body", "body": b": quiet\n\n", "more_body": True})
                        continue
                    await asyncio.sleep(COALESCE)
                seen = self.changes.version
                try:
                    event, html, after = self._fragment(view, user, after, f)
                except HttpError:  # what the page shows is gone (a database deleted)
                    break
                if event != "prepend" or html.strip():
                    data = "".join(f"data: {line}\n" for line in html.splitlines() or [""])
                    body = f"event: {event}\n{data}\n".encode()
                    await send({"type": "http.response.body", "body": body, "more_body": True})
                if self._stopping:  # the server stops: the page has its last state, the stream ends
                    break
            await send({"type": "http.response.body", "body": b"event: end\ndata: \n\n"})
        except OSError:  # the client went away while we wrote
            return
        finally:
            gone.cancel()


#: a live view's template and the name its data has there
_FRAGMENTS = {
    "overview": ("_overview.html", "o"),
    "node": ("_node.html", "n"),
    "database": ("_database.html", "d"),
    "run": ("_run.html", "r"),
}
_COMMON = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"), (b"x-frame-options", b"DENY")]


async def _disconnected(receive: Receive) -> None:
    """Return once the client has gone (a GET's empty body comes first)."""
    while (await receive())["type"] != "http.disconnect":
        pass


def _int(text: str) -> int:
    return int(text) if text.isdigit() and len(text) < 12 else 0


def _query(f: dict[str, str]) -> str:
    return "&".join(f"{k}={quote(v)}" for k, v in f.items() if v)
