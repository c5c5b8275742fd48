"""No store ever sees or changes another's data: store A's credentials against store B's ids.

Two stores, A and B, each with a published campaign that has a draft, contacts (one email in
both stores, one in B only), enrollments with traces and pending messages. With A's API token and
with A's Dashboard token, every root field of the schema is tried with B's ids, emails and
cursors: it must answer "not found" (null, an empty page, or NOT_FOUND on the field), never show
anything of B, and leave every row of B as it was (the whole database is compared before and
after; only rows that belong to A may change).

The cases are keyed by root field and the schema's own list of root fields is checked against
them, so a new query or mutation without a case here fails
``test_every_root_field_has_a_tenancy_case``. Fields that take no id, email or cursor are listed
in :data:`NO_FOREIGN_IDS` (checked against their arguments); they are tried too: they must answer
and act for A only.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
import sqlalchemy as sa
from graphql import (
    GraphQLArgument,
    GraphQLInputField,
    GraphQLInputObjectType,
    build_schema,
    get_named_type,
)

from relance.graphql.schema import schema
from relance.runtime import Runtime
from relance.store.models import Base, Contact
from tests.fixtures.runtime import Clock
from tests.graphql import documents
from tests.graphql.dashboard import APP_ID, SigningKey, dashboard_claims, jwks, serve_jwks
from tests.graphql.helpers import (
    Api,
    bearer,
    install_store,
    mutate,
    seed_enrollment,
    simple_definition,
)
from tests.graphql.test_push import TENANCY_CASES as PUSH_TENANCY_CASES

KEY = SigningKey("saleor-key-1")
SHARED_EMAIL = "ada@example.com"  #: a contact of both stores
B_API_URL = "https://b.example.com/graphql/"


# --- the two stores ------------------------------------------------------------------------


@dataclass
class Tenant:
    """One store's ids and a credential of its own."""

    store_id: UUID
    headers: dict[str, str]
    campaign_id: str = ""
    campaign_name: str = ""
    own_email: str = ""
    contact_ids: list[str] = field(default_factory=list)
    enrollment_ids: list[str] = field(default_factory=list)
    version_ids: list[str] = field(default_factory=list)
    cursor: str = ""


def populate(api: Api, runtime: Runtime, tenant: Tenant, name: str, own_email: str) -> None:
    """A published campaign with a draft v2, and two enrolled contacts (shared and own)."""
    headers = tenant.headers
    imported = mutate(
        api,
        headers,
        "campaignImport",
        documents.IMPORT,
        name=name,
        definition=simple_definition(),
    )
    campaign_id = imported["campaign"]["id"]
    published = mutate(api, headers, "campaignPublish", documents.PUBLISH, id=campaign_id)
    assert published["errors"] == []
    drafted = mutate(
        api,
        headers,
        "campaignUpdateDraft",
        documents.UPDATE_DRAFT,
        id=campaign_id,
        definition=simple_definition("other"),
    )
    assert drafted["errors"] == []
    for email in (SHARED_EMAIL, own_email):
        seed_enrollment(
            runtime,
            tenant.store_id,
            campaign_id,
            email=email,
            pending_messages=1,
            trace=(("thank_you", "entered", f"{name} trace"),),
        )
    page = api(documents.CONTACT_ENROLLMENTS, {"email": own_email}, headers)["data"]
    edges = page["contactEnrollments"]["edges"]
    campaign = drafted["campaign"]
    tenant.campaign_id = campaign_id
    tenant.campaign_name = name
    tenant.own_email = own_email
    tenant.cursor = edges[0]["cursor"]
    tenant.version_ids = [campaign["publishedVersion"]["id"], campaign["draftVersion"]["id"]]
    with runtime.sessions() as session:
        contacts = session.scalars(sa.select(Contact).where(Contact.store_id == tenant.store_id))
        tenant.contact_ids = sorted(str(contact.id) for contact in contacts)
    shared = api(documents.CONTACT_ENROLLMENTS, {"email": SHARED_EMAIL}, headers)["data"]
    tenant.enrollment_ids = [
        edge["node"]["id"] for edge in [*edges, *shared["contactEnrollments"]["edges"]]
    ]


