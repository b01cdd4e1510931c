// The API client: the token as a bearer header, the error envelope turned into words.

let token = null;
let onUnauthorized = () => {};

export function useToken(value) {
  token = value;
}

/** Called when a request made with the session's token answers 401 (revoked, expired). */
export function whenUnauthorized(callback) {
  onUnauthorized = callback;
}

export class ApiError extends Error {
  constructor(status, code, message, details = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }

  /** The message, plus what a validation error says about each field. */
  get words() {
    const errors = this.details?.errors;
    if (!Array.isArray(errors) || errors.length === 0) return this.message;
    const lines = errors.map((e) => (e.field ? `${e.field}: ${e.message}` : e.message));
    return `${this.message}: ${lines.join("; ")}`;
  }
}

function url(path, query) {
  const target = new URL(path.startsWith("/health") ? path : `/api/v1${path}`, location.origin);
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value === null || value === undefined || value === "") continue;
    for (const item of Array.isArray(value) ? value : [value]) target.searchParams.append(name, item);
  }
  return target;
}

/**
 * One request; resolves to the envelope's `data`, rejects with an ApiError whose message is the
 * API's own. `options.token` checks a token other than the session's (signing in).
 */
export async function api(path, { method = "GET", query, body, token: explicit } = {}) {
  const headers = { Accept: "application/json" };
  const bearer = explicit ?? token;
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(url(path, query), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
    });
  } catch {
    throw new ApiError(0, "network_error", "The server could not be reached; check the connection and try again.");
  }
  const raw = await response.text();
  let json = null;
  try {
    json = raw ? JSON.parse(raw) : null;
  } catch {
    json = null;
  }
  if (!response.ok) {
    const error = json?.error ?? {};
    const failure = new ApiError(
      response.status,
      error.code ?? `http_${response.status}`,
      error.message ?? `The server answered ${response.status} ${response.statusText}`.trim(),
      error.details ?? {},
    );
    if (response.status === 401 && explicit === undefined && bearer) onUnauthorized(failure);
    throw failure;
  }
  return json?.data ?? json;
}

/** Every item of a paged list (`?limit=&startingAfter=`), up to `max` items. */
export async function listAll(path, query = {}, { idOf = (item) => item.id, max = 10000 } = {}) {
  const items = [];
  let after;
  for (;;) {
    const page = await api(path, { query: { limit: 1000, ...query, startingAfter: after } });
    items.push(...page.items);
    if (!page.hasMore || page.items.length === 0 || items.length >= max) return items;
    after = idOf(page.items[page.items.length - 1]);
  }
}
