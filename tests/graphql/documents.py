"""GraphQL documents the tests send, written as the admin page would."""

from __future__ import annotations

from typing import Any

VERSION_FIELDS = "id number status publishedAt unpublishedAt retiredAt definition"

CAMPAIGN_FIELDS = f"""
    id name status templateKey createdAt updatedAt category
    trigger {{ type events hasConditions listId dateField summary }}
    publishedVersion {{ {VERSION_FIELDS} }}
    draftVersion {{ {VERSION_FIELDS} }}
    versions {{ number status }}
    stats {{ enrolled active completed exited messagesSent }}
"""

ERRORS = "errors { field code message }"

ME = "query { me { id apiUrl name status } }"

CAMPAIGNS = f"query {{ campaigns {{ {CAMPAIGN_FIELDS} }} }}"

CAMPAIGN = f"query($id: ID!) {{ campaign(id: $id) {{ {CAMPAIGN_FIELDS} }} }}"

TEMPLATES = "query { campaignTemplates { key name description } }"

ENROLLMENT_FIELDS = """
    edges {
      cursor
      node {
        id campaignId campaignName versionNumber contactId contactEmail status stepId wakeAt
        endReason enteredAt endedAt trace { at stepId action detail }
      }
    }
    pageInfo { hasNextPage endCursor }
"""

CAMPAIGN_ENROLLMENTS = f"""
query($id: ID!, $status: EnrollmentStatus, $first: Int! = 20, $after: String,
      $traceLimit: Int! = 20) {{
  campaign(id: $id) {{
    enrollments(status: $status, first: $first, after: $after, traceLimit: $traceLimit) {{
      {ENROLLMENT_FIELDS}
    }}
  }}
}}
"""

CONTACT_ENROLLMENTS = f"""
query($email: String!, $status: EnrollmentStatus, $first: Int! = 20, $after: String,
      $traceLimit: Int! = 20) {{
  contactEnrollments(email: $email, status: $status, first: $first, after: $after,
                     traceLimit: $traceLimit) {{
    {ENROLLMENT_FIELDS}
  }}
}}
"""

HISTORY = f"""
query($id: ID!) {{
  campaignHistory(id: $id) {{
    version {{ {VERSION_FIELDS} }} entered active completed exited
  }}
}}
"""

EXPORT = "query($id: ID!, $version: Int) { campaignExport(id: $id, version: $version) }"

CREATE = f"""
mutation($key: String!, $name: String) {{
  campaignCreateFromTemplate(templateKey: $key, name: $name) {{
    campaign {{ {CAMPAIGN_FIELDS} }}
    {ERRORS}
  }}
}}
"""

CREATE_BLANK = f"""
mutation($name: String!, $trigger: JSON!) {{
  campaignCreate(name: $name, trigger: $trigger) {{
    campaign {{ {CAMPAIGN_FIELDS} }}
    {ERRORS}
  }}
}}
"""

IMPORT = f"""
mutation($name: String!, $definition: JSON!) {{
  campaignImport(name: $name, definition: $definition) {{
    campaign {{ {CAMPAIGN_FIELDS} }}
    {ERRORS}
  }}
}}
"""

UPDATE_DRAFT = f"""
mutation($id: ID!, $definition: JSON!, $name: String) {{
  campaignUpdateDraft(id: $id, definition: $definition, name: $name) {{
    campaign {{ {CAMPAIGN_FIELDS} }}
    violations {{ field code message }}
    {ERRORS}
  }}
}}
"""

VALIDATE = f"""
mutation($id: ID!) {{
  campaignValidate(id: $id) {{ valid violations {{ field code message }} {ERRORS} }}
}}
"""

PUBLISH = f"""
mutation($id: ID!) {{
  campaignPublish(id: $id) {{
    campaign {{ {CAMPAIGN_FIELDS} }}
    {ERRORS}
  }}
}}
"""

PUBLISH_WITH = f"""
mutation($id: ID!, $mode: CampaignReleaseMode!) {{
  campaignPublish(id: $id, mode: $mode) {{
    campaign {{ {CAMPAIGN_FIELDS} }}
    {ERRORS}
  }}
}}
"""

STOP = f"""
mutation($id: ID!, $mode: CampaignReleaseMode!) {{
  campaignStop(id: $id, mode: $mode) {{
    campaign {{ {CAMPAIGN_FIELDS} }}
    {ERRORS}
  }}
}}
"""

REVERT = f"""
mutation($id: ID!, $version: Int!) {{
  campaignRevert(id: $id, version: $version) {{
    campaign {{ {CAMPAIGN_FIELDS} }}
    {ERRORS}
  }}
}}
"""

DRY_RUN = f"""
mutation($id: ID!, $email: String, $contactId: ID, $eventType: String, $eventContext: JSON,
         $version: Int) {{
  campaignDryRun(id: $id, contactEmail: $email, contactId: $contactId, eventType: $eventType,
                 eventContext: $eventContext, version: $version) {{
    versionNumber outcome reason endedAt
    steps {{ stepId action detail at }}
    {ERRORS}
  }}
}}
"""

NO_ID = "00000000-0000-0000-0000-000000000000"
_TRIGGER = {"type": "event", "events": ["order.placed"]}
_DEFINITION = {
    "trigger": _TRIGGER,
    "entry_step": "end",
    "steps": [{"id": "end", "type": "exit"}],
}

#: Every query, with variables naming nothing of any store.
QUERIES: list[tuple[str, dict[str, Any]]] = [
    (ME, {}),
    (CAMPAIGNS, {}),
    (TEMPLATES, {}),
    (CAMPAIGN, {"id": NO_ID}),
    (HISTORY, {"id": NO_ID}),
    (EXPORT, {"id": NO_ID}),
    (CONTACT_ENROLLMENTS, {"email": "ada@example.com"}),
]

#: Every mutation, with variables naming no campaign of any store, by name.
MUTATIONS: dict[str, tuple[str, dict[str, Any]]] = {
    "campaignCreateFromTemplate": (CREATE, {"key": "post_purchase"}),
    "campaignCreate": (CREATE_BLANK, {"name": "n", "trigger": _TRIGGER}),
    "campaignImport": (IMPORT, {"name": "n", "definition": _DEFINITION}),
    "campaignUpdateDraft": (UPDATE_DRAFT, {"id": NO_ID, "definition": _DEFINITION}),
    "campaignValidate": (VALIDATE, {"id": NO_ID}),
    "campaignPublish": (PUBLISH, {"id": NO_ID}),
    "campaignStop": (STOP, {"id": NO_ID, "mode": "DRAIN"}),
    "campaignRevert": (REVERT, {"id": NO_ID, "version": 1}),
    "campaignDryRun": (DRY_RUN, {"id": NO_ID, "email": "ada@example.com"}),
}
