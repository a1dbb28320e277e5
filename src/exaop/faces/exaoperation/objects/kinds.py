"""The wire side of configurable kinds (model/configurable.py), made from their schemas.

A kind is published with :func:`configurable_type` (its object type: ``getProperties``, its
``editX`` method, its children) and, on the object it is added to, :func:`add_method`
(``addX``) and :func:`delete_sub_object` (``deleteSubObject``). Their help texts list the
schema's fields, so the help is always what the code accepts. Behaviour beyond that is
ordinary methods on the returned object type.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from exaop.faces.exaoperation.dispatch import Context
from exaop.faces.exaoperation.registry import ObjectType
from exaop.model.configurable import Configurable
from exaop.model.errors import NotFound
from exaop.model.schema import Schema

#: the object type of every configurable kind, by kind: how children are found on the wire
TYPES: dict[str, ObjectType] = {}
OK = "OK"


def _declared_in(fn: Callable[..., Any], depth: int = 2) -> Callable[..., Any]:
    """Name the module that declared the kind as the handler's home (tools/api_coverage.py
    shows it), not this one that makes the handler."""
    fn.__module__ = sys._getframe(depth).f_globals.get("__name__", fn.__module__)
    return fn


def fields_help(schema: Schema, *, creating: bool) -> str:
    lines = []
    for name, type_, required, doc in schema.describe(creating=creating):
        lines.append(f"  {name} ({type_}{', required' if required else ''}): {doc}")
    return "\n".join(lines)


def child_of(ctx: Context, obj: Any, name: str) -> tuple[ObjectType, Any] | None:
    """The configurable object called ``name`` below ``obj`` (a configurable object)."""
    child = ctx.cluster.object_at(name, obj.key)
    return (TYPES[child.kind], child) if child is not None else None


def configurable_type(
    cls: type[Configurable], name: str, edit: str | None, *, read_help: str = "", permission: str = "operate"
) -> ObjectType:
    """The object type of ``cls``: getProperties, the edit method ``edit`` (None: none), and
    the configurable objects below it as children."""
    t = ObjectType(name)

    def get_properties(ctx: Context, obj: Configurable) -> dict[str, Any]:
        return obj.properties()

    def edit_fn(ctx: Context, obj: Configurable, values: dict) -> list[str]:
        return obj.edit(values)

    t.method("getProperties", "read", read_help or f"This {cls.TITLE}'s settings as a dictionary; passwords "
             "show as ******** when set.", returns="struct")(_declared_in(get_properties))  # fmt: skip
    if edit:
        t.method(edit, permission, f"Change this {cls.TITLE}'s settings: a dictionary with any of these fields, "
                 f"checked together before anything changes. Returns the names of the fields that changed.\n\n"
                 + fields_help(cls.SCHEMA, creating=False), returns="array")(_declared_in(edit_fn))  # fmt: skip
    t.child = child_of
    t.children = lambda ctx, obj: [o.name for o in ctx.cluster.children_of(obj)]
    TYPES[cls.kind] = t
    return t


def add_method(
    on: ObjectType,
    name: str,
    cls: type[Configurable],
    *,
    parent: Callable[[Any], str] = lambda obj: "",
    returns: Callable[[Configurable], Any] = lambda o: o.name,
    intro: str = "",
    permission: str = "operate",
) -> None:
    """``name`` (addX) on ``on``: a new ``cls`` object from a dictionary of its fields, below
    ``parent(obj)`` ('' the cluster); answers ``returns(new object)``, by default its name."""

    def add(ctx: Context, obj: Any, values: dict) -> Any:
        return returns(ctx.cluster.add_object(cls, values, parent(obj)))

    text = intro or f"Add a {cls.TITLE}. Returns the new object's name."
    on.method(name, permission, f"{text}\n\nFields (a dictionary):\n{fields_help(cls.SCHEMA, creating=True)}")(
        _declared_in(add)
    )


def delete_sub_object(
    on: ObjectType,
    *,
    parent: Callable[[Any], str] = lambda obj: "",
    other: Callable[[Context, Any, str], bool] | None = None,
    what: str = "",
    permission: str = "operate",
) -> None:
    """``deleteSubObject(name)`` on ``on``: delete the object called ``name`` below it, and
    everything below that. ``other(ctx, obj, name)`` deletes what is not a configurable
    object (a database, a log service...) and says whether it did."""

    def delete(ctx: Context, obj: Any, name: str) -> str:
        child = ctx.cluster.object_at(name, parent(obj))
        if child is not None:
            ctx.cluster.delete_object(child)
            return OK
        if other is not None and other(ctx, obj, name):
            return OK
        raise NotFound(f"Object {name} not found in {ctx.url_path}")

    on.method("deleteSubObject", permission, "Delete the object of that name below this one, with its "
              "settings and whatever is below it" + (f" ({what})" if what else "") + ". Refused while "
              "something still uses it.")(_declared_in(delete))  # fmt: skip


def description_lookups(on: ObjectType, cls: Any, by_description: str, description_of: str, what: str) -> None:
    """The two lookups of a kind whose objects carry a unique description (model/network.py's
    _Network): ``by_description`` (description -> object name) and ``description_of`` (object
    name -> description), each '' when there is none."""

    def name_of(ctx: Context, c: Any, description: str) -> str:
        return str(cls.by_description(c, description))

    def text_of(ctx: Context, c: Any, name: str) -> str:
        return str(cls.description_of(c, name))

    on.method(by_description, "read", f"The object name of the {what} with this description ('' when there is "
              "none).")(_declared_in(name_of))  # fmt: skip
    on.method(description_of, "read", f"The description of the {what} with this object name ('' when there is "
              "none).")(_declared_in(text_of))  # fmt: skip
