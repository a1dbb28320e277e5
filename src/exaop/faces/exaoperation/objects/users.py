"""The users folder (/cluster1/users); users themselves are managed on the cluster object."""

from __future__ import annotations

from typing import Any

from exaop.faces.exaoperation.dispatch import Context
from exaop.faces.exaoperation.registry import ObjectType

USERS = ObjectType("UserFolder")


@USERS.method("getProperties", "read", "The users folder has no settings.", returns="struct")
def get_properties(ctx: Context, obj: Any) -> dict[str, Any]:
    return {}