@dataclass
class World:
    """Store A (the caller, with ``headers`` of the credential under test) and store B."""

    api: Api
    runtime: Runtime
    a: Tenant
    b: Tenant
    headers: dict[str, str]

    def b_strings(self) -> set[str]:
        """What would show B's data in an answer to A."""
        b = self.b
        return {
            str(b.store_id),
            B_API_URL,
            b.campaign_id,
            b.campaign_name,
            b.own_email,
            f"{b.campaign_name} trace",
            *b.contact_ids,
            *b.enrollment_ids,
            *b.version_ids,
        }

    def ask(self, document: str, **variables: Any) -> dict[str, Any]:
        """Send ``document`` with A's credential; fail if the answer shows anything of B that
        the request did not itself name (a NOT_FOUND message may repeat the id it was given)."""
        body = self.api(document, variables, self.headers)
        sent = json.dumps(variables)
        answer = json.dumps(body)
        leaked = sorted(s for s in self.b_strings() if s not in sent and s in answer)
        assert leaked == [], f"store B's data in an answer to A: {leaked}"
        return body

    def data(self, document: str, root: str, /, **variables: Any) -> Any:
        body = self.ask(document, **variables)
        assert "errors" not in body, body
        return body["data"][root]


@pytest.fixture(params=["api_token", "dashboard"])
def world(
    request: pytest.FixtureRequest, api: Api, runtime: Runtime, clock: Clock
) -> Iterator[World]:
    with serve_jwks(jwks(KEY)) as saleor:
        a_id = install_store(
            runtime,
            saleor.api_url,
            app_id=APP_ID,
            jwks=jwks(KEY),
            at=clock.now - timedelta(hours=1),
        )
        b_id = install_store(runtime, B_API_URL, app_id=APP_ID, jwks=jwks(KEY))
        a = Tenant(a_id, bearer(runtime, a_id))
        b = Tenant(b_id, bearer(runtime, b_id))
        populate(api, runtime, a, "Campaign of A", "alan@a.example.com")
        populate(api, runtime, b, "Campagne de B", "bea@b.example.com")
        if request.param == "api_token":
            headers = a.headers
        else:
            claims = dashboard_claims(api_url=saleor.api_url, now=clock.now)
            headers = {"authorization-bearer": KEY.sign(claims), "saleor-api-url": saleor.api_url}
        yield World(api=api, runtime=runtime, a=a, b=b, headers=headers)


# --- the database, row by row ----------------------------------------------------------------

Rows = dict[str, dict[tuple[Any, ...], dict[str, Any]]]


def snapshot(runtime: Runtime) -> Rows:
    """Every row of every table, by table and primary key."""
    rows: Rows = {}
    with runtime.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            keys = [column.name for column in table.primary_key.columns]
            rows[table.name] = {
                tuple(row[k] for k in keys): dict(row)
                for row in connection.execute(sa.select(table)).mappings()
            }
    return rows


def owner(table_name: str, row: dict[str, Any], rows: list[Rows]) -> Any:
    """The store a row belongs to: its ``store_id``, else its parent's (through foreign keys)."""
    if table_name == "stores":
        return row["id"]
    if "store_id" in row:
        return row["store_id"]
    table = Base.metadata.tables[table_name]
    for foreign_key in table.foreign_keys:
        parent = foreign_key.column.table
        value = row.get(foreign_key.parent.name)
        for snapshot_rows in rows:
            found = snapshot_rows[parent.name].get((value,))
            if found is not None:
                return owner(parent.name, found, rows)
    return None


def changed_stores(before: Rows, after: Rows) -> set[Any]:
    """The stores whose rows were added, removed or changed between the snapshots."""
    stores: set[Any] = set()
    for table_name in before:
        old, new = before[table_name], after[table_name]
        for key in old.keys() | new.keys():
            if old.get(key) != new.get(key):
                row = new.get(key) or old[key]
                stores.add(owner(table_name, row, [before, after]))
    return stores


