/** Calls to the IOC API with the key of this tab, and its errors as one class. */

import type { Problem } from "./types";

const KEY_STORAGE = "ioc-board-key";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem | null,
    readonly retryAfter: number | null = null,
  ) {
    super(problem?.detail ?? problem?.title ?? `HTTP ${status}`);
  }
}

export function storedKey(): string | null {
  try {
    return sessionStorage.getItem(KEY_STORAGE);
  } catch {
    return null;
  }
}

export function storeKey(key: string | null): void {
  try {
    if (key) sessionStorage.setItem(KEY_STORAGE, key);
    else sessionStorage.removeItem(KEY_STORAGE);
  } catch {
    // Storage refused: the key lives in memory only (see `memoryKey`).
  }
  memoryKey = key;
}

let memoryKey: string | null = storedKey();

export function currentKey(): string | null {
  return memoryKey;
}

/** Called on a 401 anywhere: the key is no longer good, back to the sign-in panel. */
let onUnauthorized: () => void = () => undefined;

export function setUnauthorizedHandler(handler: () => void): void {
  onUnauthorized = handler;
}

export function authHeaders(): Record<string, string> {
  const key = currentKey();
  return key ? { Authorization: `Bearer ${key}` } : {};
}

async function problemOf(response: Response): Promise<Problem | null> {
  try {
    const body: unknown = await response.json();
    return body && typeof body === "object" ? (body as Problem) : null;
  } catch {
    return null;
  }
}

export async function raiseFor(response: Response): Promise<void> {
  if (response.ok) return;
  const retry = Number(response.headers.get("Retry-After"));
  const error = new ApiError(
    response.status,
    await problemOf(response),
    Number.isFinite(retry) && retry > 0 ? retry : null,
  );
  if (response.status === 401) onUnauthorized();
  throw error;
}

/** GET or POST a JSON resource of the API. */
export async function api<T>(
  path: string,
  init: { method?: string; body?: unknown; signal?: AbortSignal } = {},
): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json", ...authHeaders() };
  if (init.body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method: init.method ?? "GET",
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
    signal: init.signal,
    cache: "no-store",
    credentials: "omit",
  });
  await raiseFor(response);
  return (await response.json()) as T;
}

export function query(params: Record<string, string | number | null | undefined>): string {
  const q = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== "") q.set(name, String(value));
  }
  const text = q.toString();
  return text ? `?${text}` : "";
}
