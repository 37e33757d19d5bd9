"""The authorization matrix: who may call every route of the app, in one declarative place.

Each route is named (``name=`` on its decorator) and listed here with the roles that may call it
and, for API routes, the token scope a machine client needs.  A route missing from this table is
refused to everyone (fail closed), and ``tests/test_authz.py`` fails until it is added.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from govlink.accounts.actor import Actor
from govlink.accounts.roles import Role
from govlink.accounts.scopes import Scope

Audience = Literal["anyone", "signed_in"]


@dataclass(frozen=True, slots=True)
class Rule:
    """Who may call a route: everyone, anyone signed in, or holders of one of the roles."""

    allow: Audience | frozenset[Role]
    scope: Scope | None = None  # the scope a token needs; None: tokens may not call it

    def permits(self, actor: Actor) -> bool:
        if actor.via == "token" and (self.scope is None or self.scope not in actor.scopes):
            return False
        if self.allow == "anyone":
            return True
        if not actor.is_authenticated:
            return False
        if self.allow == "signed_in":
            return True
        return bool(actor.roles & self.allow)


ANYONE = Rule("anyone")
SIGNED_IN = Rule("signed_in")
ADMIN = frozenset({Role.ADMIN})
STAFF = frozenset({Role.ADMIN, Role.STEWARD, Role.APPROVER, Role.ANALYST, Role.AUDITOR})
OVERSIGHT = frozenset({Role.ADMIN, Role.AUDITOR})
PUBLIC = frozenset({Role.PUBLIC})
STEWARDS = frozenset({Role.ADMIN, Role.STEWARD})
DATA_KEEPERS = frozenset({Role.ADMIN, Role.STEWARD, Role.APPROVER})  # and the service checks the department
REQUESTERS = frozenset({Role.STEWARD, Role.APPROVER, Role.ANALYST})  # a department's officials
OFFICIALS = REQUESTERS | ADMIN
DECIDERS = frozenset({Role.ADMIN, Role.APPROVER})  # and the service checks the department and the stage

MATRIX: dict[str, Rule] = {
    # portal: public pages and the health check
    "portal.page.home": ANYONE,
    "portal.page.departments": ANYONE,
    "portal.page.department": ANYONE,
    "portal.page.set_language": ANYONE,
    "portal.api.health": ANYONE,
    "openapi": ANYONE,
    "static": ANYONE,
    # accounts: sign-in and one's own account
    "accounts.page.login_form": ANYONE,
    "accounts.page.login": ANYONE,
    "accounts.page.logout": SIGNED_IN,
    "accounts.page.account": SIGNED_IN,
    "accounts.page.change_password": SIGNED_IN,
    "accounts.page.create_token": Rule(STAFF),
    "accounts.page.revoke_token": Rule(STAFF),
    "accounts.api.me": Rule("signed_in", Scope.ACCOUNTS_READ),
    "accounts.api.list_tokens": Rule(STAFF, Scope.ACCOUNTS_READ),
    "accounts.api.create_token": Rule(STAFF),
    "accounts.api.revoke_token": Rule(STAFF, Scope.ACCOUNTS_WRITE),
    # accounts: administration
    "accounts.api.list_departments": Rule("signed_in", Scope.ACCOUNTS_READ),
    "accounts.api.get_department": Rule("signed_in", Scope.ACCOUNTS_READ),
    "accounts.api.create_department": Rule(ADMIN, Scope.ACCOUNTS_WRITE),
    "accounts.api.list_users": Rule(OVERSIGHT, Scope.ACCOUNTS_READ),
    "accounts.api.get_user": Rule(OVERSIGHT, Scope.ACCOUNTS_READ),
    "accounts.api.create_user": Rule(ADMIN, Scope.ACCOUNTS_WRITE),
    "accounts.api.disable_user": Rule(ADMIN, Scope.ACCOUNTS_WRITE),
    "accounts.page.users": Rule(OVERSIGHT),
    "accounts.page.create_user": Rule(ADMIN),
    "accounts.page.disable_user": Rule(ADMIN),
    "accounts.page.create_department": Rule(ADMIN),
    # transparency: proofs are public; the record itself is for oversight
    "transparency.api.checkpoint": ANYONE,
    "transparency.api.checkpoints": ANYONE,
    "transparency.api.inclusion": ANYONE,
    "transparency.api.consistency": ANYONE,
    "transparency.api.public_key": ANYONE,
    "transparency.api.statistics": ANYONE,
    "transparency.api.publish": Rule(ADMIN, Scope.TRANSPARENCY_WRITE),
    "transparency.api.cosign": Rule(OVERSIGHT, Scope.TRANSPARENCY_WITNESS),
    "transparency.api.entries": Rule(OVERSIGHT, Scope.TRANSPARENCY_READ),
    "transparency.api.entry_salt": Rule(OVERSIGHT, Scope.TRANSPARENCY_READ),
    "transparency.page.public": ANYONE,
    "transparency.page.audit": Rule(OVERSIGHT),
    "transparency.page.my_record": Rule(PUBLIC),
    "transparency.api.my_record": Rule(PUBLIC, Scope.TRANSPARENCY_READ),
    "transparency.api.my_record_proof": Rule(PUBLIC, Scope.TRANSPARENCY_READ),
    # catalog: open resources are public; registering is for stewards, reviewing for the information office
    "catalog.api.search": Rule("anyone", Scope.CATALOG_READ),
    "catalog.api.get": Rule("anyone", Scope.CATALOG_READ),
    "catalog.api.revisions": Rule("anyone", Scope.CATALOG_READ),
    "catalog.api.vocabulary": Rule("anyone", Scope.CATALOG_READ),
    "catalog.api.create": Rule(STEWARDS, Scope.CATALOG_WRITE),
    "catalog.api.update": Rule(STEWARDS, Scope.CATALOG_WRITE),
    "catalog.api.submit": Rule(STEWARDS, Scope.CATALOG_WRITE),
    "catalog.api.retire": Rule(STEWARDS, Scope.CATALOG_WRITE),
    "catalog.api.duplicates": Rule(STEWARDS, Scope.CATALOG_READ),
    "catalog.api.review": Rule(ADMIN),
    "catalog.api.review_queue": Rule(ADMIN, Scope.CATALOG_READ),
    "catalog.api.overlap": Rule(OVERSIGHT, Scope.CATALOG_READ),
    "catalog.api.ranking": Rule(OVERSIGHT, Scope.CATALOG_READ),
    "catalog.ckan.v1_get": Rule("anyone", Scope.CATALOG_READ),
    "catalog.ckan.v1_post": Rule("anyone", Scope.CATALOG_READ),
    "catalog.ckan.v3_get": Rule("anyone", Scope.CATALOG_READ),
    "catalog.ckan.v3_post": Rule("anyone", Scope.CATALOG_READ),
    "catalog.dcat.catalog": Rule("anyone", Scope.CATALOG_READ),
    "catalog.dcat.dataset": Rule("anyone", Scope.CATALOG_READ),
    # data: departments load their own data; rows are read by their department (service checks), open data
    # by anyone
    "ingest.api.upload": Rule(STEWARDS, Scope.DATA_WRITE),
    "ingest.api.upload_new": Rule(STEWARDS, Scope.DATA_WRITE),
    "ingest.api.fix": Rule(STEWARDS, Scope.DATA_WRITE),
    "ingest.api.remap": Rule(STEWARDS, Scope.DATA_WRITE),
    "ingest.api.restore": Rule(STEWARDS, Scope.DATA_WRITE),
    "ingest.api.versions": Rule(STAFF, Scope.DATA_READ),
    "ingest.api.version": Rule(STAFF, Scope.DATA_READ),
    "ingest.api.quarantine": Rule(DATA_KEEPERS, Scope.DATA_READ),
    "ingest.api.quarantine_csv": Rule(DATA_KEEPERS, Scope.DATA_READ),
    "ingest.api.diff": Rule(DATA_KEEPERS, Scope.DATA_READ),
    "ingest.api.open_rows": Rule("anyone", Scope.DATA_READ),
    "ingest.api.pull_set": Rule(STEWARDS, Scope.DATA_WRITE),
    "ingest.api.pull_get": Rule(DATA_KEEPERS, Scope.DATA_READ),
    "ingest.api.pull_run": Rule(STEWARDS, Scope.DATA_WRITE),
    "ingest.api.pull_remove": Rule(STEWARDS, Scope.DATA_WRITE),
    "ingest.open.download": ANYONE,
    "ingest.page.data": Rule(STAFF),
    "ingest.page.upload": Rule(STEWARDS),
    "ingest.page.upload_new": Rule(STEWARDS),
    "ingest.page.version": Rule(DATA_KEEPERS),
    "ingest.page.fix": Rule(STEWARDS),
    "ingest.page.remap": Rule(STEWARDS),
    "ingest.page.restore": Rule(STEWARDS),
    "catalog.page.search": ANYONE,
    "catalog.page.resource": ANYONE,
    "catalog.page.workspace": Rule(STEWARDS),
    "catalog.page.new": Rule(STEWARDS),
    "catalog.page.create": Rule(STEWARDS),
    "catalog.page.edit": Rule(STEWARDS),
    "catalog.page.update": Rule(STEWARDS),
    "catalog.page.submit": Rule(STEWARDS),
    "catalog.page.check": Rule(STEWARDS),
    "catalog.page.review_queue": Rule(ADMIN),
    "catalog.page.review": Rule(ADMIN),
    "catalog.page.overlap": Rule(OVERSIGHT),
    "catalog.page.ranking": Rule(OVERSIGHT),
    # registries: officials read (masked by role, every read logged); stewards review links and check their
    # department's conflicts (the service checks the department); the information office runs linkage
    "registry.api.search": Rule(STAFF, Scope.REGISTRY_READ),
    "registry.api.entity": Rule(STAFF, Scope.REGISTRY_READ),
    "registry.api.lookup": Rule(STAFF, Scope.REGISTRY_READ),
    "registry.api.map": Rule(STAFF, Scope.REGISTRY_READ),
    "registry.api.reviews": Rule(STEWARDS, Scope.REGISTRY_READ),
    "registry.api.review": Rule(STEWARDS, Scope.REGISTRY_READ),
    "registry.api.decide": Rule(STEWARDS, Scope.REGISTRY_WRITE),
    "registry.api.conflicts": Rule(STEWARDS, Scope.REGISTRY_READ),
    "registry.api.resolve": Rule(STEWARDS, Scope.REGISTRY_WRITE),
    "registry.api.thresholds": Rule(ADMIN, Scope.REGISTRY_READ),
    "registry.api.set_thresholds": Rule(ADMIN, Scope.REGISTRY_WRITE),
    "registry.api.run": Rule(ADMIN, Scope.REGISTRY_WRITE),
    "registry.api.latest_run": Rule(ADMIN, Scope.REGISTRY_READ),
    "registry.page.search": Rule(STAFF),
    "registry.page.entity": Rule(STAFF),
    "registry.page.map": Rule(STAFF),
    "registry.page.reviews": Rule(STEWARDS),
    "registry.page.review": Rule(STEWARDS),
    "registry.page.decide": Rule(STEWARDS),
    "registry.page.conflicts": Rule(STEWARDS),
    "registry.page.resolve": Rule(STEWARDS),
    "registry.page.thresholds": Rule(ADMIN),
    "registry.page.run": Rule(ADMIN),
    # sharing: departments request, deciders answer (the service checks whose turn it is and that nobody
    # decides their own department's request); every read and refusal is logged by the service
    "sharing.api.submit": Rule(REQUESTERS, Scope.SHARING_WRITE),
    "sharing.api.apply": Rule(PUBLIC),  # 有条件开放: a citizen's or an enterprise's own application
    "sharing.api.requests": Rule(STAFF | PUBLIC, Scope.SHARING_READ),  # the public: their own applications
    "sharing.api.request": Rule(STAFF | PUBLIC, Scope.SHARING_READ),
    "sharing.api.decide": Rule(DECIDERS, Scope.SHARING_WRITE),
    "sharing.api.appeal": Rule(REQUESTERS | PUBLIC, Scope.SHARING_WRITE),
    "sharing.api.withdraw": Rule(REQUESTERS | PUBLIC, Scope.SHARING_WRITE),
    "sharing.api.grants": Rule(STAFF | PUBLIC, Scope.SHARING_READ),
    "sharing.api.revoke": Rule(OFFICIALS | PUBLIC, Scope.SHARING_WRITE),
    "sharing.api.open_rows": Rule(PUBLIC),  # the service checks the grant is the applicant's
    "sharing.api.query": Rule(OFFICIALS, Scope.SHARING_READ),
    "sharing.api.registry_query": Rule(OFFICIALS, Scope.SHARING_READ),
    "sharing.api.verify_person": Rule(OFFICIALS, Scope.SHARING_READ),
    "sharing.api.verify_enterprise": Rule(OFFICIALS, Scope.SHARING_READ),
    # sharing: bulk export under the query's rules; subscriptions and their feed are a department's own (the
    # service checks the department may read what it subscribes to)
    "sharing.api.export": Rule(OFFICIALS, Scope.SHARING_READ),
    "sharing.api.subscribe": Rule(OFFICIALS, Scope.SHARING_WRITE),
    "sharing.api.subscriptions": Rule(OFFICIALS, Scope.SHARING_READ),
    "sharing.api.unsubscribe": Rule(OFFICIALS, Scope.SHARING_WRITE),
    "sharing.api.feed": Rule(OFFICIALS, Scope.SHARING_READ),
    "sharing.page.requests": Rule(STAFF | PUBLIC),
    "sharing.page.submit": Rule(REQUESTERS),
    "sharing.page.apply_form": Rule(PUBLIC),
    "sharing.page.apply": Rule(PUBLIC),
    "sharing.page.request": Rule(STAFF | PUBLIC),
    "sharing.page.withdraw": Rule(REQUESTERS | PUBLIC),
    "sharing.page.appeal": Rule(REQUESTERS | PUBLIC),
    "sharing.page.decide": Rule(DECIDERS),
    "sharing.page.inbox": Rule(DECIDERS),
    "sharing.page.grants": Rule(STAFF | PUBLIC),
    "sharing.page.revoke": Rule(OFFICIALS | PUBLIC),  # as the API: the service checks who may (may_revoke)
    "sharing.page.open_data": Rule(PUBLIC),  # the service checks the grant is the applicant's
    "sharing.page.open_download": Rule(PUBLIC),
    "sharing.page.grant_data": Rule(REQUESTERS),  # the service checks the grant is the department's
    # sharing: the public sharing record, and the department evaluation (考核) for the office and audit
    "sharing.api.record": ANYONE,
    "sharing.api.evaluation": Rule(OVERSIGHT, Scope.SHARING_READ),
    "sharing.page.record": ANYONE,
    "sharing.page.evaluation": Rule(OVERSIGHT),
    # jobs
    "jobs.page.list": Rule(ADMIN),
    "jobs.api.list": Rule(ADMIN, Scope.JOBS_READ),
    "jobs.api.get": Rule(ADMIN, Scope.JOBS_READ),
}


def rule_for(route_name: str | None) -> Rule | None:
    return MATRIX.get(route_name or "")
