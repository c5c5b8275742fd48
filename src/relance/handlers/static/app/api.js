// relance's GraphQL API (docs/graphql.md): the documents the page sends and one fetch wrapper.

import { GRAPHQL_URL, inDashboard, saleorApiUrl, state } from "./context.js";

export class ApiError extends Error {
  constructor(kind, message, lines = []) {
    super(message);
    this.kind = kind; // "network" | "http" | "unauthenticated" | "forbidden" | "graphql"
    this.lines = lines;
  }
}

function authHeaders() {
  if (inDashboard) {
    // app-sdk src/app-bridge/fetch.ts sends the token as `authorization-bearer`; relance also
    // needs to know which store it is for.
    return { "authorization-bearer": state.token, "saleor-api-url": saleorApiUrl };
  }
  return { authorization: `Bearer ${state.token}` };
}

export async function gql(query, variables = {}) {
  let response;
  try {
    response = await fetch(GRAPHQL_URL, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json", ...authHeaders() },
      body: JSON.stringify({ query, variables }),
      credentials: "omit",
      cache: "no-store",
    });
  } catch {
    throw new ApiError("network", "relance could not be reached. Check the connection and try again.");
  }
  let body;
  try {
    body = await response.json();
  } catch {
    throw new ApiError("http", `relance answered ${response.status} ${response.statusText}`.trim());
  }
  const errors = Array.isArray(body?.errors) ? body.errors : [];
  if (errors.length) {
    const codes = errors.map((error) => error?.extensions?.code);
    const lines = errors.map((error) => ({
      field: Array.isArray(error?.path) ? error.path.join(".") : "",
      message: String(error?.message ?? "Unknown error"),
      code: error?.extensions?.code ? String(error.extensions.code) : "",
    }));
    if (codes.includes("UNAUTHENTICATED")) {
      throw new ApiError("unauthenticated", lines[0].message, lines);
    }
    if (codes.includes("FORBIDDEN")) throw new ApiError("forbidden", lines[0].message, lines);
    throw new ApiError("graphql", "relance could not answer this request.", lines);
  }
  if (!response.ok || !body?.data) {
    throw new ApiError("http", `relance answered ${response.status} ${response.statusText}`.trim());
  }
  return body.data;
}

// --- documents ----------------------------------------------------------------------------------

const ERRORS = "errors { field code message }";

export const PAGE_QUERY = `query AdminPage {
  me { id name apiUrl status }
  campaigns {
    id name status templateKey updatedAt category
    trigger { summary }
    publishedVersion { number publishedAt }
    draftVersion { number }
    versions { number status }
    stats { enrolled active messagesSent }
  }
  campaignTemplates { key name description }
}`;

export const CAMPAIGN_QUERY = `query CampaignPage($id: ID!) {
  campaign(id: $id) {
    id name status templateKey category createdAt updatedAt
    trigger { type summary events listId dateField hasConditions }
    publishedVersion { number publishedAt }
    draftVersion { number }
    versions { number status publishedAt unpublishedAt retiredAt }
    stats { enrolled active completed exited messagesSent }
  }
  campaignHistory(id: $id) { version { number } entered active completed exited }
  campaignExport(id: $id)
}`;

export const EXPORT_QUERY = `query ExportCampaign($id: ID!, $version: Int) {
  campaignExport(id: $id, version: $version)
}`;

const ENROLLMENT_FIELDS = `
  id campaignId campaignName versionNumber contactEmail status stepId wakeAt endReason
  enteredAt endedAt
  trace { at stepId action detail }`;

export const ENROLLMENTS_QUERY = `query CampaignEnrollments($id: ID!, $status: EnrollmentStatus,
    $first: Int!, $after: String, $traceLimit: Int!) {
  campaign(id: $id) {
    id
    enrollments(status: $status, first: $first, after: $after, traceLimit: $traceLimit) {
      edges { node { ${ENROLLMENT_FIELDS} } }
      pageInfo { hasNextPage endCursor }
    }
  }
}`;

export const CONTACT_ENROLLMENTS_QUERY = `query ContactEnrollments($email: String!,
    $status: EnrollmentStatus, $first: Int!, $after: String, $traceLimit: Int!) {
  contactEnrollments(email: $email, status: $status, first: $first, after: $after,
                     traceLimit: $traceLimit) {
    edges { node { ${ENROLLMENT_FIELDS} } }
    pageInfo { hasNextPage endCursor }
  }
}`;

export const CREATE_FROM_TEMPLATE = `mutation CreateCampaign($templateKey: String!, $name: String) {
  campaignCreateFromTemplate(templateKey: $templateKey, name: $name) {
    campaign { id name status }
    ${ERRORS}
  }
}`;

export const CREATE_BLANK = `mutation CreateBlankCampaign($name: String!, $trigger: JSON!) {
  campaignCreate(name: $name, trigger: $trigger) {
    campaign { id name status }
    ${ERRORS}
  }
}`;

export const IMPORT_CAMPAIGN = `mutation ImportCampaign($name: String!, $definition: JSON!) {
  campaignImport(name: $name, definition: $definition) {
    campaign { id name status draftVersion { number } }
    ${ERRORS}
  }
}`;

export const UPDATE_DRAFT = `mutation SaveDraft($id: ID!, $definition: JSON!, $name: String) {
  campaignUpdateDraft(id: $id, definition: $definition, name: $name) {
    campaign { id name draftVersion { number } }
    violations { field code message }
    ${ERRORS}
  }
}`;

export const VALIDATE_DRAFT = `mutation ValidateDraft($id: ID!) {
  campaignValidate(id: $id) {
    valid
    violations { field code message }
    ${ERRORS}
  }
}`;

export const PUBLISH = `mutation PublishCampaign($id: ID!, $mode: CampaignReleaseMode!) {
  campaignPublish(id: $id, mode: $mode) {
    campaign { id name status publishedVersion { number } }
    ${ERRORS}
  }
}`;

export const STOP = `mutation StopCampaign($id: ID!, $mode: CampaignReleaseMode!) {
  campaignStop(id: $id, mode: $mode) {
    campaign { id name status }
    ${ERRORS}
  }
}`;

export const REVERT = `mutation RevertCampaign($id: ID!, $version: Int!) {
  campaignRevert(id: $id, version: $version) {
    campaign { id name draftVersion { number } }
    ${ERRORS}
  }
}`;

export const DRY_RUN = `mutation DryRun($id: ID!, $contactEmail: String, $eventType: String,
    $version: Int) {
  campaignDryRun(id: $id, contactEmail: $contactEmail, eventType: $eventType, version: $version) {
    versionNumber outcome reason endedAt
    steps { stepId action detail at }
    ${ERRORS}
  }
}`;
