"""File contents sent over XML-RPC: a ``<base64>`` value, or base64 text in a string."""

from __future__ import annotations

import base64
import binascii
from typing import Any
from xmlrpc.client import Binary

from exaop.model.errors import UsageError


def file_content(value: Any, what: str) -> bytes:
    """The bytes of an uploaded file; UsageError naming ``what`` when it is neither form."""
    if isinstance(value, Binary):
        return bytes(value.data)
    if isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            pass
    raise UsageError(f"{what} must be the file's content: an XML-RPC base64 value, or base64 text")
