"""From (URL path, method name) to a model call: routing, roles, arguments."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from exaop.faces.exaoperation.registry import Method, ObjectType
from exaop.model.errors import NotFound

if TYPE_CHECKING:
    from exaop.engine.runtime import Runtime
    from exaop.model.cluster import Cluster
    from exaop.model.users import User


@dataclass(slots=True)
class Context:
    runtime: Runtime
    user: User
    path: list[str]  # object names from the cluster down: ['cluster1', 'db_exa_db1']
    type: ObjectType
    method: str = ""

    @property
    def cluster(self) -> Cluster:
        return self.runtime.cluster

    @property
    def url_path(self) -> str:
        return "/" + "/".join(self.path)


#: how many (URL path, method name) splits are remembered; clients use a handful
SPLIT_CACHE_SIZE = 1024


class Dispatcher:
    def __init__(self, runtime: Runtime, root: ObjectType) -> None:
        self.runtime = runtime
        self.root = root
        #: the method the last call() resolved (None: it resolved none); read right after call(),
        #: before anything is awaited, it is that call's
        self.last: Method | None = None
        self._splits: dict[tuple[str, str], tuple[list[str], list[str], str]] = {}

    def _split(self, url_path: str, method_name: str) -> tuple[list[str], list[str], str]:
        """Path parts, then the child names to walk and the method (pure string work, remembered)."""
        key = (url_path, method_name)
        split = self._splits.get(key)
        if split is None:
            parts = [p for p in url_path.split("/") if p]
            names = method_name.split(".")
            if len(names) > 1 and names[0] == "system":
                names = names[1:]  # system.listMethods and friends
            split = (parts, parts[1:] + names[:-1], names[-1])
            if len(url_path) + len(method_name) <= 200:  # never hold on to big client strings
                if len(self._splits) >= SPLIT_CACHE_SIZE:
                    self._splits.clear()
                self._splits[key] = split
        return split

    def resolve(self, url_path: str, method_name: str, user: User) -> tuple[Context, Any, Method]:
        cluster = self.runtime.cluster
        parts, walk, last = self._split(url_path, method_name)
        if not parts or parts[0] != cluster.name:
            raise NotFound(f"Object {url_path} not found; the cluster is at /{cluster.name}")
        ctx = Context(self.runtime, user, [cluster.name], self.root)
        obj: Any = cluster
        for child in walk:
            found = ctx.type.child(ctx, obj, child) if ctx.type.child else None
            if found is None:
                raise NotFound(f"Object {child} not found in {ctx.url_path}")
            ctx.type, obj = found
            ctx.path.append(child)
        method = ctx.type.lookup(last, cluster)
        if method is None:
            raise NotFound(f"Object {last} not found: {ctx.url_path} has no method of that name")
        ctx.method = method.name
        return ctx, obj, method

    def call(self, url_path: str, method_name: str, args: tuple[Any, ...], user: User) -> Any:
        """Route, check the caller's role and the arguments, call the method.

        An async method's coroutine is returned unawaited (the caller awaits it), so that the
        usual, synchronous method costs no coroutine of its own.
        """
        self.last = None
        ctx, obj, method = self.resolve(url_path, method_name, user)
        self.last = method
        self.runtime.cluster.users.authorize(user, ctx.path, method.permission, method.name)
        method.check_args(args, method_name)
        return method.fn(ctx, obj, *args)
