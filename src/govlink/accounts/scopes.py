"""What an API token may be used for; every API route names the scope it needs."""

from __future__ import annotations

from enum import StrEnum


class Scope(StrEnum):
    ACCOUNTS_READ = "accounts:read"
    ACCOUNTS_WRITE = "accounts:write"
    JOBS_READ = "jobs:read"
    CATALOG_READ = "catalog:read"
    CATALOG_WRITE = "catalog:write"
    DATA_READ = "data:read"
    DATA_WRITE = "data:write"
    REGISTRY_READ = "registry:read"
    REGISTRY_WRITE = "registry:write"
    SHARING_READ = "sharing:read"
    SHARING_WRITE = "sharing:write"
    TRANSPARENCY_READ = "transparency:read"
    TRANSPARENCY_WRITE = "transparency:write"
    TRANSPARENCY_WITNESS = "transparency:witness"
