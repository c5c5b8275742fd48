// What every module of the page shares: how it was opened, and the session's state.

export const params = new URLSearchParams(window.location.search);

/** Set when the Saleor Dashboard framed the page (`appUrl?saleorApiUrl=…`). */
export const saleorApiUrl = params.get("saleorApiUrl") || "";
export const inDashboard = saleorApiUrl !== "";

export const GRAPHQL_URL = new URL("graphql", document.baseURI).href;
export const MANAGE_PERMISSION = "MANAGE_USERS";

export const state = {
  /** The Dashboard's JWT (memory only) or the admin API token (also in sessionStorage). */
  token: null,
  /** May this user change things? A hint only: relance checks every mutation. */
  canManage: true,
  /** A mutation is running: other mutation buttons wait. */
  busy: false,
  locale: (params.get("locale") || navigator.language || "en").replace(/_/g, "-"),
};
