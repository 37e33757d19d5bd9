"""Accounts logic: departments, users, sign-in with lockout, sessions and API tokens.

Every function takes an open session and leaves committing to the caller.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.orm import Session, joinedload

from govlink.accounts.actor import Actor
from govlink.accounts.models import ApiToken, Department, LoginSession, User, UserRole
from govlink.accounts.passwords import (
    MIN_PASSWORD_LENGTH,
    generate_password,
    hash_password,
    needs_rehash,
    verify_password,
)
from govlink.accounts.roles import DEPARTMENT_ROLES, PRIVILEGED_ROLES, Role
from govlink.accounts.schemas import (
    SUBJECT_KEY_PATTERN,
    DepartmentIn,
    DepartmentOut,
    TokenCreated,
    TokenIn,
    TokenOut,
    UserCreated,
    UserIn,
    UserOut,
)
from govlink.db.base import utcnow
from govlink.db.engine import after_transaction
from govlink.kit.errors import AccountLocked, BadCredentials, Conflict, Forbidden, InvalidInput, NotFound
from govlink.kit.tokens import new_secret, same, sha256_hex
from govlink.transparency.service import LogEvent, record

TOKEN_PREFIX = "glk"  # noqa: S105 - a public marker, not a secret


# --- departments -------------------------------------------------------------------------------


def department_by_code(session: Session, code: str) -> Department:
    department = session.scalar(select(Department).where(Department.code == code))
    if department is None:
        raise NotFound(f"no department with code {code!r}", field="department")
    return department


def department_out(department: Department) -> DepartmentOut:
    return DepartmentOut(
        code=department.code,
        name=department.name,
        uscc=department.uscc,
        parent_code=department.parent.code if department.parent else None,
        created_at=department.created_at,
    )


def create_department(session: Session, actor: Actor, data: DepartmentIn) -> Department:
    """Register a department; its code and credit code must be new, its parent must exist."""
    if session.scalar(select(Department.id).where(Department.code == data.code)) is not None:
        raise Conflict(f"department code {data.code!r} is taken", field="code")
    if data.uscc and session.scalar(select(Department.id).where(Department.uscc == data.uscc)):
        raise Conflict(f"credit code {data.uscc} belongs to another department", field="uscc")
    parent = department_by_code(session, data.parent_code) if data.parent_code else None
    department = Department(code=data.code, name=data.name, uscc=data.uscc, parent=parent)
    session.add(department)
    session.flush()
    record(session, LogEvent("accounts.department_created", actor.username, department=data.code,
                             details={"code": data.code, "name": data.name, "uscc": data.uscc,
                                      "parent": data.parent_code}))
    return department


def list_departments(session: Session) -> Sequence[Department]:
    return session.scalars(select(Department).order_by(Department.code)).all()


def department_by_id(session: Session, department_id: int) -> Department:
    """One department by id, from the session's identity map when it was read before."""
    department = session.get(Department, department_id)
    if department is None:
        raise NotFound(f"no department {department_id}", field="department")
    return department


def departments_by_id(session: Session) -> dict[int, Department]:
    """Every department keyed by id (a district has tens to hundreds: one query, no N+1)."""
    return {d.id: d for d in list_departments(session)}


# --- users -------------------------------------------------------------------------------------


def user_by_username(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user named {username!r}", field="username")
    return user


def user_out(user: User) -> UserOut:
    return UserOut(
        username=user.username,
        display_name=user.display_name,
        roles=sorted(Role(r) for r in user.role_names),
        department_code=user.department.code if user.department else None,
        subject_key=user.subject_key,
        is_active=user.is_active,
        created_at=user.created_at,
        last_login_at=user.last_login_at,
    )


def create_user(session: Session, actor: Actor, data: UserIn) -> UserCreated:
    """Create an account; a generated password is returned once and never stored in clear."""
    if session.scalar(select(User.id).where(User.username == data.username)) is not None:
        raise Conflict(f"username {data.username!r} is taken", field="username")
    department = department_by_code(session, data.department_code) if data.department_code else None
    roles = set(data.roles)
    if roles & DEPARTMENT_ROLES and department is None:
        names = ", ".join(sorted(r.value for r in roles & DEPARTMENT_ROLES))
        raise InvalidInput(f"the role(s) {names} act for a department: give one", field="department_code")
    if Role.PUBLIC in roles and len(roles) > 1:
        raise InvalidInput("a public account holds no other role", field="roles")
    if data.subject_key is not None:
        if roles != {Role.PUBLIC}:
            raise InvalidInput("only a public account speaks for a person or enterprise", field="subject_key")
        if session.scalar(select(User.id).where(User.subject_key == data.subject_key)) is not None:
            raise Conflict(f"{data.subject_key} already has an account", field="subject_key")
    generated = data.password is None
    password = data.password if data.password is not None else generate_password()
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"a password has at least {MIN_PASSWORD_LENGTH} characters", field="password")
    user = User(
        username=data.username,
        display_name=data.display_name,
        password_hash=hash_password(password),
        department=department,
        roles=[UserRole(role=r.value) for r in sorted(roles)],
        subject_key=data.subject_key,
    )
    session.add(user)
    session.flush()
    record(session, LogEvent("accounts.user_created", actor.username, department=data.department_code,
                             details={"username": user.username, "roles": sorted(r.value for r in roles)}))
    return UserCreated(**user_out(user).model_dump(), password=password if generated else None)