# --- the cases: one per root field ------------------------------------------------------------

NOT_A_UUID = "not-an-id"

Case = Callable[[World], None]


def _not_found(payload: dict[str, Any], field_name: str = "id") -> None:
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [(field_name, "NOT_FOUND")]
    assert not any(v for k, v in payload.items() if k != "errors" and v not in ([], False))


def case_store(world: World) -> None:
    store = world.data("{ store { id apiUrl } }", "store")
    assert store["id"] == str(world.a.store_id)


def case_me(world: World) -> None:
    assert world.data("{ me { id } }", "me")["id"] == str(world.a.store_id)


def case_campaigns(world: World) -> None:
    listed = world.data(documents.CAMPAIGNS, "campaigns")
    assert [c["id"] for c in listed] == [world.a.campaign_id]


def case_campaign(world: World) -> None:
    for target in (world.b.campaign_id, NOT_A_UUID):
        assert world.data(documents.CAMPAIGN, "campaign", id=target) is None
    # A's own campaign, paged with B's cursor, shows A's enrollments only
    mine = world.data(
        documents.CAMPAIGN_ENROLLMENTS, "campaign", id=world.a.campaign_id, after=world.b.cursor
    )
    nodes = [edge["node"] for edge in mine["enrollments"]["edges"]]
    assert {node["campaignId"] for node in nodes} <= {world.a.campaign_id}


def case_campaign_history(world: World) -> None:
    for target in (world.b.campaign_id, NOT_A_UUID):
        assert world.data(documents.HISTORY, "campaignHistory", id=target) is None


def case_campaign_export(world: World) -> None:
    for version in (None, 1, 2):
        exported = world.data(
            documents.EXPORT, "campaignExport", id=world.b.campaign_id, version=version
        )
        assert exported is None


def case_contact_enrollments(world: World) -> None:
    # B's own contact does not exist for A
    page = world.data(documents.CONTACT_ENROLLMENTS, "contactEnrollments", email=world.b.own_email)
    assert page["edges"] == []
    # the contact both stores have shows only A's enrollments, also with B's cursor
    for after in (None, world.b.cursor):
        page = world.data(
            documents.CONTACT_ENROLLMENTS, "contactEnrollments", email=SHARED_EMAIL, after=after
        )
        assert {edge["node"]["campaignId"] for edge in page["edges"]} <= {world.a.campaign_id}
        assert {edge["node"]["contactId"] for edge in page["edges"]} <= set(world.a.contact_ids)
    page = world.data(documents.CONTACT_ENROLLMENTS, "contactEnrollments", email=SHARED_EMAIL)
    assert len(page["edges"]) == 1


def case_campaign_templates(world: World) -> None:
    templates = world.data(documents.TEMPLATES, "campaignTemplates")
    assert templates


def _creates_in_a(document: str, root: str, /, **variables: Any) -> Case:
    def run(world: World) -> None:
        payload = world.data(document, root, **variables)
        assert payload["errors"] == []
        listed = world.data(documents.CAMPAIGNS, "campaigns")
        assert payload["campaign"]["id"] in {c["id"] for c in listed}

    return run


def _on_b_campaign(document: str, root: str, /, **variables: Any) -> Case:
    def run(world: World) -> None:
        for target in (world.b.campaign_id, NOT_A_UUID):
            _not_found(world.data(document, root, id=target, **variables))

    return run


def case_campaign_stop(world: World) -> None:
    for mode in ("DRAIN", "STOP"):
        _on_b_campaign(documents.STOP, "campaignStop", mode=mode)(world)


def case_campaign_revert(world: World) -> None:
    for version in (1, 2):
        _on_b_campaign(documents.REVERT, "campaignRevert", version=version)(world)


