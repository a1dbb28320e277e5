"""The explicit registry of ConfD jobs: names, parameters, who may run them, what they do.

Each job is a decorated function of a few lines (faces/confd/jobs_*.py) whose decorator
carries what ``job_desc`` and ``job_help`` tell: the description, mandatory and optional
parameters with their types, substitutes (``vid`` or ``vname``), the allowed roles and an
example. A client's job name is looked up here, never resolved with ``getattr``; the
parameters are checked here, before a job exists: an unknown job, a missing or unknown
parameter or one of the wrong type is refused as a call (a fault naming it), while a job
that ran and failed ends with a non-zero ``result_code``.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from exaop.model.errors import UsageError
from exaop.model.schema import TEXTLINE_MAX
from exaop.model.users import PERMISSIONS

if TYPE_CHECKING:
    from exaop.faces.confd.service import JobContext

_TYPE_NAMES = {str: "string", int: "integer", bool: "boolean", float: "float", list: "list", dict: "dict"}
#: ConfD's groups for our permission classes: what job_desc shows as allowed groups
GROUPS = {"read": ["root", "exaadm", "exausers"], "operate": ["root", "exaadm"], "manage": ["root"]}
#: the most a parameter may weigh (characters of its strings plus one per item, all levels): a job
#: keeps its parameters in the history (memory and the state dir) and may echo one in its result
PARAM_MAX = 16 * 1024


def weight(value: Any, limit: int) -> int:
    """How much a parameter's value weighs, counted until it is over ``limit``."""
    total, todo = 0, [value]
    while todo and total <= limit:
        v = todo.pop()
        total += len(v) + 1 if isinstance(v, str | bytes) else 1
        if isinstance(v, dict):
            todo.extend(v.keys())
            todo.extend(v.values())
        elif isinstance(v, list | tuple):
            todo.extend(v)
    return total


class BadCall(UsageError):
    """The call is not understood (unknown job, bad parameter): refused before any job exists."""


@dataclass(frozen=True)
class Param:
    name: str
    types: tuple[type, ...]
    doc: str

    def type_name(self) -> str:
        return " or ".join(_TYPE_NAMES.get(t, t.__name__) for t in self.types)

    def check(self, job: str, value: Any) -> Any:
        if float in self.types and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        ok = isinstance(value, self.types) and not (isinstance(value, bool) and bool not in self.types)
        if not ok:
            raise BadCall(f"{job}: parameter {self.name!r} must be {self.type_name()}, got {type(value).__name__}")
        if isinstance(value, str) and len(value) > TEXTLINE_MAX:
            raise BadCall(f"{job}: parameter {self.name!r} is {len(value)} characters long; at most {TEXTLINE_MAX}")
        if isinstance(value, list | dict) and weight(value, PARAM_MAX) > PARAM_MAX:
            raise BadCall(f"{job}: parameter {self.name!r} is too large (more than {PARAM_MAX} characters and items)")
        return value


def p(name: str, types: type | tuple[type, ...], doc: str) -> Param:
    return Param(name, types if isinstance(types, tuple) else (types,), doc)


@dataclass
class Wait:
    """What a job that takes time waits for: ``until`` names a condition (service.CONDITIONS)
    with its arguments, ``timeout`` simulated seconds (None: no limit)."""

    until: dict[str, Any]
    timeout: float | None = None