def list_users(session: Session) -> Sequence[User]:
    return session.scalars(select(User).order_by(User.username)).all()


def disable_user(session: Session, actor: Actor, username: str) -> User:
    """Disable an account and end every session and token it holds, at once."""
    user = user_by_username(session, username)
    now = utcnow()
    user.is_active = False
    user.disabled_at = now
    session.execute(delete(LoginSession).where(LoginSession.user_id == user.id))
    session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    session.flush()
    record(session, LogEvent("accounts.user_disabled", actor.username,
                             department=user.department.code if user.department else None,
                             details={"username": user.username}))
    return user


def bind_subject(session: Session, actor: Actor, username: str, subject_key: str) -> User:
    """Let a public account speak for a person or enterprise of the registry (``person:P00000001``), so that
    its holder sees who accessed that record."""
    if not re.fullmatch(SUBJECT_KEY_PATTERN, subject_key):
        raise InvalidInput("a subject is person:<registry id> or enterprise:<registry id>", field="subject_key")
    user = user_by_username(session, username)
    if user.role_names != {Role.PUBLIC.value}:
        raise InvalidInput("only a public account speaks for a person or enterprise", field="subject_key")
    taken = session.scalar(select(User.username).where(User.subject_key == subject_key, User.id != user.id))
    if taken is not None:
        raise Conflict(f"{subject_key} already has an account", field="subject_key")
    user.subject_key = subject_key
    record(session, LogEvent("accounts.subject_bound", actor.username,
                             details={"username": username, "subject": subject_key}))
    return user


def set_password(session: Session, actor: Actor, username: str, password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"a password has at least {MIN_PASSWORD_LENGTH} characters", field="password")
    user = user_by_username(session, username)
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    record(session, LogEvent("accounts.password_changed", actor.username, details={"username": username}))


def count_users(session: Session) -> int:
    return session.scalar(select(func.count(User.id))) or 0


# --- sign-in -----------------------------------------------------------------------------------


def authenticate(
    session: Session, username: str, password: str, *, max_failures: int, lockout: dt.timedelta
) -> User:
    """Check a password, counting failures; the account locks after ``max_failures`` in a row.

    Raises :class:`BadCredentials` for a wrong name or password (the same message for both) and
    :class:`AccountLocked` while the account is locked.
    """
    user = session.scalar(select(User).where(User.username == username))
    now = utcnow()
    if user is not None and user.locked_until is not None and user.locked_until > now:
        raise AccountLocked("too many failed sign-ins; try again later", field="username")
    if user is None or not verify_password(user.password_hash, password) or not user.is_active:
        if user is None:
            verify_password(None, password)  # same cost as a real check
        else:
            user.failed_logins += 1
            if user.failed_logins >= max_failures:
                user.locked_until = now + lockout
                user.failed_logins = 0
                record(session, LogEvent("auth.account_locked", user.username,
                                         details={"until": user.locked_until.isoformat(timespec="seconds")}))
        raise BadCredentials("wrong username or password", field="password")
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    if user.role_names & PRIVILEGED_ROLES:
        record(session, LogEvent("auth.sign_in", user.username,
                                 department=user.department.code if user.department else None,
                                 details={"roles": sorted(user.role_names)}))
    return user


def start_session(session: Session, user: User, *, lifetime: dt.timedelta) -> tuple[str, LoginSession]:
    """Open a browser session; returns the cookie value (kept nowhere else) and the row."""
    secret = new_secret()
    row = LoginSession(
        token_hash=sha256_hex(secret),
        user_id=user.id,
        csrf_token=new_secret(24),
        expires_at=utcnow() + lifetime,
    )
    session.add(row)
    session.flush()
    return secret, row


def end_session(session: Session, secret: str) -> None:
    session.execute(delete(LoginSession).where(LoginSession.token_hash == sha256_hex(secret)))


def purge_expired_sessions(session: Session) -> int:
    result = session.execute(delete(LoginSession).where(LoginSession.expires_at <= utcnow()))
    return int(getattr(result, "rowcount", 0) or 0)


def actor_from_session(
    session: Session, secret: str, *, lifetime: dt.timedelta
) -> tuple[Actor, LoginSession] | None:
    """The actor behind a session cookie, sliding its expiry; None when unknown or expired."""
    row = session.get(LoginSession, sha256_hex(secret))
    now = utcnow()
    if row is None or row.expires_at <= now:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    # Slide the expiry, but write at most once a minute per session.
    if row.expires_at - (now + lifetime) < -dt.timedelta(minutes=1):
        key, until = row.token_hash, now + lifetime
        after_transaction(session, lambda own: own.execute(
            update(LoginSession).where(LoginSession.token_hash == key).values(expires_at=until)))
    return acting_as(user), row


