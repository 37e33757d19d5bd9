"""What the accounts API takes and gives."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from govlink.accounts.roles import Role
from govlink.accounts.scopes import Scope
from govlink.kit.text import single_line
from govlink.standards.credit_code import CreditCodeError, parse_credit_code

DepartmentCode = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")
]
Username = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=2, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")
]


class DepartmentIn(BaseModel):
    code: DepartmentCode
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    uscc: str | None = Field(default=None, description="统一社会信用代码 (GB 32100), checked.")
    parent_code: str | None = None

    _name = field_validator("name")(single_line)

    @field_validator("uscc")
    @classmethod
    def _valid_uscc(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        try:
            return parse_credit_code(value).value
        except CreditCodeError as exc:
            raise ValueError(str(exc)) from exc


class DepartmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    uscc: str | None
    parent_code: str | None
    created_at: dt.datetime


SUBJECT_KEY_PATTERN = r"^(person|enterprise):[A-Za-z0-9_-]{1,50}$"  # a person or enterprise of the registry


class UserIn(BaseModel):
    username: Username
    display_name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    roles: list[Role] = Field(min_length=1)
    department_code: str | None = None
    password: str | None = Field(default=None, description="Leave empty to have one generated.")
    subject_key: str | None = Field(
        default=None, pattern=SUBJECT_KEY_PATTERN,
        description="For a public account: the person or enterprise of the registry it speaks for.",
    )

    _display = field_validator("display_name")(single_line)


class UserOut(BaseModel):
    username: str
    display_name: str
    roles: list[Role]
    department_code: str | None
    subject_key: str | None = None
    is_active: bool
    created_at: dt.datetime
    last_login_at: dt.datetime | None


class UserCreated(UserOut):
    password: str | None = Field(description="Shown once, only when it was generated.")


class TokenIn(BaseModel):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    scopes: list[Scope] = Field(min_length=1)
    expires_in_days: int = Field(default=90, ge=1)
    department_code: str | None = Field(
        default=None, description="Defaults to the owner's department."
    )

    _name = field_validator("name")(single_line)


class TokenOut(BaseModel):
    id: int
    name: str
    prefix: str
    username: str
    department_code: str | None
    scopes: list[str]
    created_at: dt.datetime
    expires_at: dt.datetime
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and self.expires_at > dt.datetime.now(dt.UTC)


class TokenCreated(TokenOut):
    token: str = Field(description="The secret, shown once; send it as `Authorization: Bearer …`.")


class Me(BaseModel):
    username: str
    display_name: str
    roles: list[Role]
    department_code: str | None
    via: str
    scopes: list[str]