def case_campaign_dry_run(world: World) -> None:
    a, b = world.a, world.b
    # B's campaign, with a contact of A or of B
    for email in (SHARED_EMAIL, b.own_email):
        _on_b_campaign(documents.DRY_RUN, "campaignDryRun", email=email, eventType="order.placed")(
            world
        )
    # A's campaign with B's contact: by email, by id
    payload = world.data(documents.DRY_RUN, "campaignDryRun", id=a.campaign_id, email=b.own_email)
    _not_found(payload, "contactEmail")
    for contact_id in b.contact_ids:
        payload = world.data(
            documents.DRY_RUN, "campaignDryRun", id=a.campaign_id, contactId=contact_id
        )
        _not_found(payload, "contactId")


STORE_SETTINGS = """
mutation($input: StoreSettingsInput!) {
  storeUpdateSettings(input: $input) { store { id settings { timeZone } } errors { code } }
}
"""


def case_store_update_settings(world: World) -> None:
    payload = world.data(
        STORE_SETTINGS, "storeUpdateSettings", input={"timeZone": "Pacific/Auckland"}
    )
    assert payload == {
        "store": {"id": str(world.a.store_id), "settings": {"timeZone": "Pacific/Auckland"}},
        "errors": [],
    }
    theirs = world.api("{ store { settings { timeZone } } }", headers=world.b.headers)
    assert theirs["data"]["store"]["settings"]["timeZone"] == "UTC"


SMS_SETTINGS = """
mutation Sms($input: StoreSmsSettingsInput!) {
  storeSmsSettings(input: $input) { smsSettings { accountSid hasAuthToken } errors { code } }
}
"""


def case_store_sms_settings(world: World) -> None:
    sid = "AC" + "0" * 32
    payload = world.data(
        SMS_SETTINGS,
        "storeSmsSettings",
        input={"accountSid": sid, "authToken": "f" * 32, "fromNumber": "+33612345678"},
    )
    assert payload["errors"] == []
    theirs = world.api(SMS_SETTINGS, {"input": {}}, headers=world.b.headers)["data"][
        "storeSmsSettings"
    ]
    assert theirs["smsSettings"] is None or theirs["smsSettings"]["accountSid"] != sid


_DEFINITION = simple_definition()
_TRIGGER = _DEFINITION["trigger"]

#: Every root field of the schema, by GraphQL name, and how A's credential tries it.
CASES: dict[str, Case] = {
    "store": case_store,
    "me": case_me,
    "campaigns": case_campaigns,
    "campaign": case_campaign,
    "campaignHistory": case_campaign_history,
    "campaignExport": case_campaign_export,
    "contactEnrollments": case_contact_enrollments,
    "campaignTemplates": case_campaign_templates,
    "campaignCreate": _creates_in_a(
        documents.CREATE_BLANK, "campaignCreate", name="new", trigger=_TRIGGER
    ),
    "campaignCreateFromTemplate": _creates_in_a(
        documents.CREATE, "campaignCreateFromTemplate", key="post_purchase"
    ),
    "campaignImport": _creates_in_a(
        documents.IMPORT, "campaignImport", name="new", definition=_DEFINITION
    ),
    "campaignUpdateDraft": _on_b_campaign(
        documents.UPDATE_DRAFT, "campaignUpdateDraft", definition=_DEFINITION, name="hijacked"
    ),
    "campaignValidate": _on_b_campaign(documents.VALIDATE, "campaignValidate"),
    "campaignPublish": _on_b_campaign(documents.PUBLISH, "campaignPublish"),
    "campaignStop": case_campaign_stop,
    "campaignRevert": case_campaign_revert,
    "campaignDryRun": case_campaign_dry_run,
    "storeUpdateSettings": case_store_update_settings,
    "storeSmsSettings": case_store_sms_settings,
    **PUSH_TENANCY_CASES,
}

