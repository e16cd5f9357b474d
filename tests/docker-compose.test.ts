import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..');

/** `docker compose` (the plugin) or Debian's `docker-compose`, whichever is installed. */
function composeCommand(): string[] | undefined {
  for (const cmd of [['docker', 'compose'], ['docker-compose']]) {
    const r = spawnSync(cmd[0]!, [...cmd.slice(1), 'version'], { encoding: 'utf8' });
    if (r.status === 0) return cmd;
  }
  return undefined;
}

const compose = composeCommand();
if (!compose)
  console.log('docker-compose.yml not validated: neither `docker compose` nor `docker-compose` is installed');

/** The file as compose resolves it (anchors, defaults, profiles); nothing is built or started. */
function config(...args: string[]): string {
  const [cmd, ...pre] = compose!;
  const r = spawnSync(cmd!, [...pre, ...args, 'config'], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env },
  });
  if (r.status !== 0) throw new Error(`compose config failed: ${r.stderr}`);
  return r.stdout;
}

/**
 * Services and their profiles, read from the resolved YAML (compose v1 lists every service whatever
 * the profile; v2 only the active ones).
 */
function services(yaml: string): Map<string, string[]> {
  const section = /^services:\n([\s\S]*?)(?=^\S|$(?![\s\S]))/m.exec(yaml)?.[1] ?? '';
  const found = new Map<string, string[]>();
  for (const block of section.split(/^(?= {2}[\w-]+:$)/m)) {
    const name = /^ {2}([\w-]+):$/m.exec(block)?.[1];
    if (!name) continue;
    const profiles = /^ {4}profiles:\n((?: {4,}- .*\n)+)/m.exec(block)?.[1] ?? '';
    found.set(
      name,
      [...profiles.matchAll(/- (\S+)/g)].map((m) => m[1]!),
    );
  }
  return found;
}

describe.skipIf(!compose)('docker-compose.yml', () => {
  it('runs the single embedded hub by default, everything else only in the cluster profile', () => {
    const all = services(config());
    const always = [...all].filter(([, profiles]) => profiles.length === 0).map(([name]) => name);
    expect(always).toEqual(['hub']);
    expect([...all.values()].every((p) => p.length === 0 || p.join() === 'cluster')).toBe(true);
  }, 60_000);

  it('runs two hubs on PostgreSQL, InfluxDB and Redis behind HAProxy in the cluster profile', () => {
    const yaml = config('--profile', 'cluster');
    expect([...services(yaml).keys()].sort()).toEqual(
      ['hub', 'hub-a', 'hub-b', 'influxdb', 'lb', 'postgres', 'redis'].sort(),
    );
    for (const image of ['postgres:15', 'influxdb:2.7', 'redis:7', 'haproxy:2.8'])
      expect(yaml).toContain(image);
    expect(yaml.match(/REDIS_URL: redis:\/\/redis:6379/g)).toHaveLength(2);
    expect(yaml.match(/\/readyz/g)?.length).toBeGreaterThanOrEqual(2);
    for (const v of ['hub-a-data', 'hub-b-data', 'postgres-data', 'influxdb-data', 'redis-data']) {
      expect(yaml).toContain(v);
    }
  }, 60_000);
});
