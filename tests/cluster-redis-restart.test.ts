import { describe, expect, it } from 'vitest';
import type { SiteLive } from '../contract/index.js';
import { topicFor } from '../contract/index.js';
import { type ClusterHub, clusterServicesMissing, startCluster, startRedis } from './helpers/cluster.js';
import { connectDevice, eventually, liveClient, provision, siteFixture } from './helpers/hub.js';
import { cleanupAfterAll } from './helpers/hub-process.js';

const missing = await clusterServicesMissing();
if (missing) console.log(`cluster tests skipped: ${missing}`);

const SITE = 'rr-1';

interface Readiness {
  ok: boolean;
  parts: Record<string, boolean>;
  outages?: { part: string; from: number; to: number | null }[];
}

const readyz = async (h: ClusterHub) => {
  const res = await fetch(`${h.url}/readyz`);
  return { status: res.status, body: (await res.json()) as Readiness };
};

describe.skipIf(missing !== undefined)('Redis restarted under two hubs', () => {
  const cleanup = cleanupAfterAll();

  it('the hubs carry on once it is back, and /readyz says what was down meanwhile', async () => {
    // Its own redis-server: restarting the machine's would break every other test using it.
    const redis = await startRedis(cleanup);
    const [a, b] = (await startCluster(cleanup, { redisUrl: redis.url })).hubs as [ClusterHub, ClusterHub];
    await a.api.json('POST', '/api/sites', siteFixture(SITE));
    const d = await provision(a.api, SITE, 'rr-count', 'occupancy_counter');
    const device = await connectDevice(a.mqttUrl, 'rr-count', d.secret, {
      clean: false,
      reconnectPeriod: 200,
    });
    cleanup.push(() => device.endAsync(true));
    const live = liveClient(b.url, b.api.cookie);
    cleanup.push(async () => live.close());
    // What the dashboard shows: the snapshot, then the deltas. The snapshot is awaited before the
    // first reading, so that reading must come as a delta relayed from A. Once this test read
    // deltas only and did not wait: when B's socket handshake ended after the reading had reached
    // B's live state, it was in the snapshot alone and the test waited in vain (traced: PUBACK at
    // 31 ms, socket connected at 39 ms with occupancy 2 in its snapshot).
    const seen: SiteLive[] = [];
    live.on('sites', (ls) => seen.push(...ls));
    const snapshot = await new Promise<{ live: SiteLive[] }>((resolve) => live.once('snapshot', resolve));
    expect(snapshot.live.find((s) => s.siteId === SITE)?.occupancy ?? null).toBeNull();
    const send = (seq: number, occupancy: number) =>
      device.publishAsync(
        topicFor(SITE, 'rr-count', 'telemetry'),
        JSON.stringify({ readings: [{ seq, ts: Date.now(), values: { occupancy } }] }),
        { qos: 1 },
      );
    await send(1, 2);
    await eventually(() => seen.find((s) => s.siteId === SITE && s.occupancy === 2), 20_000);
    expect((await readyz(a)).body).toMatchObject({ ok: true, parts: { redis: true } });

    await redis.stop();
    const down = await eventually(async () => {
      const r = await readyz(b);
      return r.status === 503 ? r.body : undefined;
    }, 20_000);
    expect(down.parts.redis).toBe(false);
    // Readings are still taken and acknowledged: their path does not touch Redis.
    await send(2, 3);

    await redis.start();
    for (const h of [a, b]) {
      const back = await eventually(async () => {
        const r = await readyz(h);
        return r.status === 200 ? r.body : undefined;
      }, 30_000);
      expect(back.parts.redis).toBe(true);
      expect(back.outages).toEqual([expect.objectContaining({ part: 'redis', to: expect.any(Number) })]);
    }
    // Live updates flow between the hubs again.
    await send(3, 4);
    await eventually(() => seen.find((s) => s.siteId === SITE && s.occupancy === 4), 30_000);
  }, 240_000);
});