#: Root fields that take no id, email or cursor: nothing to name B with. Tried all the same
#: (they must answer and act for A only).
NO_FOREIGN_IDS = frozenset(
    {
        "store",
        "me",
        "campaigns",
        "campaignTemplates",
        "campaignCreate",
        "campaignCreateFromTemplate",
        "campaignImport",
        "storeUpdateSettings",
        "storeSmsSettings",  # its "…Sid" fields are Twilio's account ids, not relance's
        "storePushSettings",
        "pushPublicKey",  # names a store by its public API URL: any storefront may ask
        "pushSubscribe",  # the customer's own token names the contact
        "pushUnsubscribe",
    }
)
#: Input fields whose names look like ids but name something outside relance.
NOT_RELANCE_IDS = frozenset({"input.accountSid", "input.messagingServiceSid"})


# --- the schema's root fields -----------------------------------------------------------------

SDL = build_schema(schema.as_str())


def root_fields() -> dict[str, dict[str, GraphQLArgument]]:
    """Every root query and mutation field of the served schema, with its arguments."""
    fields: dict[str, dict[str, GraphQLArgument]] = {}
    for root in (SDL.query_type, SDL.mutation_type):
        assert root is not None
        fields.update({name: definition.args for name, definition in root.fields.items()})
    return fields


def naming_inputs(arguments: dict[str, GraphQLArgument] | dict[str, GraphQLInputField]) -> set[str]:
    """Arguments (or input fields, recursively) that can name a row: an ``ID``, an email, a
    cursor."""
    found: set[str] = set()
    for name, argument in arguments.items():
        named = get_named_type(argument.type)
        lowered = name.lower()
        if named.name == "ID" or lowered.endswith("id") or "email" in lowered or lowered == "after":
            found.add(name)
        if isinstance(named, GraphQLInputObjectType):
            found |= {f"{name}.{inner}" for inner in naming_inputs(named.fields)}
    return found


def test_every_root_field_has_a_tenancy_case() -> None:
    fields = root_fields()
    assert sorted(fields) == sorted(CASES), "add a tenancy case for each new root field"
    for name, arguments in fields.items():
        if name in NO_FOREIGN_IDS:
            naming = naming_inputs(arguments) - NOT_RELANCE_IDS
            assert naming == set(), f"{name} takes ids: try B's with it"
        else:
            assert naming_inputs(arguments), f"{name} takes no id: list it in NO_FOREIGN_IDS"


# --- the attempts ---------------------------------------------------------------------------


@pytest.mark.parametrize("root_field", sorted(CASES))
def test_a_cannot_see_or_change_b(world: World, root_field: str) -> None:
    # given both stores, and B's rows as they are
    before = snapshot(world.runtime)
    b_before = {
        "campaigns": world.api(documents.CAMPAIGNS, headers=world.b.headers),
        "store": world.api(
            "{ store { id settings { timeZone channels } } }", headers=world.b.headers
        ),
    }
    # when A's credential tries the field with B's ids (the case asserts every answer)
    CASES[root_field](world)
    # then no row of B changed: only A's rows may have
    after = snapshot(world.runtime)
    assert changed_stores(before, after) <= {world.a.store_id}
    assert world.api(documents.CAMPAIGNS, headers=world.b.headers) == b_before["campaigns"]
    b_store = world.api("{ store { id settings { timeZone channels } } }", headers=world.b.headers)
    assert b_store == b_before["store"]


def test_the_snapshot_sees_a_change_to_b(world: World) -> None:
    # the check above would catch a change to B: B changing itself shows up as B's
    before = snapshot(world.runtime)
    mutate(
        world.api,
        world.b.headers,
        "campaignStop",
        documents.STOP,
        id=world.b.campaign_id,
        mode="STOP",
    )
    assert world.b.store_id in changed_stores(before, snapshot(world.runtime))
    # and so does a change to a row that has no store_id of its own (a trace entry)
    with world.runtime.engine.begin() as connection:
        connection.execute(sa.text("UPDATE enrollment_trace SET detail = 'tampered'"))
    assert {world.a.store_id, world.b.store_id} <= changed_stores(before, snapshot(world.runtime))
