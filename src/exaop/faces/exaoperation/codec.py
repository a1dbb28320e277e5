"""XML-RPC bodies in and out. Every request is parsed through defusedxml."""

from __future__ import annotations

import re
import xmlrpc.client
from typing import Any

from defusedxml.xmlrpc import DefusedExpatParser

MAX_BODY = 1 << 20  # 1 MiB: far above any EXAoperation call, far below harm


class BadRequest(ValueError):
    """The body is not an XML-RPC method call."""


# Monitoring scripts and the lifecycle tool poll with byte-identical bodies
# (getDatabaseState() on the same object, again and again). A body parsed once through
# defusedxml gives the same call every time, so small bodies whose arguments are plain
# immutable values are remembered; anything else is parsed every time.
_PARSED: dict[bytes, tuple[str, tuple[Any, ...]]] = {}
_PARSED_MAX = 1024
_PARSED_BODY_MAX = 2048
_IMMUTABLE = (str, int, float, bool, type(None))


def parse_call(body: bytes) -> tuple[str, tuple[Any, ...]]:
    hit = _PARSED.get(body)
    if hit is not None:
        return hit
    call = _parse(body)
    if len(body) <= _PARSED_BODY_MAX and all(type(p) in _IMMUTABLE for p in call[1]):
        if len(_PARSED) >= _PARSED_MAX:
            _PARSED.clear()
        _PARSED[body] = call
    return call


class _CallParser(DefusedExpatParser):
    """defusedxml's parser (no DTD, no entities, no external references) for one whole body:
    character data comes buffered (one callback per text, not one per line) and the body is
    parsed in one call."""

    def __init__(self, target: Any) -> None:
        super().__init__(target, forbid_dtd=True, forbid_entities=True, forbid_external=True)
        self._parser.buffer_text = True

    def parse_all(self, body: bytes) -> None:
        parser = self._parser
        del self._target, self._parser  # as close() does: no reference cycle left behind
        parser.Parse(body, True)


class _NoEvents:
    """The target of a parse that only checks the body (well-formed, nothing defusedxml forbids):
    expat calls no Python code for its elements and text."""

    start = end = data = None

    def xml(self, encoding: str | None, standalone: int | None) -> None:
        pass


_NO_EVENTS = _NoEvents()


def _parse(body: bytes) -> tuple[str, tuple[Any, ...]]:
    """(method, params): the usual small call read straight from the checked body, anything else
    through the stdlib's unmarshaller; the same result either way."""
    try:
        call = _simple(body) if len(body) <= _SIMPLE_MAX else None
    except UnicodeDecodeError:  # not UTF-8 after all: expat says so below, in its words
        call = None
    if call is not None:
        try:
            _CallParser(_NO_EVENTS).parse_all(body)  # every byte through defusedxml's parser
        except Exception:
            return _unmarshal(body)  # refused: the unmarshaller's parse says why, in its words
        return call
    return _unmarshal(body)


def _unmarshal(body: bytes) -> tuple[str, tuple[Any, ...]]:
    unmarshaller = xmlrpc.client.Unmarshaller(use_datetime=False, use_builtin_types=False)
    try:
        _CallParser(unmarshaller).parse_all(body)
        params = unmarshaller.close()
    except Exception as e:  # expat, defusedxml and unmarshaller errors alike
        raise BadRequest(f"the request body is not a valid XML-RPC call: {e}") from None
    method = unmarshaller.getmethodname()
    if not method:
        raise BadRequest("the request body has no methodName")
    return method, params


# The usual call is small and regular: a method name and a few strings, ints or booleans
# (what xmlrpc.client and every EXAoperation script send). Its Python objects are read here
# with two regular expressions instead of a Python callback per element and text, which inside
# the running server cost more than the rest of a call. Only the shapes below are read this
# way, and only once defusedxml's parser has accepted the whole body; the XML declaration,
# if any, says UTF-8; texts hold no reference (&), no CR (which XML turns into LF) and no
# markup. Anything else, even a space in the declaration, goes to the unmarshaller.
# tests/unit/test_codec_simple.py checks that both give the same on generated calls.
_SIMPLE_MAX = 4096
_WS = rb"[ \t\r\n]*"
_SIMPLE_CALL = re.compile(
    rb"(?:<\?xml version=(?:'1\.0'|\"1\.0\")(?: encoding=(?:'(?i:utf-8)'|\"(?i:utf-8)\"))?\?>)?" + _WS
    + rb"<methodCall>" + _WS + rb"<methodName>([A-Za-z0-9_.:]+)</methodName>" + _WS
    + rb"(?:<params>(.*)</params>" + _WS + rb"|<params/>" + _WS + rb")?</methodCall>" + _WS + rb"\Z",
    re.DOTALL,
)  # fmt: skip
_SIMPLE_PARAM = re.compile(
    _WS + rb"<param>" + _WS + rb"<value>(?:" + _WS
    + rb"(?:<string>([^<&\r]*)</string>|<(int|i4|i8)>([+-]?[0-9]{1,18})</\2>|<boolean>([01])</boolean>)"
    + _WS + rb"|([^<&\r]*))</value>" + _WS + rb"</param>" + _WS
)  # fmt: skip


