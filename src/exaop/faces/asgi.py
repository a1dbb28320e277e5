"""What the XML-RPC faces share at the HTTP level: answers, the request body, who asks.

Both EXAoperation's face and ConfD's take XML-RPC POSTs with basic auth over the same users
(faces/auth.py); these helpers keep the two faces' HTTP handling one code.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from exaop.faces.exaoperation.codec import MAX_BODY

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
XML = (b"content-type", b"text/xml; charset=utf-8")


class TooLarge(Exception):
    """The request body is over MAX_BODY."""


async def respond(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*headers, (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def text(send: Send, status: int, words: str, extra: list[tuple[bytes, bytes]] | None = None) -> None:
    await respond(
        send, status, words.encode() + b"\n", [(b"content-type", b"text/plain; charset=utf-8"), *(extra or [])]
    )


def client(scope: Scope) -> str:
    return peer_address(scope.get("client"))


def peer_address(peer: tuple[str, int] | None) -> str:
    """The client's address as logged ("-" when unknown)."""
    return str(peer[0]) if peer else "-"


def headers_of(scope: Scope) -> tuple[bytes | None, bytes | None]:
    """The Authorization and Content-Length headers (a repeated header: the last one counts)."""
    authorization = length = None
    for name, value in scope["headers"]:
        if name == b"authorization":
            authorization = value
        elif name == b"content-length":
            length = value
    return authorization, length


async def read_body(receive: Receive, length_text: bytes | None) -> bytes | None:
    """The whole body (None: the client went away); :class:`TooLarge` past MAX_BODY."""
    try:
        length = int(length_text or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY:
        raise TooLarge
    message = await receive()
    if message["type"] == "http.disconnect":
        return None
    body: bytes = message.get("body", b"")
    if not message.get("more_body", False) and len(body) <= MAX_BODY:  # the usual call comes in one piece
        return body
    chunks = [body]
    size = len(body)
    more = message.get("more_body", False)
    while size <= MAX_BODY and more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        more = message.get("more_body", False)
    if size > MAX_BODY:
        raise TooLarge
    return b"".join(chunks)


async def body_or_413(receive: Receive, length_text: bytes | None, send: Send,
                      refused: Callable[[int], None] | None = None) -> bytes | None:  # fmt: skip
    """The request body; None once the client went away or was answered 413 (``refused(413)``
    counts it)."""
    try:
        return await read_body(receive, length_text)
    except TooLarge:
        if refused is not None:
            refused(413)
        await text(send, 413, f"request body over {MAX_BODY} bytes")
        return None