def acting_as(user: User) -> Actor:
    """``user`` as the actor of a signed-in session (also how the demo and benchmarks act for an account)."""
    return Actor(
        user_id=user.id,
        username=user.username,
        roles=frozenset(Role(r) for r in user.role_names),
        department_id=user.department_id,
        via="session",
        subject_key=user.subject_key,
    )


# --- API tokens --------------------------------------------------------------------------------


def token_out(token: ApiToken) -> TokenOut:
    return TokenOut(
        id=token.id,
        name=token.name,
        prefix=token.prefix,
        username=token.user.username,
        department_code=token.department.code if token.department else None,
        scopes=list(token.scopes),
        created_at=token.created_at,
        expires_at=token.expires_at,
        revoked_at=token.revoked_at,
        last_used_at=token.last_used_at,
    )


def create_token(
    session: Session, actor: Actor, owner_username: str, data: TokenIn, *, max_days: int
) -> TokenCreated:
    """Issue a token for ``owner_username``; only an admin may issue one for someone else."""
    owner = user_by_username(session, owner_username)
    if owner.id != actor.user_id and not actor.has_role(Role.ADMIN):
        raise Forbidden("only an admin issues tokens for another user", field="username")
    if not owner.is_active:
        raise InvalidInput(f"user {owner.username!r} is disabled", field="username")
    if data.expires_in_days > max_days:
        raise InvalidInput(f"a token lives at most {max_days} days", field="expires_in_days")
    department = owner.department
    if data.department_code is not None:
        department = department_by_code(session, data.department_code)
        if department.id != owner.department_id and not actor.has_role(Role.ADMIN):
            raise Forbidden("a token acts for its owner's own department", field="department_code")
    prefix = new_secret(6)[:8].replace("-", "x").replace("_", "y")
    secret = new_secret()
    token = ApiToken(
        prefix=prefix,
        token_hash=sha256_hex(secret),
        name=data.name,
        user=owner,
        department=department,
        scopes=sorted({s.value for s in data.scopes}),
        expires_at=utcnow() + dt.timedelta(days=data.expires_in_days),
    )
    session.add(token)
    session.flush()
    record(session, LogEvent("accounts.token_created", actor.username,
                             department=department.code if department else None,
                             details={"token": token.id, "owner": owner.username, "scopes": token.scopes,
                                      "expires_at": token.expires_at.isoformat(timespec="seconds")}))
    return TokenCreated(**token_out(token).model_dump(), token=f"{TOKEN_PREFIX}_{prefix}_{secret}")


def token_name(session: Session, token_id: int) -> str | None:
    """The name of a token (the application it serves), from the session's identity map once it was read."""
    token = session.get(ApiToken, token_id)
    return token.name if token is not None else None


def list_tokens(session: Session, actor: Actor, *, everyone: bool = False) -> Sequence[ApiToken]:
    query = select(ApiToken).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    if not (everyone and actor.has_role(Role.ADMIN)):
        query = query.where(ApiToken.user_id == actor.user_id)
    return session.scalars(query).all()


def revoke_token(session: Session, actor: Actor, token_id: int) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None or (token.user_id != actor.user_id and not actor.has_role(Role.ADMIN)):
        raise NotFound(f"no token {token_id} of yours", field="token")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        record(session, LogEvent("accounts.token_revoked", actor.username,
                                 details={"token": token.id, "owner": token.user.username}))
    return token


# One statement for the token, its user, the user's roles and the token's department (which the call's log entry
# names, then found in the session): every API call asks this.  Built once: SQLAlchemy keys its cache of
# compiled statements on each statement's structure, which it works out once per statement object (with these
# loader options, half the cost of the lookup when done on every call).
_TOKEN_BY_PREFIX = select(ApiToken).where(ApiToken.prefix == bindparam("prefix")).options(
    joinedload(ApiToken.user).joinedload(User.roles), joinedload(ApiToken.department))


def actor_from_token(session: Session, presented: str) -> Actor | None:
    """The actor behind a bearer token; None when malformed, unknown, revoked or expired."""
    parts = presented.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        return None
    token = session.scalars(_TOKEN_BY_PREFIX, {"prefix": parts[1]}).unique().first()
    now = utcnow()
    if token is None or not same(token.token_hash, sha256_hex(parts[2])):
        return None
    if token.revoked_at is not None or token.expires_at <= now or not token.user.is_active:
        return None
    # The session's identity map holds objects weakly: kept here, the token, its user and its department stay
    # there for the request, so the department's code and the token's name on the call's log entry are read
    # without a query each.
    session.info["api_token"] = token
    if token.last_used_at is None or now - token.last_used_at > dt.timedelta(minutes=1):
        token_id = token.id
        after_transaction(session, lambda own: own.execute(
            update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now)))
    return Actor(
        user_id=token.user.id,
        username=token.user.username,
        roles=frozenset(Role(r) for r in token.user.role_names),
        department_id=token.department_id,
        via="token",
        subject_key=token.user.subject_key,
        scopes=frozenset(token.scopes),
        token_id=token.id,
    )
