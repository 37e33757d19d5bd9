"""Every setting GovLink reads, from ``GOVLINK_*`` variables and an optional ``govlink.toml``.

Precedence, highest first: arguments given in code, environment variables, ``govlink.toml`` in
the working directory (or the file named by ``GOVLINK_CONFIG``), then the defaults below.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from govlink.kit import destinations

Locale = Literal["zh_CN", "en"]


class Settings(BaseSettings):
    """GovLink's configuration; each field is documented in ``docs/configuration.md``."""

    model_config = SettingsConfigDict(env_prefix="GOVLINK_", extra="ignore")

    data_dir: Path = Field(
        default=Path("govlink-data"),
        description="Folder for the embedded database, stored files and the signing keys.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; empty means SQLite at DATA_DIR/govlink.db. "
        "PostgreSQL: postgresql+psycopg://user@host:5432/dbname",
    )
    session_hours: float = Field(default=8.0, gt=0, description="How long a sign-in lasts without activity.")
    login_max_failures: int = Field(
        default=5, ge=1, description="Failed sign-ins in a row that lock an account."
    )
    lockout_minutes: int = Field(default=15, ge=1, description="How long a locked account stays locked.")
    token_max_days: int = Field(default=365, ge=1, description="Longest lifetime an API token may have.")
    default_locale: Locale = Field(default="zh_CN", description="Language of pages for a new visitor.")
    host: str = Field(default="127.0.0.1", description="Address `govlink serve` listens on.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `govlink serve` listens on.")
    secure_cookies: bool = Field(
        default=False, description="Mark cookies Secure (set true behind HTTPS)."
    )
    worker_poll_seconds: float = Field(default=1.0, gt=0, description="How often an idle worker looks for jobs.")
    job_lease_seconds: int = Field(
        default=300, ge=10, description="How long a worker owns a job before another may take it over."
    )

    information_office: str = Field(
        default="SJJ", description="Code of the department that is the district's information office "
        "(信息主管部门): the publisher of the catalog.",
    )
    log_origin: str = Field(
        default="govlink.example/district-log",
        description="Name of the transparency log and of its signing key (put the district's domain here).",
    )
    log_key_file: Path | None = Field(
        default=None, description="PEM file of the log's Ed25519 signing key; default DATA_DIR/keys/log.pem."
    )
    witness_keys: list[str] = Field(
        default_factory=list,
        description="Verifier keys (name+id+key) of witnesses whose cosignatures the log accepts.",
    )
    checkpoint_minutes: int = Field(
        default=10, ge=1, description="How often the worker publishes a signed checkpoint of the log."
    )
    max_upload_bytes: int = Field(
        default=2 << 30, ge=1024, description="Largest file a department may upload or ingest (refused while it "
        "streams in, not after)."
    )
    max_upload_rows: int = Field(default=20_000_000, ge=1, description="Most records one file may hold.")
    ingest_seconds: float = Field(
        default=900.0, gt=0, description="Longest time reading one file may take before it is refused."
    )
    sharing_answer_days: int = Field(
        default=10, ge=1, le=60, description="Working days a provider has to answer a sharing request (and the "
        "information office a compliance check, a coordination or an appeal) before it is escalated.",
    )
    sharing_compliance_check: bool = Field(
        default=False, description="The information office checks every sharing request for compliance before "
        "the provider sees it.",
    )
    sharing_max_grant_days: int = Field(
        default=365, ge=1, le=3660, description="Longest time a sharing grant may last; a longer need is "
        "requested again.",
    )
    sharing_rate_per_second: float = Field(
        default=5000.0, ge=0, description="Sharing delivery calls (query, verification) one application may "
        "make a second, counted in each server process; 0: no limit.",
    )
    sharing_burst: int = Field(
        default=10_000, ge=1, description="Delivery calls one application may make at once before it is held "
        "to its rate.",
    )
    sharing_daily_rows: int = Field(
        default=0, ge=0, le=1_000_000_000, description="Rows delivered to one application a district calendar "
        "day (a verification counts one), counted in the database; 0: no quota.",
    )
    webhook_networks: list[str] = Field(
        default_factory=list, description="Non-public networks (CIDR, e.g. the government extranet's 10.0.0.0/8) "
        "that subscriptions' webhooks may reach; the server itself, link-local and other non-public addresses "
        "are refused otherwise.",
    )
    pseudonym_key_file: Path | None = Field(
        default=None, description="File of the secret behind departments' join-key pseudonyms; default "
        "DATA_DIR/keys/pseudonym.key, made on first use.",
    )
    webhook_key_file: Path | None = Field(
        default=None, description="File of the key that seals subscriptions' webhook secrets in the database; "
        "default DATA_DIR/keys/webhook.key, made on first use.",
    )

    @field_validator("webhook_networks")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        return [str(n) for n in destinations.networks(value)]

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = Path(os.environ.get("GOVLINK_CONFIG", "govlink.toml"))
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=toml_file))

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL in use: the configured one, or SQLite inside the data folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'govlink.db').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.sqlalchemy_url.startswith("sqlite")

    @property
    def log_key_path(self) -> Path:
        return self.log_key_file or self.data_dir / "keys" / "log.pem"

    @property
    def pseudonym_key_path(self) -> Path:
        return self.pseudonym_key_file or self.data_dir / "keys" / "pseudonym.key"

    @property
    def webhook_key_path(self) -> Path:
        return self.webhook_key_file or self.data_dir / "keys" / "webhook.key"

    def ensure_data_dir(self) -> Path:
        """Create the data folder (private to the owner) and return it."""
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        return self.data_dir
