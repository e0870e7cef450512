// The public HTTP API as the Studio pages use it: the stored credential, bearer requests,
// problem+json errors and access-token refresh. No framework, no build step.

const STORE = "pingvas.credential";
const REFRESH_MARGIN_MS = 30_000;

/** An API failure: HTTP status plus the problem document's stable code and detail. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.code = problem.code || (status === 0 ? "network_error" : `http_${status}`);
    this.problem = problem;
  }
}

/**
 * The stored credential: {kind: "api_key", apiKey} or {kind: "jwt", accessToken, refreshToken, expiresAt}.
 * Kept in localStorage so the Studio and the operator view share a sign-in; "Sign out" removes it.
 */
export const credential = {
  load() {
    try {
      return JSON.parse(localStorage.getItem(STORE) || "null");
    } catch {
      return null;
    }
  },
  save(value) {
    localStorage.setItem(STORE, JSON.stringify(value));
  },
  clear() {
    localStorage.removeItem(STORE);
  },
};

let refreshing = null;

/** The bearer credential to send now, refreshing an access token that is about to expire. */
export async function bearer() {
  const current = credential.load();
  if (!current) {
    return null;
  }
  if (current.kind === "jwt" && current.refreshToken && current.expiresAt - Date.now() < REFRESH_MARGIN_MS) {
    await refresh();
    return credential.load()?.accessToken ?? null;
  }
  return current.kind === "jwt" ? current.accessToken : current.apiKey;
}

/** Trades the refresh token for a new pair (once at a time; refresh tokens are single use). */
export function refresh() {
  if (!refreshing) {
    refreshing = (async () => {
      const current = credential.load();
      if (!current || current.kind !== "jwt" || !current.refreshToken) {
        throw new ApiError(401, { code: "unauthorized", detail: "Please sign in again." });
      }
      const tokens = await request("/v1/auth/token", {
        method: "POST", auth: false, body: { grant_type: "refresh_token", refresh_token: current.refreshToken },
      });
      credential.save(jwtCredential(tokens));
    })().finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

function jwtCredential(tokens) {
  return {
    kind: "jwt", accessToken: tokens.access_token, refreshToken: tokens.refresh_token,
    expiresAt: Date.now() + (tokens.expires_in || 900) * 1000,
  };
}

/**
 * Calls the API: JSON in and out, the bearer credential added, problem+json turned into ApiError.
 * A 401 with a refresh token refreshes once and retries.
 */
export async function request(path, { method = "GET", body, auth = true, retried = false } = {}) {
  const headers = { Accept: "application/json, application/problem+json" };
  if (auth) {
    const token = await bearer();
    if (token) {
      headers.Authorization = `Bearer ${token}`;
    }
  }
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
  }
  let response;
  try {
    response = await fetch(path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit", cache: "no-store",
    });
  } catch (err) {
    throw new ApiError(0, { title: "Network error", detail: "The server could not be reached." });
  }
  if (response.status === 401 && auth && !retried && credential.load()?.refreshToken) {
    await refresh();
    return request(path, { method, body, auth, retried: true });
  }
  if (response.status === 204) {
    return null;
  }
  const text = await response.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!response.ok) {
    throw new ApiError(response.status, json && typeof json === "object" ? json : { title: response.statusText });
  }
  return json;
}

/** Signs in with email and password against user-service (absent in the bare dev stack: 404). */
export async function signInWithPassword(email, password) {
  try {
    const tokens = await request("/v1/auth/token", {
      method: "POST", auth: false, body: { grant_type: "password", email, password },
    });
    credential.save(jwtCredential(tokens));
  } catch (err) {
    if (err.status === 404 || err.status === 405) {
      throw new ApiError(err.status, {
        code: "sign_in_unavailable", detail: "Email sign-in is not available on this server; paste an API key instead.",
      });
    }
    throw err;
  }
}

/** Stores an API key after checking that the API accepts it. */
export async function signInWithApiKey(apiKey) {
  const previous = credential.load();
  credential.save({ kind: "api_key", apiKey: apiKey.trim() });
  try {
    await request("/v1/generations?limit=1");
  } catch (err) {
    if (previous) {
      credential.save(previous);
    } else {
      credential.clear();
    }
    throw err;
  }
}

/** Logs out: revokes the refresh token when there is one, then forgets the credential. */
export async function signOut() {
  const current = credential.load();
  credential.clear();
  if (current?.kind === "jwt" && current.refreshToken) {
    try {
      await request("/v1/auth/revoke", { method: "POST", auth: false, body: { refresh_token: current.refreshToken } });
    } catch {
      // Best effort: the credential is gone from this browser either way.
    }
  }
}

/** The caller's account (tier, roles) from user-service, or null where there is none. */
export async function me() {
  try {
    return await request("/v1/me");
  } catch (err) {
    if (err.status === 404 || err.status === 405) {
      return null;
    }
    throw err;
  }
}

/** A readable one-line message for any error. */
export function describe(err) {
  if (err instanceof ApiError) {
    const fields = (err.problem.errors || []).map((e) => `${e.pointer || ""} ${e.detail || ""}`.trim());
    return [err.message, ...fields].filter(Boolean).join(" — ");
  }
  return err?.message || String(err);
}
