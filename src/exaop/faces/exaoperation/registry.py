"""The explicit registry of published objects and methods.

Every object kind has an :class:`ObjectType` listing its methods. A client's method name
is looked up in these dicts, never resolved with ``getattr``. Argument counts and types
are checked here from each handler's signature, before the model is called.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Union, get_args, get_origin, get_type_hints

from exaop.model.errors import UsageError

if TYPE_CHECKING:
    from exaop.faces.exaoperation.dispatch import Context

PERMISSIONS = ("read", "operate", "manage")
_XMLRPC_TYPES = {str: "string", int: "int", bool: "boolean", float: "double", list: "array", dict: "struct"}


@dataclass(frozen=True)
class Param:
    name: str
    types: tuple[type, ...]  # empty: any
    optional: bool


@dataclass
class Method:
    name: str
    fn: Callable[..., Any]
    permission: str
    help: str
    params: list[Param]
    returns: str
    aliases: tuple[str, ...] = ()
    #: whether the method exists on this cluster (e.g. only in some EXAoperation dialects)
    available: Callable[[Any], bool] | None = None
    #: how many params are not optional (computed once, checked on every call)
    required: int = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.required = sum(1 for p in self.params if not p.optional)

    def check_args(self, args: tuple[Any, ...], called: str = "") -> None:
        """Refuse a wrong count or type of ``args``, naming the method as it was ``called`` (the
        client's method name, dotted or not: an alias such as stopDatabase is named so, not as the
        method it stands for). Nothing is spent on the name unless a refusal needs it."""
        if not self.required <= len(args) <= len(self.params):
            names = ", ".join(p.name + ("?" if p.optional else "") for p in self.params) or "no arguments"
            raise UsageError(f"{self._called(called)} takes ({names}); {len(args)} argument(s) given")
        for value, p in zip(args, self.params, strict=False):
            if not p.types:
                continue
            if isinstance(value, bool) and bool not in p.types:
                ok = False
            else:
                ok = isinstance(value, p.types)
            if not ok:
                want = " or ".join(_XMLRPC_TYPES.get(t, t.__name__) for t in p.types)
                raise UsageError(
                    f"{self._called(called)}: argument {p.name} must be {want}, got {type(value).__name__}"
                )

    def _called(self, called: str) -> str:
        return called.rpartition(".")[2] or self.name

    def signature(self) -> list[list[str]]:
        def name(types: tuple[type, ...]) -> str:
            return _XMLRPC_TYPES.get(types[0], "string") if len(types) == 1 else "any"

        full = [self.returns] + [name(p.types) if p.types else "any" for p in self.params]
        required = 1 + sum(1 for p in self.params if not p.optional)
        return [full[:n] for n in range(required, len(full) + 1)]


def _param_types(hint: Any) -> tuple[type, ...]:
    if hint is Any or hint is inspect.Parameter.empty:
        return ()
    origin = get_origin(hint)
    if origin is Union or str(origin) == "<class 'types.UnionType'>":
        out: list[type] = []
        for a in get_args(hint):
            if a is type(None):
                continue
            out.extend(_param_types(a) or ())
        return tuple(out)
    if origin in (list, dict):
        return (origin,)
    if isinstance(hint, type):
        return (int, float) if hint is float else (hint,)
    return ()


#: every published object kind by its name (EXAoperation's service name: NodeCluster, Storage ...)
ALL_TYPES: dict[str, ObjectType] = {}


@dataclass(eq=False)
class ObjectType:
    """One kind of published object (cluster, storage, database...), named as EXAoperation's
    reference names the service."""

    name: str
    methods: dict[str, Method] = field(default_factory=dict)
    #: (ctx, obj) -> {child name: (ObjectType, child object)} lookup by name
    child: Callable[[Context, Any, str], tuple[ObjectType, Any] | None] | None = None
    #: (ctx, obj) -> child names, for listObjects
    children: Callable[[Context, Any], list[str]] | None = None

    def __post_init__(self) -> None:
        if self.name != "common":  # the shared introspection methods are not an object kind
            assert self.name not in ALL_TYPES, f"object type {self.name} declared twice"
            ALL_TYPES[self.name] = self

    def method(
        self,
        name: str,
        permission: str,
        help: str,
        aliases: tuple[str, ...] = (),
        returns: str = "string",
        available: Callable[[Any], bool] | None = None,
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        assert permission in PERMISSIONS, permission

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            sig = inspect.signature(fn)
            hints = get_type_hints(fn)
            params = [
                Param(p.name, _param_types(hints.get(p.name, Any)), p.default is not inspect.Parameter.empty)
                for p in list(sig.parameters.values())[2:]  # skip (ctx, obj)
            ]
            m = Method(name, fn, permission, inspect.cleandoc(help), params, returns,
                       aliases, available)  # fmt: skip
            for n in (name, *aliases):
                assert n not in self.methods, f"{self.name}.{n} registered twice"
                self.methods[n] = m
            return fn

        return register

    def lookup(self, name: str, cluster: Any) -> Method | None:
        m = self.methods.get(name)
        if m is None or (m.available is not None and not m.available(cluster)):
            return None
        return m

    def names(self, cluster: Any) -> list[str]:
        return sorted(n for n in self.methods if self.lookup(n, cluster) is not None)

    def include(self, other: ObjectType, permission: str | None = None) -> None:
        """Add the methods every object shares (introspection); ``permission``: all of them
        need that instead of their own (an object whose very methods are not for everyone)."""
        for n, m in other.methods.items():
            self.methods.setdefault(n, m if permission is None else replace(m, permission=permission))
