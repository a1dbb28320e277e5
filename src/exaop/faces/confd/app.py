"""ConfD's face (Exasol 7.1+): XML-RPC jobs over HTTPS on a port of its own.

The same process serves EXAoperation's face and this one over the one model; both share
the users, their passwords, the login guard and the roles (the EXAoperation app's
:meth:`~exaop.faces.exaoperation.app.XmlRpcApp.login`).

HTTP:
- ``POST /`` or ``POST /rpc2`` (any case: Python's client posts to ``/RPC2``): an XML-RPC
  call (basic auth; wrong credentials: 401).
- ``GET /master``: the master node's IP as plain text (``?info_type=name``: its host name).
- ``GET /is_master``: 200 on the master, 404 elsewhere (a readiness probe).

Which node this face plays is ``node`` (None: always the master, wherever it is). A face
that plays another node answers every call with ``302`` to the master, as ConfD does on a
node that is not the master.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from time import perf_counter
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from exaop.faces.asgi import XML, Receive, Scope, Send, body_or_413, client, headers_of, text
from exaop.faces.confd import jobs_backup, jobs_cluster, jobs_db, jobs_nodes  # noqa: F401 - registers the jobs
from exaop.faces.confd.registry import JOBS, BadCall, lookup
from exaop.faces.confd.service import JobRunner
from exaop.faces.exaoperation.codec import BadRequest, dump_fault, dump_result, parse_call
from exaop.model import jobs
from exaop.model.errors import DomainError, Forbidden, NotFound, Unavailable

if TYPE_CHECKING:
    from exaop.engine.runtime import Runtime
    from exaop.faces.exaoperation.app import XmlRpcApp
    from exaop.model.node import Node
    from exaop.model.users import User

log = logging.getLogger("exaop.faces.confd")

# fault codes of calls that are not understood or not allowed (a job that ran and failed is a
# result with a non-zero result_code, never a fault)
BAD_CALL, NOT_FOUND, FORBIDDEN, INTERNAL, UNAVAILABLE = 1, 2, 3, 4, 5


def fault_for(err: BaseException, method: str) -> tuple[int, str]:
    if isinstance(err, NotFound):
        return NOT_FOUND, f"NotFound: {err.reason}"
    if isinstance(err, Forbidden):
        return FORBIDDEN, f"Forbidden: {err.reason}"
    if isinstance(err, Unavailable):
        return UNAVAILABLE, f"Unavailable: {err.reason}"
    if isinstance(err, BadCall | BadRequest):
        return BAD_CALL, f"BadCall: {err}" if isinstance(err, BadRequest) else f"BadCall: {err.reason}"
    if isinstance(err, DomainError):
        return BAD_CALL, f"{type(err).__name__}: {err.reason}"
    log.exception("unexpected error in %s", method, exc_info=err)
    return INTERNAL, f"InternalError: {method} failed unexpectedly ({type(err).__name__}); see the server log"


@dataclass
class Call:
    app: ConfdApp
    user: User

    @property
    def runtime(self) -> Runtime:
        return self.app.runtime


@dataclass(frozen=True)
class RpcMethod:
    fn: Callable[..., Any]
    help: str
    signatures: list[list[str]]


METHODS: dict[str, RpcMethod] = {}


def method(name: str, help: str, *signatures: list[str]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        METHODS[name] = RpcMethod(fn, help, [list(s) for s in signatures])
        return fn

    return register


def _arguments(args: Any, keys: tuple[str, ...], what: str) -> dict[str, Any]:
    if args is None:
        return {}
    if not isinstance(args, dict):
        like = f"{{{keys[0]!r}: ...}}"
        raise BadCall(f"{what}: the second argument must be a dict like {like}, got {type(args).__name__}")
    unknown = [k for k in args if k not in keys]
    if unknown:
        raise BadCall(f"{what}: unknown key {unknown[0]!r} (keys: {', '.join(keys)})")
    return args


async def _start(call: Call, name: Any, args: Any) -> jobs.Job:
    spec = lookup(name)
    params = spec.check(_arguments(args, ("params",), spec.name).get("params", {}))
    c = call.runtime.cluster
    path = spec.on(c.name, params) if spec.on else [c.name]
    if len(path) > 1 and path[-1].removeprefix("db_") not in c.databases:
        path = [c.name]  # an unknown database: the job says so (NotFound), the cluster's roles count
    c.users.authorize(call.user, path, spec.permission, spec.name)
    prepared = await spec.prepare(params) if spec.prepare else {}
    call.runtime.sync()  # time went by while it was prepared
    job = call.app.runner.run(spec, params, call.user, prepared)
    call.app.log_job(call.user, job)
    call.runtime.commit()  # what the job did is saved before anyone waits for it
    return job


@method("job_exec", "Run a job and wait until it has ended: job_exec(name, {'params': {...}}). Returns the "
        "result dict: result_code (0: success), result_name, result_desc, result_jobid, result_output when the "
        "job returns data, result_revision when it changed the configuration. An unknown job or a bad "
        "parameter is a fault; a job that ran and failed has a non-zero result_code.",
        ["struct", "string"], ["struct", "string", "struct"])  # fmt: skip
async def job_exec(call: Call, name: Any, args: Any = None) -> dict[str, Any]:
    job = await _start(call, name, args)
    if not await call.app.runner.wait(job, None):
        raise Unavailable(f"job {job.job_id} ({job.name}) is still {job.stage}; ask again with job_wait")
    return job.result()


@method("job_start", "Start a job and return its id at once (a string like '10.13'): job_start(name, "
        "{'params': {...}}). job_wait, job_finished, job_info and job_result follow it.",
        ["string", "string"], ["string", "string", "struct"])  # fmt: skip
async def job_start(call: Call, name: Any, args: Any = None) -> str:
    return (await _start(call, name, args)).job_id


def _job(call: Call, job_id: Any) -> jobs.Job:
    return jobs.job(call.runtime.cluster, job_id)


@method("job_wait", "Wait until a job has ended: job_wait(job_id, {'timeout': seconds}). True when it has, "
        "False when the timeout (real seconds; default and at most 3600) ran out first.",
        ["boolean", "string"], ["boolean", "string", "struct"])  # fmt: skip
async def job_wait(call: Call, job_id: Any, args: Any = None) -> bool:
    job = _job(call, job_id)
    timeout = _arguments(args, ("timeout",), "job_wait").get("timeout")
    # NaN compares false with everything: it would pass `< 0` and wait as 0
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout < 0 or timeout != timeout
    ):
        raise BadCall(f"job_wait: 'timeout' must be a number of seconds (0 or more), got {timeout!r}")
    return await call.app.runner.wait(job, timeout)


@method("job_result", "The result dict of a job that has ended (as job_exec returns it); a fault while it "
        "runs.", ["struct", "string"])  # fmt: skip
def job_result(call: Call, job_id: Any) -> dict[str, Any]:
    return _job(call, job_id).result()


@method("job_finished", "Whether a job has ended (finished or committed).", ["boolean", "string"])
def job_finished(call: Call, job_id: Any) -> bool:
    return _job(call, job_id).ended


@method("job_info", "What is known of a job: job_info({'job_id': id}) (or job_info(id)). A dict with id, "
        "name, stage (submitted, scheduled, executed, finished, committed), params (passwords hidden), user, "
        "the time of each stage, finished, and result when it has ended.",
        ["struct", "struct"], ["struct", "string"])  # fmt: skip
def job_info(call: Call, which: Any) -> dict[str, Any]:
    job_id = _arguments(which, ("job_id",), "job_info").get("job_id") if isinstance(which, dict) else which
    job = _job(call, job_id)
    from exaop.model.logs import strtime

    info: dict[str, Any] = {
        "id": job.job_id,
        "name": job.name,
        "stage": job.stage,
        "params": dict(job.params),
        "user": job.user,
        "times": {stage: strtime(t) for stage, t in job.times.items()},
        "finished": job.ended,
    }
    if job.ended:
        info["result"] = job.result()
    return info


@method("job_list", "The names of the jobs.", ["array"])
def job_list(call: Call) -> list[str]:
    return sorted(JOBS)


@method("job_help", "How to use a job: its description, parameters, who may run it, an example.",
        ["string", "string"])  # fmt: skip
def job_help(call: Call, name: Any) -> str:
    return lookup(name).help()


@method("job_desc", "A job's description as a list: [True, [description, mandatory parameters, optional "
        "parameters, substitutes, allowed roles, allowed groups, examples]]; [False, reason] for an unknown "
        "job.", ["array", "string"])  # fmt: skip
def job_desc(call: Call, name: Any) -> list[Any]:
    try:
        spec = lookup(name)
    except BadCall as e:
        return [False, e.reason]
    return [True, spec.describe()]


@method("user_login", "Who the caller is: user, role (on the cluster) and the jobs that role may run.",
        ["struct"])  # fmt: skip
def user_login(call: Call) -> dict[str, Any]:
    return _user(call)


@method("user_state", "The caller's state: user, role, allowed jobs, and how many of the jobs in the history "
        "are the caller's and still under way.", ["struct"])  # fmt: skip
def user_state(call: Call) -> dict[str, Any]:
    out = _user(call)
    mine = [j for j in jobs.history(call.runtime.cluster) if j.user == call.user.login]
    out["jobs"] = len(mine)
    out["jobs_running"] = sum(1 for j in mine if not j.ended)
    return out


def _user(call: Call) -> dict[str, Any]:
    c = call.runtime.cluster
    role, _ = c.users.role_on(call.user, [c.name])
    from exaop.model.users import PERMISSIONS

    allowed = sorted(n for n, s in JOBS.items() if role in PERMISSIONS[s.permission])
    return {"user": call.user.login, "role": role, "allowed_jobs": allowed}


@method("system.listMethods", "The methods of this server.", ["array"])
def list_methods(call: Call) -> list[str]:
    return sorted(METHODS)


@method("system.methodHelp", "What a method does.", ["string", "string"])
def method_help(call: Call, name: Any) -> str:
    return _method(name).help


@method("system.methodSignature", "A method's signatures: lists of the return type and the argument types.",
        ["array", "string"])  # fmt: skip
def method_signature(call: Call, name: Any) -> list[list[str]]:
    return _method(name).signatures


def _method(name: Any) -> RpcMethod:
    m = METHODS.get(name) if isinstance(name, str) else None
    if m is None:
        raise BadCall(f"no method {name!r}; system.listMethods() names them")
    return m


def _check_arity(name: str, m: RpcMethod, args: tuple[Any, ...]) -> None:
    counts = {len(s) - 1 for s in m.signatures}
    if len(args) not in counts:
        want = " or ".join(str(n) for n in sorted(counts))
        raise BadCall(f"{name} takes {want} argument(s), {len(args)} given")


async def _unless_hung_up(call: Awaitable[Any], receive: Receive) -> tuple[Any, bool]:
    """The call's result, and False; or (None, True) as soon as the client hangs up first: a
    job_wait or job_exec waits up to an hour, and one whose caller has gone must not (what a
    job started goes on; only the wait ends)."""
    task = asyncio.ensure_future(call)
    hangup = asyncio.ensure_future(_hangup(receive))
    try:
        await asyncio.wait((task, hangup), return_when=asyncio.FIRST_COMPLETED)
    finally:
        hangup.cancel()
    if not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return None, True
    return task.result(), False


async def _hangup(receive: Receive) -> None:
    """Returns when the client has gone (the body was read: what comes next is the disconnect)."""
    while (await receive())["type"] != "http.disconnect":
        pass


class ConfdApp:
    """The ASGI app of the ConfD face. ``main`` is the EXAoperation face's app (the shared login);
    ``node`` the node this face plays (None: the master, wherever it runs); ``port()`` the port it
    listens on (for the master's address in a redirect)."""

    def __init__(self, runtime: Runtime, main: XmlRpcApp, node: str | None = None,
                 port: Callable[[], int] = lambda: 0) -> None:  # fmt: skip
        self.runtime = runtime
        self.main = main
        if node is not None:
            node = runtime.cluster.node(node).name  # NotFound for a node the cluster lacks
        self.node = node
        self.port = port
        self.runner = JobRunner(runtime, lambda: self.master().number)

    def master(self) -> Node:
        c = self.runtime.cluster
        return c.nodes[c.master.node]

    def is_master(self) -> bool:
        return self.node is None or self.node == self.runtime.cluster.master.node

    def started(self) -> None:
        """On the server's loop, once it listens: jobs that were waiting are watched again."""
        self.runtime.sync()
        self.runner.resume()

    def log_job(self, user: User, job: jobs.Job) -> None:
        if job.changes and log.isEnabledFor(logging.INFO):
            how = job.stage if job.ended else f"{job.stage}, waiting"
            log.info("job %s %s by %s: %s%s", job.job_id, job.name, user.login, how,
                     "" if not job.ended or job.code == 0 else f" ({job.desc[:300]})",
                     extra={"event": "job", "user": user.login, "job": job.name, "job_id": job.job_id,
                            "result": job.stage})  # fmt: skip

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                await self.main._lifespan(receive, send)
            return
        path = scope["path"]
        if scope["method"] != "POST":
            await self._get(scope, send)
            return
        if path.lower().rstrip("/") not in ("", "/rpc2"):  # xmlrpc.client posts to /RPC2 for a bare URL
            await text(send, 404, "ConfD: POST XML-RPC calls to / or /rpc2")
            return
        t0 = perf_counter()
        authorization, length_text = headers_of(scope)
        user = await self.main.login(scope, authorization, send, realm=b"ConfD")
        if user is None:
            return
        if not self.is_master():
            await self._redirect(scope, send)
            return
        body = await body_or_413(receive, length_text, send)
        if body is None:
            return
        rt = self.runtime
        rt.sync()
        name = "?"
        ok = gone = False
        try:
            name, args = parse_call(body)
            m = METHODS.get(name)
            if m is None:
                raise BadCall(f"no method {name!r}; system.listMethods() names them")
            _check_arity(name, m, args)
            result = m.fn(Call(self, user), *args)
            if isinstance(result, Awaitable):
                result, gone = await _unless_hung_up(result, receive)
            out = dump_result(result)
            ok = True
        except Exception as e:  # calls not understood or not allowed, and bugs: faults, never a 500
            out = dump_fault(*fault_for(e, name))
        try:
            rt.commit()
        except Exception as e:  # the store refused: a fault, not a 500
            log.exception("saving the state failed after %s", name)
            out = dump_fault(INTERNAL, f"InternalError: the change could not be saved ({type(e).__name__}: {e}); "
                             "it is kept in memory and saved with the next change")  # fmt: skip
        if gone:  # nobody to answer
            return
        await send({"type": "http.response.start", "status": 200,
                    "headers": [XML, (b"content-length", b"%d" % len(out))]})  # fmt: skip
        await send({"type": "http.response.body", "body": out})
        if name in METHODS:
            self.main.stats.call(f"confd.{name}", ok, perf_counter() - t0)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s %s confd %s %s", client(scope), user.login, name[:100], "ok" if ok else "fault")

    def _master_address(self, by_name: bool) -> str:
        master = self.master()
        return master.name if by_name else master.ip

    async def _redirect(self, scope: Scope, send: Send) -> None:
        port = self.port()
        location = f"https://{self._master_address(False)}{f':{port}' if port else ''}{scope['path']}"
        await text(send, 302, f"not the master; the master is {self.master().name} at {location}",
                   [(b"location", location.encode())])  # fmt: skip

    async def _get(self, scope: Scope, send: Send) -> None:
        path = scope["path"].rstrip("/") or "/"
        if path == "/master":
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            by_name = query.get("info_type", [""])[0] == "name"
            await text(send, 200, self._master_address(by_name))
        elif path == "/is_master":
            if self.is_master():
                await text(send, 200, "master")
            else:
                await text(send, 404, f"not the master; the master is {self.master().name}")
        elif path == "/health":
            await text(send, 200, "ok")
        else:
            rpc = path.lower() in ("/", "/rpc2")
            await text(send, 405 if rpc else 404,
                       "ConfD: POST XML-RPC calls to / or /rpc2 (GET: /master, /is_master, /health)",
                       [(b"allow", b"POST")] if rpc else [])  # fmt: skip
