"""EXAoperation users, their password hashes and their roles on objects."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from exaop.model.base import Entity, check_name
from exaop.model.errors import Forbidden, NotFound, UsageError

if TYPE_CHECKING:
    from exaop.model.cluster import Cluster

ROLES = ("User", "Supervisor", "Administrator", "Master")
DEFAULT_ROLE = "User"
# what each permission class needs, lowest role first
PERMISSIONS = {
    "read": ("User", "Supervisor", "Administrator", "Master"),
    "operate": ("Administrator", "Master"),
    "manage": ("Master",),
}
_hasher = PasswordHasher()


USER_FIELDS = ("user_login", "password", "user_title", "user_description", "ldapServer", "ldapFullDN")


def check_password_text(password: Any) -> None:
    if not isinstance(password, str) or len(password) < 4:
        raise UsageError("password must be a string of at least 4 characters")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(password_hash: str, password: str) -> bool:
    """Costly on purpose (argon2); callers remember successful checks."""
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


class User(Entity):
    kind = "user"
    PROFILE_FIELDS = ("user_login", "user_title", "user_description", "ldapServer", "ldapFullDN")

    def __init__(self, cluster: Cluster, uid: int, login: str) -> None:
        super().__init__(cluster)
        self.uid = uid
        self.login = login
        self.title = ""
        self.description = ""
        self.ldap_server = ""
        self.ldap_full_dn = ""
        self.password_hash = ""
        self.password_version = 0
        self.grants: dict[str, str] = {}  # object name -> role

    @property
    def key(self) -> str:
        return str(self.uid)

    def record(self) -> dict[str, Any]:
        return {
            "login": self.login,
            "title": self.title,
            "description": self.description,
            "ldap_server": self.ldap_server,
            "ldap_full_dn": self.ldap_full_dn,
            "password_hash": self.password_hash,
            "password_version": self.password_version,
            "grants": self.grants,
        }

    @classmethod
    def from_record(cls, cluster: Cluster, key: str, rec: dict[str, Any]) -> User:
        u = cls(cluster, int(key), rec["login"])
        for f in ("title", "description", "ldap_server", "ldap_full_dn", "password_hash", "password_version"):
            setattr(u, f, rec.get(f, getattr(u, f)))
        u.grants = dict(rec.get("grants", {}))
        return u

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.uid,
            "user_login": self.login,
            "user_title": self.title,
            "user_description": self.description,
            "ldapServer": self.ldap_server,
            "ldapFullDN": self.ldap_full_dn,
        }

    def set_password(self, password: Any, hashed: str | None = None) -> None:
        """``hashed``: ``hash_password(password)`` computed by the caller (off the event loop)."""
        check_password_text(password)
        self.password_hash = hashed or hash_password(password)
        self.password_version += 1
        self.changed()

    def verify(self, password: str) -> bool:
        return check_password(self.password_hash, password)


class Users:
    """The user directory of the cluster."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.by_id: dict[int, User] = {}
        self.by_login: dict[str, User] = {}

    def _index(self, user: User) -> None:
        self.by_id[user.uid] = user
        self.by_login[user.login] = user

    def load(self, user: User) -> None:
        self._index(user)

    def get(self, ident: Any) -> User:
        """A user by id (int or digits) or, failing that, by login."""
        if isinstance(ident, bool):
            raise UsageError("user id must be a number or a login")
        if isinstance(ident, int) or (isinstance(ident, str) and ident.isdigit()):
            user = self.by_id.get(int(ident))
            if user:
                return user
        if isinstance(ident, str) and ident in self.by_login:
            return self.by_login[ident]
        raise NotFound(f"Object {ident} (user) not found")

    def by_name(self, login: Any) -> User:
        if not isinstance(login, str) or login not in self.by_login:
            raise NotFound(f"Object {login} (user) not found")
        return self.by_login[login]

    def _check_fields(self, values: Any, not_a_dict: str) -> None:
        """Every check before any change: a refused call leaves the users as they were."""
        if not isinstance(values, dict):
            raise UsageError(not_a_dict)
        unknown = set(values) - set(USER_FIELDS)
        if unknown:
            raise UsageError(f"unknown field(s) {', '.join(sorted(unknown))}; allowed: {', '.join(USER_FIELDS)}")
        for f in USER_FIELDS[2:]:
            if f in values and not isinstance(values[f], str):
                raise UsageError(f"{f} must be a string")
        if "password" in values:
            check_password_text(values["password"])

    def add(self, values: Any, hashed: str | None = None, uid: int | None = None) -> User:
        """A new user; ``uid`` its id (default: the next free one)."""
        self._check_fields(values, "addUser takes a dictionary with user_login and password")
        login = check_name("user_login", values.get("user_login"), max_len=64)
        if login in self.by_login:
            raise UsageError(f"a user with login {login!r} already exists")
        if "password" not in values:
            raise UsageError("password is required (also for LDAP users)")
        if uid is None:
            uid = max(self.by_id, default=0) + 1
        elif isinstance(uid, bool) or not isinstance(uid, int) or uid < 1:
            raise UsageError(f"a user id is a whole number from 1, got {uid!r}")
        elif uid in self.by_id:
            raise UsageError(f"user id {uid} is taken (by {self.by_id[uid].login})")
        user = User(self.cluster, uid, login)
        self._apply(user, values)
        user.set_password(values["password"], hashed)
        self._index(user)
        user.changed()
        self.cluster.log("Authentication", "", "Notice", f"user {login} added")
        return user

    def _apply(self, user: User, values: dict[str, Any]) -> None:
        for src, attr in (
            ("user_title", "title"),
            ("user_description", "description"),
            ("ldapServer", "ldap_server"),
            ("ldapFullDN", "ldap_full_dn"),
        ):
            if src in values:
                setattr(user, attr, values[src])

    def edit(self, login: Any, values: Any, hashed: str | None = None) -> list[str]:
        user = self.by_name(login)
        self._check_fields(values, "editUser takes the login and a dictionary of fields")
        changed = []
        renamed = "user_login" in values and values["user_login"] != user.login
        if renamed:
            new = check_name("user_login", values["user_login"], max_len=64)
            if new in self.by_login:
                raise UsageError(f"a user with login {new!r} already exists")
        if renamed:
            del self.by_login[user.login]
            user.login = new
            self.by_login[new] = user
            changed.append("user_login")
        before = user.describe()
        self._apply(user, values)
        changed += [k for k, v in user.describe().items() if before[k] != v and k != "user_login"]
        if "password" in values:
            user.set_password(values["password"], hashed)
            changed.append("password")
        user.changed()
        return changed

    def reset_password(self, login: str, password: Any, how: str) -> User:
        """An administrator's reset outside EXAoperation (``how`` says by what); logged."""
        user = self.by_name(login)
        user.set_password(password)
        self.cluster.log("Authentication", "", "Warning", f"password of user {login} was reset {how}")
        return user

    def delete(self, user: User) -> None:
        if self._is_last_master(user):
            raise UsageError(f"{user.login} is the last user with the Master role on the cluster")
        del self.by_id[user.uid]
        del self.by_login[user.login]
        self.cluster.forget(user)
        self.cluster.log("Authentication", "", "Notice", f"user {user.login} deleted")

    def _is_last_master(self, user: User) -> bool:
        root = self.cluster.name
        masters = [u for u in self.by_id.values() if u.grants.get(root) == "Master"]
        return masters == [user]

    # -- roles -------------------------------------------------------------------------

    def role_on(self, user: User, path: list[str]) -> tuple[str, bool]:
        """The user's role on the object at ``path`` (names from the cluster down).

        Returns the role and whether it is derived from a parent (True) or granted on
        the object itself (False). A user with no grant anywhere has the default role.
        """
        for depth in range(len(path), 0, -1):
            role = user.grants.get(path[depth - 1])
            if role:
                return role, depth != len(path)
        return DEFAULT_ROLE, True

    def authorize(self, user: User, path: list[str], permission: str, what: str) -> None:
        role, _ = self.role_on(user, path)
        if role not in PERMISSIONS[permission]:
            need = PERMISSIONS[permission][0]
            raise Forbidden(
                f"user {user.login} has role {role} on {'/'.join(path)}; {what} needs role {need} or higher"
            )

    def grant(self, path: list[str], user_ident: Any, role: Any) -> None:
        user = self.get(user_ident)
        if role not in ROLES:
            raise UsageError(f"role must be one of {', '.join(ROLES)}")
        obj = path[-1]
        if (
            obj == self.cluster.name
            and user.grants.get(obj) == "Master"
            and role != "Master"
            and self._is_last_master(user)
        ):
            raise UsageError(f"{user.login} is the last user with the Master role on the cluster")
        user.grants[obj] = role
        user.changed()
        self.cluster.log("Authentication", "", "Notice", f"role {role} on {obj} granted to {user.login}")

    def set_default(self, path: list[str], user_ident: Any) -> None:
        user = self.get(user_ident)
        obj = path[-1]
        if obj == self.cluster.name and self._is_last_master(user):
            raise UsageError(f"{user.login} is the last user with the Master role on the cluster")
        if user.grants.pop(obj, None) is not None:
            user.changed()

    def roles_for(self, path: list[str], user_ident: Any) -> list[dict[str, Any]]:
        users = list(self.by_id.values()) if user_ident in ("", None) else [self.get(user_ident)]
        out = []
        for u in users:
            role, derived = self.role_on(u, path)
            if user_ident in ("", None) and derived and not any(p in u.grants for p in path):
                continue  # listing everyone: skip users who only have the default
            out.append({"user": u.uid, "role": role, "default": derived})
        return out
