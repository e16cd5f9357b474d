import type { ApiError } from '../../contract/index.js';

/**
 * The one way the dashboard and the booking page call the hub, and the one error type they get
 * back. Kept apart from ./api.ts so the booking page bundles nothing else of the staff app.
 */

/** Thrown for a non-2xx reply or a network failure; `body.code` is the translatable code. */
export class ApiRequestError extends Error {
  constructor(
    readonly status: number,
    readonly body: ApiError,
  ) {
    super(body.message || body.code);
    this.name = 'ApiRequestError';
  }
}

function isApiError(v: unknown): v is ApiError {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as ApiError).code === 'string' &&
    typeof (v as ApiError).message === 'string'
  );
}

/** One same-origin JSON call; resolves to the parsed body (undefined for 204 or non-JSON). */
export async function request<T>(
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      credentials: 'same-origin',
      // The hub refuses a write that is neither JSON nor marked as a script's (issue 8, CSRF).
      headers: {
        ...(body === undefined ? { accept: 'application/json' } : { 'content-type': 'application/json' }),
        ...(method === 'GET' ? {} : { 'x-requested-with': 'fetch' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new ApiRequestError(0, { code: 'NETWORK', message: String(err) });
  }
  const data: unknown = res.status === 204 ? undefined : await res.json().catch(() => undefined);
  if (!res.ok) {
    throw new ApiRequestError(
      res.status,
      isApiError(data) ? data : { code: `HTTP_${res.status}`, message: res.statusText },
    );
  }
  return data as T;
}

/** The translatable code of anything thrown; unknown errors count as network failures. */
export function errorCode(err: unknown): string {
  return err instanceof ApiRequestError ? err.body.code : 'NETWORK';
}

/** The fields the server named in a VALIDATION reply (`body.siteIds.0` and the like). */
export function errorFields(err: unknown): NonNullable<ApiError['fields']> {
  return err instanceof ApiRequestError ? (err.body.fields ?? []) : [];
}
