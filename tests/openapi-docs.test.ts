import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { deviceKinds, TOPIC_PREFIX, telemetrySchemas } from '../contract/index.js';
import { testHub } from './helpers/hub.js';

/** Operations anyone may call; every other one must declare the session cookie. */
const PUBLIC = [
  /^GET \/healthz$/,
  /^GET \/readyz$/,
  /^GET \/api\/config$/,
  /^POST \/api\/auth\/(login|logout)$/,
  /^(GET|POST) \/api\/public\//,
];

interface Operation {
  summary?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  responses?: Record<string, unknown>;
}
interface OpenApi {
  info: { description?: string };
  components: { securitySchemes?: Record<string, { type: string; in?: string; name?: string }> };
  paths: Record<string, Record<string, Operation>>;
}

/** Every `$ref` in `doc` that does not point at something in it. */
function danglingRefs(doc: unknown): string[] {
  const out: string[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k === '$ref' && typeof x === 'string') {
          const target = x
            .slice(2)
            .split('/')
            .reduce<unknown>((o, key) => (o as Record<string, unknown> | undefined)?.[key], doc);
          if (target === undefined) out.push(x);
        } else walk(x);
      }
    }
  };
  walk(doc);
  return out;
}

describe('/docs: the API described, and the MQTT side beside it (issue 8 item 16)', () => {
  let hub: Awaited<ReturnType<typeof testHub>>;
  let doc: OpenApi;
  let operations: [string, Operation][];

  beforeAll(async () => {
    hub = await testHub();
    doc = (await (await fetch(`${hub.httpUrl}/docs/json`)).json()) as OpenApi;
    operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([m, op]) => [`${m.toUpperCase()} ${path}`, op] as [string, Operation]),
    );
  });
  afterAll(async () => hub?.close());

  it('describes the API and the cookie login as a security scheme', () => {
    expect(doc.info.description).toMatch(/CSRF_REFUSED/);
    expect(doc.info.description).toContain('/docs/asyncapi.json');
    expect(danglingRefs(doc)).toEqual([]);
    expect(doc.components.securitySchemes?.session).toEqual(
      expect.objectContaining({ type: 'apiKey', in: 'cookie', name: 'yz_session' }),
    );
  });

  it('gives every operation a summary, tags and its error responses', () => {
    expect(operations.length).toBeGreaterThan(40);
    const missing = operations
      .filter(
        ([, op]) =>
          !op.summary?.trim() ||
          !op.tags?.length ||
          !Object.keys(op.responses ?? {}).some((code) => Number(code) >= 400),
      )
      .map(([name]) => name);
    expect(missing).toEqual([]);
  });

  it('marks exactly the staff operations as needing the session, with 401 among their answers', () => {
    const wrong = operations
      .filter(([name, op]) => {
        const secured = (op.security ?? []).some((s) => 'session' in s);
        const isPublic = PUBLIC.some((p) => p.test(name));
        return secured === isPublic || (secured && !op.responses?.['401']);
      })
      .map(([name]) => name);
    expect(wrong).toEqual([]);
  });

  it('serves an AsyncAPI 3 document generated from the device contract', async () => {
    const res = await fetch(`${hub.httpUrl}/docs/asyncapi.json`);
    expect(res.status).toBe(200);
    const api = (await res.json()) as {
      asyncapi: string;
      servers: Record<string, { host: string; protocol: string }>;
      channels: Record<string, { address: string; messages: Record<string, unknown> }>;
      operations: Record<string, { action: string; channel: { $ref: string } }>;
      components: { messages: Record<string, { payload: unknown }> };
    };
    expect(api.asyncapi).toBe('3.0.0');
    expect(api.servers.tcp).toMatchObject({
      protocol: 'mqtt',
      host: `127.0.0.1:${new URL(hub.mqttUrl).port}`,
    });
    expect(Object.values(api.channels).map((c) => c.address)).toEqual(
      ['telemetry', 'event', 'status', 'cmd'].map((c) => `${TOPIC_PREFIX}/{siteId}/{deviceId}/${c}`),
    );
    for (const kind of Object.keys(deviceKinds)) {
      expect(api.channels.telemetry?.messages).toHaveProperty([`${kind}.telemetry`]);
      expect(api.channels.event?.messages).toHaveProperty([`${kind}.event`]);
    }
    const { $schema: _, ...occupancy } = z.toJSONSchema(telemetrySchemas.occupancy_counter, {
      target: 'draft-7',
    });
    expect(api.components.messages['occupancy_counter.telemetry']?.payload).toEqual(occupancy);
    expect(Object.values(api.operations).map((o) => o.action)).toEqual(['send', 'send', 'send', 'receive']);
    expect(danglingRefs(api)).toEqual([]);
  });
});
