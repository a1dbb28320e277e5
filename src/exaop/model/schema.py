"""Typed schemas: one declaration per object kind, from which adding, editing, reading the
properties and the help of those methods all follow.

A :class:`Field` has EXAoperation's name and type (``TextLine``, ``Text``, ``Int``, ``Bool``,
``List``, ``Choice``, ``Password``, ``FixedDict``), whether it is required when the object is
added, a default, whether it is read-only, and for ``Choice`` (and the items of a ``List``)
the allowed values — fixed, or computed from the cluster (the nodes, the disks...). A
:class:`Schema` checks a dictionary against its fields and answers with the values to store,
or a :class:`UsageError` that names the field and says what is wrong.

Passwords never come back: :meth:`Schema.validate` hands them to a sealing function (the
model keeps them encrypted, see ``model/secrets.py``) and :meth:`Schema.public` masks them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from exaop.model.errors import UsageError

TYPES = ("TextLine", "Text", "Int", "Bool", "List", "Choice", "Password", "FixedDict", "Float")
MASK = "********"  # what a getter shows of a password that is set
TEXTLINE_MAX = 1024
TEXT_MAX = 64 * 1024
LIST_MAX = 10_000

#: allowed values: fixed, or computed from whatever owns the object (the cluster, a node...)
Choices = tuple[Any, ...] | Callable[[Any], Iterable[Any]]


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    doc: str  # our own words: what the field means here
    required: bool = False  # must be given when the object is added
    default: Any = None  # stored when not given on add (None: the type's empty value)
    read_only: bool = False  # shown by getProperties, set by the model only
    add_only: bool = False  # given when the object is added, never changed afterwards
    choices: Choices | None = None  # Choice: the value; List: each item
    items: str = "TextLine"  # the type of a List's items ("TextLine" or "Int")
    minimum: float | None = None  # Int, Float
    maximum: float | None = None
    max_len: int | None = None  # TextLine, Text, List
    check: Callable[[Any, Any], None] | None = field(default=None, compare=False)  # (owner, value): raise UsageError

    def __post_init__(self) -> None:
        assert self.type in TYPES, self.type
        assert not (self.required and self.read_only), self.name

    def empty(self) -> Any:
        if self.default is not None:
            return list(self.default) if isinstance(self.default, list) else self.default
        return {"Int": 0, "Float": 0.0, "Bool": False, "List": [], "FixedDict": {}}.get(self.type, "")

    def allowed(self, owner: Any) -> list[Any] | None:
        if self.choices is None:
            return None
        return list(self.choices(owner) if callable(self.choices) else self.choices)

    def convert(self, owner: Any, value: Any) -> Any:
        """The value to store, or UsageError naming this field."""
        n, t = self.name, self.type
        if t in ("TextLine", "Text", "Password"):
            if not isinstance(value, str):
                raise UsageError(f"{n} must be a string, got {_kind(value)}")
            limit = self.max_len or (TEXT_MAX if t == "Text" else TEXTLINE_MAX)
            if len(value) > limit:
                raise UsageError(f"{n} is limited to {limit} characters, got {len(value)}")
            if t == "TextLine" and ("\n" in value or "\r" in value):
                raise UsageError(f"{n} must be a single line")
        elif t == "Int":
            if isinstance(value, bool) or not isinstance(value, int):
                if isinstance(value, str) and value.strip().lstrip("-").isdigit():
                    value = int(value)  # EXAoperation's forms send numbers as text
                else:
                    raise UsageError(f"{n} must be a whole number, got {_kind(value)}")
            self._range(value)
        elif t == "Float":
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise UsageError(f"{n} must be a number, got {_kind(value)}")
            value = float(value)
            self._range(value)
        elif t == "Bool":
            if not isinstance(value, bool):
                raise UsageError(f"{n} must be True or False, got {_kind(value)}")
        elif t == "Choice":
            allowed = self.allowed(owner)
            if allowed is not None and value not in allowed and isinstance(value, int) and str(value) in allowed:
                value = str(value)  # a number for a choice of numbers written as text (an MTU)
            if allowed is not None and value not in allowed:
                shown = ", ".join(map(str, allowed)) or "none at the moment"
                raise UsageError(f"{n} must be one of: {shown}; got {value!r}")
        elif t == "List":
            if not isinstance(value, list | tuple):
                raise UsageError(f"{n} must be a list, got {_kind(value)}")
            value = list(value)
            limit = self.max_len or LIST_MAX
            if len(value) > limit:
                raise UsageError(f"{n} holds at most {limit} items, got {len(value)}")
            item_type = int if self.items == "Int" else str
            bad = [v for v in value if isinstance(v, bool) or not isinstance(v, item_type)]
            if bad:
                raise UsageError(f"{n} must be a list of {'whole numbers' if item_type is int else 'strings'}")
            allowed = self.allowed(owner)
            if allowed is not None:
                unknown = [v for v in value if v not in allowed]
                if unknown:
                    raise UsageError(
                        f"{n}: unknown value(s) {', '.join(map(str, unknown))}; "
                        f"allowed: {', '.join(map(str, allowed)) or 'none at the moment'}"
                    )
            if len(set(value)) != len(value):
                raise UsageError(f"{n} names a value twice")
        elif t == "FixedDict":
            if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
                raise UsageError(f"{n} must be a dictionary with string keys, got {_kind(value)}")
            value = dict(value)
        if self.check is not None:
            self.check(owner, value)
        return value

    def _range(self, value: float) -> None:
        if self.minimum is not None and value < self.minimum:
            raise UsageError(f"{self.name} must be at least {_num(self.minimum)}, got {_num(value)}")
        if self.maximum is not None and value > self.maximum:
            raise UsageError(f"{self.name} must be at most {_num(self.maximum)}, got {_num(value)}")


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _kind(value: Any) -> str:
    names = {bool: "a boolean", int: "an int", float: "a number", str: "a string", list: "a list",
             tuple: "a list", dict: "a dictionary", type(None): "nothing"}  # fmt: skip
    return names.get(type(value), type(value).__name__)


class Schema:
    """The fields of one object kind, in EXAoperation's names."""

    def __init__(self, kind: str, fields: Iterable[Field]) -> None:
        self.kind = kind
        self.fields: dict[str, Field] = {}
        for f in fields:
            assert f.name not in self.fields, f"{kind}.{f.name} declared twice"
            self.fields[f.name] = f

    def __iter__(self) -> Any:
        return iter(self.fields.values())

    def names(self, *, writable: bool = False, creating: bool = False) -> list[str]:
        out = []
        for f in self:
            if writable and (f.read_only or (f.add_only and not creating)):
                continue
            out.append(f.name)
        return out

    def validate(
        self,
        values: Any,
        owner: Any,
        *,
        creating: bool,
        seal: Callable[[str], str] | None = None,
    ) -> dict[str, Any]:
        """Check ``values`` (a dict from the wire) and return what to store.

        On add (``creating``), required fields must be there and the others get their
        defaults; on edit only the given fields are returned. Passwords are passed through
        ``seal`` (empty stays empty: no password). Nothing is changed here: a refusal leaves
        the object as it was.
        """
        if not isinstance(values, Mapping):
            verb = "adding" if creating else "editing"
            raise UsageError(f"{verb} a {self.kind} takes a dictionary of fields, got {_kind(values)}")
        writable = self.names(writable=True, creating=creating)
        unknown = sorted(str(k) for k in values if k not in self.fields)
        if unknown:
            raise UsageError(f"unknown field(s) {', '.join(unknown)}; {self.kind} has: {', '.join(writable)}")
        fixed = sorted(k for k in values if k not in writable)
        if fixed:
            why = "read-only" if all(self.fields[k].read_only for k in fixed) else "set when it is added"
            raise UsageError(f"{', '.join(fixed)} of a {self.kind} cannot be changed ({why})")
        out: dict[str, Any] = {}
        for name, value in values.items():
            f = self.fields[name]
            value = f.convert(owner, value)
            if f.type == "Password" and value and seal is not None:
                value = seal(value)
            out[name] = value
        if creating:
            missing = [f.name for f in self if f.required and f.name not in values]
            if missing:
                raise UsageError(f"missing required field(s) for a new {self.kind}: {', '.join(missing)}")
            for f in self:
                if f.name not in out and not f.read_only:
                    out[f.name] = f.empty()
        return out

    def public(self, stored: Mapping[str, Any]) -> dict[str, Any]:
        """The properties as a getter shows them: every field, passwords masked."""
        out = {}
        for f in self:
            value = stored.get(f.name, f.empty())
            if f.type == "Password":
                value = MASK if value else ""
            elif isinstance(value, list | dict):
                value = type(value)(value)
            out[f.name] = value
        return out

    def describe(self, *, creating: bool) -> list[tuple[str, str, bool, str]]:
        """(name, type, required, doc) of the fields that can be given, for help texts."""
        return [
            (f.name, f.type, f.required and creating, f.doc)
            for f in self
            if not f.read_only and (creating or not f.add_only)
        ]
