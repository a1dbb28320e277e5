"""XML-RPC bodies in and out. Every request is parsed through defusedxml."""

from __future__ import annotations

import xmlrpc.client
from typing import Any

from defusedxml.xmlrpc import DefusedExpatParser

MAX_BODY = 1 << 20  # 1 MiB: far above any EXAoperation call, far below harm


class BadRequest(ValueError):
    """The body is not an XML-RPC method call."""


def parse_call(body: bytes) -> tuple[str, tuple[Any, ...]]:
    unmarshaller = xmlrpc.client.Unmarshaller(use_datetime=False, use_builtin_types=False)
    parser = DefusedExpatParser(unmarshaller, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    try:
        parser.feed(body)
        parser.close()
        params = unmarshaller.close()
    except Exception as e:  # expat, defusedxml and unmarshaller errors alike
        raise BadRequest(f"the request body is not a valid XML-RPC call: {e}") from None
    method = unmarshaller.getmethodname()
    if not method:
        raise BadRequest("the request body has no methodName")
    return method, params


def dump_result(value: Any) -> bytes:
    return xmlrpc.client.dumps((value,), methodresponse=True, allow_none=True).encode("utf-8")


def dump_fault(code: int, text: str) -> bytes:
    return xmlrpc.client.dumps(xmlrpc.client.Fault(code, text), methodresponse=True).encode("utf-8")