def _simple(body: bytes) -> tuple[str, tuple[Any, ...]] | None:
    """The call, when the body has one of the regular shapes above; None otherwise."""
    m = _SIMPLE_CALL.match(body)
    if m is None:
        return None
    method = m.group(1).decode("ascii")
    inner = m.group(2)
    if not inner:
        return method, ()
    params: list[Any] = []
    pos, end = 0, len(inner)
    while pos < end:
        p = _SIMPLE_PARAM.match(inner, pos)
        if p is None:
            return None if inner[pos:].strip(b" \t\r\n") else (method, tuple(params))
        text, kind, number, boolean, untyped = p.groups()
        if text is not None:
            params.append(text.decode("utf-8"))
        elif kind is not None:
            params.append(int(number))
        elif boolean is not None:
            params.append(boolean == b"1")
        else:
            params.append(untyped.decode("utf-8"))
        pos = p.end()
    return method, tuple(params)


_HEAD = b"<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n"
_TAIL = b"</param>\n</params>\n</methodResponse>\n"


class Encoded(tuple[bytes, ...]):
    """A value already written as XML-RPC (``<value>...</value>\\n``, UTF-8), in parts spliced
    into the answer one after another as they are.

    For answers that are large and made of parts that never change, such as log entries:
    each part is written once and remembered, instead of being marshalled on every call, and
    the answer is joined once (a page of 5,000 entries is 2.8 MB: joined first into one value,
    it was copied twice more). Only as an item of a list that is the whole answer (what the
    log services return).
    """


def escape(text: str) -> str:
    """What xmlrpc.client escapes in strings, the same way."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def dump_result(value: Any) -> bytes:
    # Most calls answer one string, int or boolean: write those directly, byte for byte what
    # xmlrpc.client.dumps writes for them (same escaping, same errors); the rest goes there.
    kind = type(value)
    if kind is str:
        return b"".join((_HEAD, b"<value><string>", escape(value).encode("utf-8"), b"</string></value>\n", _TAIL))
    if kind is bool:
        return _BOOL[value]
    if kind is int and xmlrpc.client.MININT <= value <= xmlrpc.client.MAXINT:
        return b"".join((_HEAD, b"<value><int>", str(value).encode(), b"</int></value>\n", _TAIL))
    if kind is list and any(type(v) is Encoded for v in value):
        # as xmlrpc.client.dumps writes the list, with the written parts spliced in: one copy
        parts = [_HEAD, b"<value><array><data>\n"]
        for v in value:
            if type(v) is Encoded:
                parts += v
            else:
                parts.append(_dump_value(v))
        parts += (b"</data></array></value>\n", _TAIL)
        return b"".join(parts)
    return xmlrpc.client.dumps((value,), methodresponse=True, allow_none=True).encode("utf-8")


_PARAM_HEAD, _PARAM_TAIL = "<params>\n<param>\n", "</param>\n</params>\n"


def _dump_value(value: Any) -> bytes:
    """One ``<value>...</value>\\n`` as xmlrpc.client writes it."""
    text = xmlrpc.client.dumps((value,), allow_none=True)
    return text[len(_PARAM_HEAD) : -len(_PARAM_TAIL)].encode("utf-8")


_BOOL = {v: xmlrpc.client.dumps((v,), methodresponse=True, allow_none=True).encode("utf-8") for v in (False, True)}


#: characters XML 1.0 cannot carry at all, not even as references
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _shown(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def dump_fault(code: int, text: str) -> bytes:
    """A fault; what it repeats of the request (a URL path with %01 in it) is made XML-safe."""
    text = _NOT_XML.sub(_shown, text)
    return xmlrpc.client.dumps(xmlrpc.client.Fault(code, text), methodresponse=True).encode("utf-8")
