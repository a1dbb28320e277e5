"""Typed schemas and configurable objects: validation that names the field, nothing half
applied, passwords sealed and never shown, round trips through the store."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exaop.engine.drivers import SimulatedDriver
from exaop.engine.profile import default_profile
from exaop.engine.secrets import FernetBox
from exaop.model.cluster import Cluster
from exaop.model.configurable import Configurable
from exaop.model.errors import NotFound, UsageError
from exaop.model.network import VLAN, Route
from exaop.model.schema import MASK, Field, Schema

SCHEMA = Schema("gadget", [
    Field("title", "TextLine", "a name", required=True, max_len=10),
    Field("count", "Int", "how many", minimum=1, maximum=5, default=2),
    Field("flag", "Bool", "on or off"),
    Field("colour", "Choice", "a colour", choices=("red", "green")),
    Field("tags", "List", "labels", choices=lambda owner: ["a", "b", "c"]),
    Field("secret", "Password", "a password"),
    Field("serial", "TextLine", "made by the model", read_only=True),
    Field("slot", "Int", "fixed once added", add_only=True),
])  # fmt: skip


def cluster() -> Cluster:
    return Cluster.from_profile(default_profile(), 1_700_000_000.0, {"simulated": SimulatedDriver()}, FernetBox())


def refusal(values: object, creating: bool = True) -> str:
    with pytest.raises(UsageError) as e:
        SCHEMA.validate(values, None, creating=creating, seal=lambda s: "sealed:" + s)
    return e.value.reason


def test_a_new_object_gets_its_defaults_and_its_password_sealed() -> None:
    out = SCHEMA.validate({"title": "x", "secret": "pw"}, None, creating=True, seal=lambda s: "sealed:" + s)
    assert out == {"title": "x", "count": 2, "flag": False, "colour": "", "tags": [], "secret": "sealed:pw", "slot": 0}
    assert SCHEMA.public(out)["secret"] == MASK and SCHEMA.public({})["secret"] == ""
    assert SCHEMA.public(out)["serial"] == ""


def test_every_refusal_names_the_field_and_the_reason() -> None:
    assert refusal({}) == "missing required field(s) for a new gadget: title"
    assert refusal({"title": "x", "nope": 1}).startswith("unknown field(s) nope; gadget has: title, count")
    assert refusal({"title": 5}) == "title must be a string, got an int"
    assert refusal({"title": "x" * 11}) == "title is limited to 10 characters, got 11"
    assert refusal({"title": "a\nb"}) == "title must be a single line"
    assert refusal({"title": "x", "count": 9}) == "count must be at most 5, got 9"
    assert refusal({"title": "x", "count": True}) == "count must be a whole number, got a boolean"
    assert refusal({"title": "x", "flag": "yes"}) == "flag must be True or False, got a string"
    assert refusal({"title": "x", "colour": "blue"}) == "colour must be one of: red, green; got 'blue'"
    assert refusal({"title": "x", "tags": ["a", "z"]}) == "tags: unknown value(s) z; allowed: a, b, c"
    assert refusal({"title": "x", "tags": ["a", "a"]}) == "tags names a value twice"
    assert refusal({"serial": "1"}, creating=False) == "serial of a gadget cannot be changed (read-only)"
    assert refusal({"slot": 1}, creating=False) == "slot of a gadget cannot be changed (set when it is added)"
    assert refusal(["title"]) == "adding a gadget takes a dictionary of fields, got a list"
    assert SCHEMA.validate({"count": "3"}, None, creating=False) == {"count": 3}  # numbers sent as text


@given(st.dictionaries(st.sampled_from(["title", "count", "flag", "colour", "tags", "other"]),
                       st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=12),
                                 st.lists(st.text(max_size=3), max_size=3))))  # fmt: skip
def test_validation_either_answers_values_of_the_declared_types_or_refuses(values: dict) -> None:  # type: ignore[type-arg]
    try:
        out = SCHEMA.validate(values, None, creating=False)
    except UsageError as e:
        assert e.reason
        return
    types = {"title": str, "count": int, "flag": bool, "colour": str, "tags": list}
    assert set(out) == set(values)
    assert all(isinstance(v, types[k]) for k, v in out.items())


def test_configurable_objects_are_added_edited_deleted_with_their_rules() -> None:
    c = cluster()
    v1 = c.add_object(VLAN, {"vlan_description": "backup", "mtu": 9000})
    assert (v1.name, v1.values["mtu"]) == ("vlan1", "9000")
    with pytest.raises(UsageError, match="already used by vlan1"):
        c.add_object(VLAN, {"vlan_description": "backup", "mtu": "1500"})
    assert [o.name for o in c.objects("vlan")] == ["vlan1"]  # a refused add adds nothing
    c.add_object(VLAN, {"vlan_description": "bond", "mtu": "1500", "bonding_network": "vlan1"})
    with pytest.raises(UsageError, match="already used by vlan2"):
        v1.edit({"vlan_description": "bond", "mtu": "1500"})
    assert v1.values["mtu"] == "9000"  # a refused edit changes nothing
    assert v1.edit({"mtu": "1500", "vlan_description": "backup"}) == ["mtu"]
    with pytest.raises(UsageError, match="private network vlan1 is still used by private network vlan2"):
        c.delete_child("vlan1")
    c.delete_child("vlan2")
    c.delete_child("vlan1")
    with pytest.raises(NotFound):
        c.delete_child("vlan1")
    assert c.add_object(VLAN, {"vlan_description": "again", "mtu": "1500"}).name == "vlan1"  # the lowest free
    with pytest.raises(UsageError, match="route_destination '10.0.0.0/8' is not an address"):
        c.add_object(Route, {"route_type": "Host", "route_destination": "10.0.0.0/8", "route_gateway": "10.1.1.1"})


class Card(Configurable):
    kind = "test_card"
    TITLE = "test card"
    PREFIX = "card"
    SCHEMA = Schema("test card", [Field("user", "TextLine", "who"), Field("password", "Password", "how")])


def test_configurable_objects_survive_the_store_with_passwords_sealed() -> None:
    c = cluster()
    card = c.add_object(Card, {"user": "root", "password": "s3cret!"})
    assert card.values["password"] != "s3cret!" and "s3cret" not in str(card.record())
    assert card.properties() == {"user": "root", "password": MASK}
    assert card.secret("password") == "s3cret!"
    rebuilt = Cluster.from_records(c.profile, c.now, [(k, key, rec) for k, key, rec in c.take_changes()[0]],
                                   c.drivers, c.secrets)  # fmt: skip
    again = rebuilt.object_at("card1")
    assert again is not None and again.secret("password") == "s3cret!"
    with pytest.raises(UsageError, match="without a secret box"):
        Cluster.from_profile(c.profile, c.now, c.drivers).add_object(Card, {"password": "x"})