@dataclass
class JobSpec:
    name: str
    fn: Callable[..., Any]
    desc: str
    permission: str
    mandatory: list[Param]
    optional: list[Param]
    substitutes: dict[str, str]
    changes: bool
    example: dict[str, Any] | None
    #: the object whose roles count (['cluster1', 'db_exa_db1']) from the parameters; None: the cluster
    on: Callable[[str, dict[str, Any]], list[str]] | None = None
    #: work done off the event loop before the job runs (a password's hash), handed to it as ctx.prepared
    prepare: Callable[[dict[str, Any]], Awaitable[dict[str, Any]]] | None = None
    params: dict[str, Param] = field(init=False)

    def __post_init__(self) -> None:
        self.params = {q.name: q for q in (*self.mandatory, *self.optional)}

    def check(self, given: Any) -> dict[str, Any]:
        """The parameters, checked: each known and of its type, each mandatory one given (or its
        substitute)."""
        if not isinstance(given, dict):
            raise BadCall(f"{self.name}: 'params' must be a dict of parameters, got {type(given).__name__}")
        out = {}
        for name, value in given.items():
            q = self.params.get(name) if isinstance(name, str) else None
            if q is None:
                known = ", ".join(self.params) or "none"
                raise BadCall(f"{self.name}: unknown parameter {name!r} (parameters: {known})")
            out[name] = q.check(self.name, value)
        for q in self.mandatory:
            if q.name not in out and self.substitutes.get(q.name) not in out:
                alt = self.substitutes.get(q.name)
                either = f" (or {alt!r})" if alt else ""
                raise BadCall(f"{self.name}: mandatory parameter {q.name!r}{either} is missing")
        return out

    def allowed_roles(self) -> list[str]:
        return list(PERMISSIONS[self.permission])

    def example_text(self) -> str:
        params = {"params": self.example} if self.example else None
        return f"conn.job_exec({self.name!r}{', ' + repr(params) if params else ''})"

    def describe(self) -> list[Any]:
        """job_desc's list: description, mandatory, optional, substitutes, allowed users (our
        roles), allowed groups, examples."""

        def table(params: list[Param]) -> list[list[str]]:
            return [[q.name, q.type_name(), q.doc] for q in params]

        subs = [[a, b] for a, b in self.substitutes.items()]
        return [self.desc, table(self.mandatory), table(self.optional), subs, self.allowed_roles(),
                GROUPS[self.permission], [self.example_text()]]  # fmt: skip

    def help(self) -> str:
        lines = [f"{self.name}: {self.desc}", ""]
        for title, params in (("Mandatory parameters", self.mandatory), ("Optional parameters", self.optional)):
            lines.append(f"{title}:")
            lines += [f"  {q.name} ({q.type_name()}): {q.doc}" for q in params] or ["  none"]
        if self.substitutes:
            lines.append("Substitutes: " + ", ".join(f"{a} <-> {b}" for a, b in self.substitutes.items()))
        ends = "committed, with a new result_revision" if self.changes else "finished (it changes nothing)"
        lines.append(f"Ends: {ends}.")
        lines.append(f"Allowed roles: {', '.join(self.allowed_roles())}")
        lines.append(f"Example: {self.example_text()}")
        return "\n".join(lines)


#: every job by name
JOBS: dict[str, JobSpec] = {}


def job(
    name: str,
    permission: str,
    desc: str,
    mandatory: tuple[Param, ...] = (),
    optional: tuple[Param, ...] = (),
    substitutes: dict[str, str] | None = None,
    example: dict[str, Any] | None = None,
    on: Callable[[str, dict[str, Any]], list[str]] | None = None,
    changes: bool | None = None,
    prepare: Callable[[dict[str, Any]], Awaitable[dict[str, Any]]] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a job. Read jobs end *finished*; the others change the cluster and end
    *committed* with a new revision (``changes=False``: a job only operators may run that
    changes nothing, such as waiting for nodes)."""
    assert permission in PERMISSIONS, permission

    def register(fn: Callable[[JobContext, dict[str, Any]], Any]) -> Callable[..., Any]:
        assert name not in JOBS, f"job {name} registered twice"
        subs = dict(substitutes or {})
        subs.update({b: a for a, b in list(subs.items())})
        JOBS[name] = JobSpec(name, fn, inspect.cleandoc(desc), permission, list(mandatory), list(optional),
                             subs, permission != "read" if changes is None else changes, example, on,
                             prepare)  # fmt: skip
        return fn

    return register


def on_database(cluster_name: str, params: dict[str, Any]) -> list[str]:
    """A database job: the roles on that database count."""
    name = params.get("db_name")
    return [cluster_name, f"db_{name}"] if isinstance(name, str) and name else [cluster_name]


def lookup(name: Any) -> JobSpec:
    if not isinstance(name, str):
        raise BadCall(f"the job name must be a string, got {type(name).__name__}")
    spec = JOBS.get(name)
    if spec is None:
        raise BadCall(f"unknown job {name!r}; job_list() names the jobs")
    return spec
