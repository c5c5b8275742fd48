"""GraphQL documents the tests send, written as the admin page would."""

CAMPAIGN_FIELDS = """
    id name status templateKey createdAt updatedAt
    publishedVersion { id number status publishedAt definition }
    draftVersion { id number status publishedAt definition }
    versions { number status }
    stats { enrolled active messagesSent }
"""

ME = "query { me { id apiUrl name status } }"

CAMPAIGNS = f"query {{ campaigns {{ {CAMPAIGN_FIELDS} }} }}"

CAMPAIGN = f"query($id: ID!) {{ campaign(id: $id) {{ {CAMPAIGN_FIELDS} }} }}"

TEMPLATES = "query { campaignTemplates { key name description } }"

CREATE = f"""
mutation($key: String!, $name: String) {{
  campaignCreateFromTemplate(templateKey: $key, name: $name) {{
    campaign {{ {CAMPAIGN_FIELDS} }}
    errors {{ field code message }}
  }}
}}
"""

PUBLISH = f"""
mutation($id: ID!) {{
  campaignPublish(id: $id) {{
    campaign {{ {CAMPAIGN_FIELDS} }}
    errors {{ field code message }}
  }}
}}
"""
