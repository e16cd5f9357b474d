import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { InfluxSettings } from '../../services/telemetry/influx-store.js';

/**
 * Debian's influxd 1.6.7 for the telemetry contract, since no InfluxDB 2 can run here (issue 13).
 * It serves InfluxQL on /query as 2.x does, but has no /api/v2/write: `v2WriteShim` maps the
 * client's /api/v2/write?bucket=db/rp&precision=… onto 1.x's /write?db=…&rp=…&precision=…, and
 * passes everything else through. Test-only: the hub speaks to a real 2.x without it.
 */
export const INFLUXD = '/usr/bin/influxd';

export function influxdAvailable(): string | undefined {
  if (spawnSync(INFLUXD, ['version']).status !== 0)
    return `${INFLUXD} not installed (apt-get install influxdb)`;
  return undefined;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export interface Influxd {
  /** Settings for InfluxStore through the shim. */
  settings: InfluxSettings;
  /** influxd's own HTTP address. */
  url: string;
  /** Kills influxd (SIGKILL): a store outage. */
  kill(): Promise<void>;
  /** Starts it again over the same data, on the same port. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startInfluxd(db = 'yizhan'): Promise<Influxd> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'yz-influxd-'));
  const [httpPort, rpcPort] = [await freePort(), await freePort()];
  const conf = path.join(dir, 'influxdb.conf');
  await fs.writeFile(
    conf,
    `reporting-disabled = true
bind-address = "127.0.0.1:${rpcPort}"
[meta]
  dir = "${dir}/meta"
[data]
  dir = "${dir}/data"
  wal-dir = "${dir}/wal"
  query-log-enabled = false
[http]
  bind-address = "127.0.0.1:${httpPort}"
  log-enabled = false
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
`,
  );
  const url = `http://127.0.0.1:${httpPort}`;
  let child: ChildProcess | undefined;
  const launch = async () => {
    child = spawn(INFLUXD, ['run', '-config', conf], { stdio: 'ignore' });
    const until = Date.now() + 20_000;
    for (;;) {
      const ok = await fetch(`${url}/ping`).then(
        (r) => r.status === 204,
        () => false,
      );
      if (ok) return;
      if (Date.now() > until) throw new Error('influxd did not start in 20 s');
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const kill = async () => {
    const c = child;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGKILL');
    });
  };
  await launch();
  await fetch(`${url}/query`, {
    method: 'POST',
    body: new URLSearchParams({ q: `create database ${db}` }),
  });
  const shim = await v2WriteShim(url);
  return {
    url,
    settings: { url: shim.url, token: 'test-token', org: 'test', bucket: `${db}/autogen` },
    kill,
    restart: launch,
    async stop() {
      await kill();
      await shim.close();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

const PRECISION: Record<string, string> = { ns: 'n', us: 'u', ms: 'ms', s: 's' };

/** /api/v2/write?bucket=db/rp&precision=… → /write?db=…&rp=…&precision=…; the rest unchanged. */
export async function v2WriteShim(target: string): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const inUrl = new URL(req.url ?? '/', 'http://shim');
    let out = inUrl.pathname + inUrl.search;
    if (inUrl.pathname === '/api/v2/write') {
      const [db, rp] = (inUrl.searchParams.get('bucket') ?? '').split('/');
      const q = new URLSearchParams({ db: db ?? '' });
      if (rp) q.set('rp', rp);
      q.set('precision', PRECISION[inUrl.searchParams.get('precision') ?? 'ns'] ?? 'n');
      out = `/write?${q}`;
    }
    const headers = { ...req.headers };
    delete headers.authorization;
    delete headers.host;
    const upstream = http.request(`${target}${out}`, { method: req.method, headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code: 'unavailable', message: 'influxd unreachable' }));
    });
    req.pipe(upstream);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/**
 * How often each device/seq is stored in influxd, read from the sub-millisecond part of each point's
 * time (influx-store.ts `nanos`). Times come as RFC 3339 text, since ns epochs exceed 2^53.
 */
export async function storedSeqs(influxd: Influxd): Promise<Map<string, number>> {
  const q = "select value from readings where metric = 'occupancy' group by device";
  const res = await fetch(`${influxd.url}/query?db=yizhan`, {
    method: 'POST',
    body: new URLSearchParams({ q }),
  });
  const body = (await res.json()) as {
    results: { series?: { tags: { device: string }; values: [string, number][] }[] }[];
  };
  const stored = new Map<string, number>();
  for (const s of body.results[0]?.series ?? []) {
    for (const [time] of s.values) {
      // RFC 3339 drops trailing zeros of the fraction: pad it back to nanoseconds.
      const frac = (/\.(\d+)Z$/.exec(time)?.[1] ?? '').padEnd(9, '0');
      const key = `${s.tags.device}/${Number(frac.slice(3))}`;
      stored.set(key, (stored.get(key) ?? 0) + 1);
    }
  }
  return stored;
}
