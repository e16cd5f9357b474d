import { z } from 'zod';
import { apiError, type DeviceInput, provisionedDevice, type SiteInput } from '../contract/index.js';
import type { FleetDevice } from './simulator/fleet.js';

/**
 * Registers sites and devices with the hub's HTTP API and collects each device's MQTT secret.
 * Safe to run again: existing sites are kept, existing devices get a fresh secret (the hub keeps
 * only a hash, so rotating is the only way to learn one again).
 */

export interface Credentials {
  username: string;
  password: string;
}

export interface ProvisionOptions {
  /** Parallel device requests; the hub hashes each new secret, so keep this small. */
  concurrency?: number;
  log?: (line: string) => void;
}

/** A refused request, with the API's own error code so callers can branch on it. */
export class HubApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields?: { path: string; message: string }[],
  ) {
    super(message);
    this.name = 'HubApiError';
  }
}

const rotated = z.object({ secret: z.string().min(1) });

export async function provisionFleet(
  baseUrl: string,
  credentials: Credentials,
  sites: SiteInput[],
  devicesPerSite: (site: SiteInput) => DeviceInput[],
  opts: ProvisionOptions = {},
): Promise<FleetDevice[]> {
  const api = new HubClient(baseUrl.replace(/\/+$/, ''));
  await api.login(credentials);
  const log = opts.log ?? (() => {});
  const jobs: (() => Promise<FleetDevice>)[] = [];
  let createdSites = 0;
  for (const site of sites) {
    const res = await api.call('POST', '/api/sites', site);
    if (res.status === 201 || res.status === 200) createdSites++;
    else if (!(res.status === 409 && res.error?.code === 'SITE_EXISTS'))
      throw api.fail('POST', '/api/sites', res);
    for (const device of devicesPerSite(site)) jobs.push(() => provisionDevice(api, site, device));
  }
  const fleet = await mapLimit(jobs, opts.concurrency ?? 4);
  log(`provisioned ${sites.length} sites (${createdSites} new) and ${fleet.length} devices`);
  return fleet;
}

async function provisionDevice(api: HubClient, site: SiteInput, device: DeviceInput): Promise<FleetDevice> {
  const path = `/api/sites/${encodeURIComponent(site.id)}/devices`;
  const res = await api.call('POST', path, device);
  let secret: string;
  if (res.status === 201 || res.status === 200) {
    secret = api.parse(provisionedDevice, 'POST', path, res).secret;
  } else if (res.status === 409 && res.error?.code === 'DEVICE_EXISTS') {
    const rotatePath = `/api/devices/${encodeURIComponent(device.id)}/rotate-secret`;
    const again = await api.call('POST', rotatePath);
    if (again.status !== 200 && again.status !== 201) throw api.fail('POST', rotatePath, again);
    secret = api.parse(rotated, 'POST', rotatePath, again).secret;
  } else {
    throw api.fail('POST', path, res);
  }
  return {
    siteId: site.id,
    deviceId: device.id,
    kind: device.kind,
    secret,
    seats: site.seats,
    openingHours: site.openingHours,
  };
}

interface Reply {
  status: number;
  body: unknown;
  error: z.infer<typeof apiError> | null;
}

class HubClient {
  private cookie = '';
  constructor(private readonly base: string) {}

  async login(credentials: Credentials) {
    const res = await this.send('POST', '/api/auth/login', credentials);
    if (!res.ok) throw this.fail('POST', '/api/auth/login', await this.reply(res));
    const session = res.headers.getSetCookie().find((c) => c.startsWith('yz_session='));
    if (!session)
      throw new HubApiError(res.status, 'NO_SESSION', 'login succeeded but set no yz_session cookie');
    this.cookie = session.split(';')[0]!;
  }

  async call(method: string, path: string, body?: unknown): Promise<Reply> {
    return this.reply(await this.send(method, path, body));
  }

  parse<T>(schema: z.ZodType<T>, method: string, path: string, res: Reply): T {
    const parsed = schema.safeParse(res.body);
    if (parsed.success) return parsed.data;
    throw new HubApiError(
      res.status,
      'BAD_REPLY',
      `${method} ${path}: unexpected reply: ${parsed.error.message}`,
    );
  }

  fail(method: string, path: string, res: Reply): HubApiError {
    const code = res.error?.code ?? `HTTP_${res.status}`;
    const detail = res.error?.message ?? JSON.stringify(res.body)?.slice(0, 300) ?? '';
    const fields = res.error?.fields?.map((f) => `${f.path}: ${f.message}`).join('; ');
    const message = `${method} ${path} → ${res.status} ${code}: ${detail}${fields ? ` (${fields})` : ''}`;
    return new HubApiError(res.status, code, message, res.error?.fields);
  }

  private async send(method: string, path: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = {};
    // No content-type without a body: Fastify refuses an empty JSON body.
    if (body !== undefined) headers['content-type'] = 'application/json';
    // The hub refuses a bodiless write without it: a browser form could not send it (CSRF).
    else if (method !== 'GET') headers['x-requested-with'] = 'yizhan-devices';
    if (this.cookie) headers.cookie = this.cookie;
    try {
      return await fetch(this.base + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (err as Error).message;
      throw new HubApiError(0, 'UNREACHABLE', `cannot reach the hub at ${this.base}: ${why}`);
    }
  }

  private async reply(res: Response): Promise<Reply> {
    const text = await res.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      // Not JSON (a proxy's HTML page, say): keep the text for the error message.
    }
    const error = res.ok ? null : (apiError.safeParse(body).data ?? null);
    return { status: res.status, body, error };
  }
}

async function mapLimit<T>(jobs: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  return results;
}
