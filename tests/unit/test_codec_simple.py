"""The codec reads the usual small call with two regular expressions once defusedxml's parser has
accepted the body (codec._simple), and anything else with the stdlib's unmarshaller. Both must
give the same: the same method and the same arguments of the same types, or the same refusal.
Calls are generated as xmlrpc.client writes them, then spelled differently (whitespace, the
XML declaration, i4/i8, untyped values) and mutated byte by byte."""

from __future__ import annotations

import xmlrpc.client
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from exaop.faces.exaoperation import codec

SCALARS = st.one_of(
    st.text(max_size=12),
    st.text(alphabet="ab &<>\r\n\t]\"'", max_size=8),
    st.integers(min_value=xmlrpc.client.MININT, max_value=xmlrpc.client.MAXINT),
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.lists(st.integers(min_value=0, max_value=9), max_size=2),
    st.none(),
)
NAMES = st.one_of(st.from_regex(r"[A-Za-z][A-Za-z0-9_.:]{0,20}", fullmatch=True), st.text(max_size=8))
SPACES = st.sampled_from(["", " ", "\n", "\r\n", "\t", "  \n ", "\r"])


def typed(value: Any) -> Any:
    """A value with the types of everything in it (True and 1 are equal, but not the same argument)."""
    if isinstance(value, list | tuple):
        return [typed(v) for v in value]
    if isinstance(value, dict):
        return {k: typed(v) for k, v in value.items()}
    return (type(value).__name__, value)


def outcome(parse: Any, body: bytes) -> Any:
    try:
        method, params = parse(body)
    except codec.BadRequest as e:
        return ("refused", str(e))
    return ("call", method, typed(params))


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    params = tuple(draw(st.lists(SCALARS, max_size=4)))
    try:
        text = xmlrpc.client.dumps(params, draw(NAMES), allow_none=True)
    except (OverflowError, TypeError, ValueError):
        text = xmlrpc.client.dumps((), "getNodeList")
    # spelled as other clients write it
    if draw(st.booleans()):
        text = text.replace("\n", draw(SPACES))
    decl = draw(st.sampled_from([
        "<?xml version='1.0'?>", '<?xml version="1.0"?>', "", '<?xml version="1.0" encoding="UTF-8"?>',
        "<?xml version='1.0' encoding='latin-1'?>", "<?xml version='1.0' ?>", " <?xml version='1.0'?>",
    ]))  # fmt: skip
    text = text.replace("<?xml version='1.0'?>", decl, 1)
    for old, new in ((b"<int>", b"<i4>"), (b"</int>", b"</i4>")):
        if draw(st.booleans()):
            text = text.replace(old.decode(), new.decode())
    if draw(st.booleans()):
        text = text.replace("<value><string>", "<value>" + draw(SPACES) + "<string>")
    if draw(st.booleans()):
        text = text.replace("<value><string>", "<value>").replace("</string></value>", "</value>")
    if draw(st.booleans()):
        text = text.replace("<params>\n</params>", "<params/>")
    body = text.encode("utf-8", "surrogatepass") if draw(st.booleans()) else text.encode("utf-8", "replace")
    for _ in range(draw(st.integers(min_value=0, max_value=3))):  # and broken now and then
        at = draw(st.integers(min_value=0, max_value=len(body)))
        cut = draw(st.integers(min_value=0, max_value=2))
        body = (
            body[:at]
            + draw(st.sampled_from([b"", b"<", b">", b"/", b"&", b"\r", b" ", b"a", b'"', b"\xff"]))
            + body[at + cut :]
        )
    return body


@settings(max_examples=3000)
@given(bodies())
def test_the_usual_call_reads_the_same_either_way(body: bytes) -> None:
    assert outcome(codec._parse, body) == outcome(codec._unmarshal, body)


def test_the_usual_shapes_are_read_without_the_unmarshaller() -> None:
    for params in [(), ("a",), ("", "é ü", 7, -3, True, False), ("x" * 100,)]:
        body = xmlrpc.client.dumps(params, "logEntriesTagged").encode()
        assert codec._simple(body) == ("logEntriesTagged", params)
    spaced = b"<?xml version='1.0'?>\n<methodCall>\n \n\t<methodName>getDatabaseState</methodName>\n</methodCall>\n"
    assert codec._simple(spaced) == ("getDatabaseState", ())
    # what it leaves to the unmarshaller
    for params in [("a&b",), ("a\rb",), (1.5,), ([1],), ({"a": 1},), (None,), ("<",)]:
        body = xmlrpc.client.dumps(params, "m", allow_none=True).encode()
        assert codec._simple(body) is None, params
    latin1 = ("<?xml version='1.0' encoding='latin-1'?><methodCall><methodName>m</methodName><params><param>"
              "<value><string>\u00e9</string></value></param></params></methodCall>").encode()  # fmt: skip
    assert codec._simple(latin1) is None
    assert outcome(codec._parse, latin1) == ("call", "m", [("str", "\u00c3\u00a9")])  # as latin-1 reads it


def test_a_body_defusedxml_refuses_is_refused_whatever_its_shape() -> None:
    entity = (b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'b'>]><methodCall><methodName>m</methodName>"
              b"</methodCall>")  # fmt: skip
    assert outcome(codec._parse, entity)[0] == "refused"
    bad = b"<methodCall><methodName>m</methodName><params><param><value>\x01</value></param></params></methodCall>"
    assert outcome(codec._parse, bad) == outcome(codec._unmarshal, bad) and outcome(codec._parse, bad)[0] == "refused"
