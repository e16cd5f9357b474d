/**
 * One same-origin JSON call, shared by ./api.ts (staff app) and ./appointments/api.ts (also the
 * booking page, which must bundle nothing else of the staff app). Rejects only when the request
 * cannot be made; any HTTP status resolves, with the parsed body (undefined for none or non-JSON).
 */
export async function sendJson(
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<{ res: Response; data: unknown }> {
  const res = await fetch(path, {
    method,
    credentials: 'same-origin',
    // The hub refuses a write that is neither JSON nor marked as a script's (issue 8, CSRF).
    headers: {
      ...(body === undefined ? { accept: 'application/json' } : { 'content-type': 'application/json' }),
      ...(method === 'GET' ? {} : { 'x-requested-with': 'fetch' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data: unknown = res.status === 204 ? undefined : await res.json().catch(() => undefined);
  return { res, data };
}
