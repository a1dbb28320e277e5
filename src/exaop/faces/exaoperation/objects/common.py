"""Methods every published object has: introspection and list values."""

from __future__ import annotations

from typing import Any

from exaop.faces.exaoperation.dispatch import Context
from exaop.faces.exaoperation.registry import ObjectType
from exaop.model.errors import NotFound
from exaop.model.lists import list_values

COMMON = ObjectType("common")


@COMMON.method("listMethods", "read", "The names of the methods this object offers.", returns="array")
def list_methods(ctx: Context, obj: Any) -> list[str]:
    return ctx.type.names(ctx.cluster)


@COMMON.method("listObjects", "read", "The names of the objects below this one.", returns="array")
def list_objects(ctx: Context, obj: Any) -> list[str]:
    return sorted(ctx.type.children(ctx, obj)) if ctx.type.children else []


@COMMON.method("methodHelp", "read", "A description of the named method and its parameters.")
def method_help(ctx: Context, obj: Any, method_name: str) -> str:
    m = ctx.type.lookup(method_name.removeprefix("system."), ctx.cluster)
    if m is None:
        raise NotFound(f"Object {method_name} not found: {ctx.url_path} has no method of that name")
    params = ", ".join(p.name + ("=None" if p.optional else "") for p in m.params)
    text = f"{m.help}\n\nUsage: `{ctx.path[-1]}.{m.name}({params})`"
    if m.aliases and method_name != m.name:
        text += f"\n\nSame as `{m.name}`."
    return text


@COMMON.method(
    "methodSignature",
    "read",
    "The method's signatures: lists of the return type followed by the parameter types.",
    returns="array",
)
def method_signature(ctx: Context, obj: Any, method_name: str) -> list[list[str]]:
    m = ctx.type.lookup(method_name.removeprefix("system."), ctx.cluster)
    if m is None:
        raise NotFound(f"Object {method_name} not found: {ctx.url_path} has no method of that name")
    return m.signature()


@COMMON.method("getPath", "read", "This object's absolute path and its name relative to its parent.", returns="array")
def get_path(ctx: Context, obj: Any) -> list[str]:
    return [ctx.url_path, ctx.path[-1]]


@COMMON.method(
    "getListValues",
    "read",
    "The values of a named list, such as Nodes, Databases, Volumes, Users or EXASolutionVersions.",
    returns="array",
)
def get_list_values(ctx: Context, obj: Any, list_name: str) -> list[Any]:
    return list_values(ctx.cluster, list_name)


@COMMON.method("objectRepresentation", "read", "This object as text: its kind and its path.")
def object_representation(ctx: Context, obj: Any) -> str:
    return f"<{ctx.type.name} at {ctx.url_path}>"
