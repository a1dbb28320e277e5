"""From (URL path, method name) to a model call: routing, roles, arguments."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from exaop.model.errors import NotFound
from exaop.rpc.registry import Method, ObjectType

if TYPE_CHECKING:
    from exaop.engine.runtime import Runtime
    from exaop.model.cluster import Cluster
    from exaop.model.users import User


@dataclass
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


class Dispatcher:
    def __init__(self, runtime: Runtime, root: ObjectType) -> None:
        self.runtime = runtime
        self.root = root

    def resolve(self, url_path: str, method_name: str, user: User) -> tuple[Context, Any, Method]:
        cluster = self.runtime.cluster
        parts = [p for p in url_path.split("/") if p]
        if not parts or parts[0] != cluster.name:
            raise NotFound(f"Object {url_path} not found; the cluster is at /{cluster.name}")
        names = method_name.split(".")
        if len(names) > 1 and names[0] == "system":
            names = names[1:]  # system.listMethods and friends
        ctx = Context(self.runtime, user, [cluster.name], self.root)
        obj: Any = cluster
        for child in parts[1:] + names[:-1]:
            found = ctx.type.child(ctx, obj, child) if ctx.type.child else None
            if found is None:
                raise NotFound(f"Object {child} not found in {ctx.url_path}")
            ctx.type, obj = found
            ctx.path.append(child)
        method = ctx.type.lookup(names[-1], cluster)
        if method is None:
            raise NotFound(f"Object {names[-1]} not found: {ctx.url_path} has no method of that name")
        ctx.method = method.name
        return ctx, obj, method

    async def call(self, url_path: str, method_name: str, args: tuple[Any, ...], user: User) -> Any:
        ctx, obj, method = self.resolve(url_path, method_name, user)
        self.runtime.cluster.users.authorize(user, ctx.path, method.permission, method.name)
        method.check_args(args)
        if method.is_async:
            return await method.fn(ctx, obj, *args)
        return method.fn(ctx, obj, *args)
