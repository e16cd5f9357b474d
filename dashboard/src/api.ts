import type { ApiError, Site, SiteLive, User } from '../../services/api/schemas.js';

/** Thrown by every helper here for a non-2xx reply or a network failure; `body.code` is translatable. */
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

async function request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: body === undefined ? { accept: 'application/json' } : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new ApiRequestError(0, { code: 'NETWORK', message: String(err) });
  }
  if (res.status === 204) return undefined as T;
  const data: unknown = await res.json().catch(() => undefined);
  if (!res.ok) {
    throw new ApiRequestError(
      res.status,
      isApiError(data) ? data : { code: `HTTP_${res.status}`, message: res.statusText },
    );
  }
  return data as T;
}

export const api = {
  login: (username: string, password: string) =>
    request<{ user: User }>('POST', '/api/auth/login', { username, password }).then((r) => r.user),
  logout: () => request<void>('POST', '/api/auth/logout'),
  /** Resolves to null when there is no valid session. */
  me: () =>
    request<{ user: User }>('GET', '/api/auth/me').then(
      (r) => r.user,
      (err: unknown) => {
        if (err instanceof ApiRequestError && err.status === 401) return null;
        throw err;
      },
    ),
  sites: () => request<{ sites: Site[] }>('GET', '/api/sites').then((r) => r.sites),
  live: () => request<{ live: SiteLive[]; staleAfterMs: number; serverTime: number }>('GET', '/api/live'),
};

/** The translatable code of anything thrown; unknown errors count as network failures. */
export function errorCode(err: unknown): string {
  return err instanceof ApiRequestError ? err.body.code : 'NETWORK';
}
