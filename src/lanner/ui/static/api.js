// The REST API, as the UI calls it: JSON in and out, Kestra's error JSON turned
// into an ApiError whose message is the server's (it says what to fix).
export const API = "/api/v1/main";

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export function query(params) {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === "") continue;
    for (const v of Array.isArray(value) ? value : [value]) q.append(key, v);
  }
  const text = q.toString();
  return text ? "?" + text : "";
}

export async function call(path, { method = "GET", body, headers = {}, params = {} } = {}) {
  const resp = await fetch(API + path + query(params), { method, body, headers });
  const text = await resp.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!resp.ok) {
    const message = data && typeof data === "object" && data.message ? data.message : `${resp.status} ${resp.statusText}`;
    throw new ApiError(resp.status, message);
  }
  return data;
}

export const yaml = (path, method, source) =>
  call(path, { method, body: source, headers: { "Content-Type": "application/x-yaml" } });
