import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SKIP = new Set(['node_modules', 'dist', '.git', 'results', '.demo-data', 'data']);

function sources(dir: string): string[] {
  return fs.readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) return SKIP.has(e.name) ? [] : sources(rel);
    return /\.(ts|vue)$/.test(e.name) && !e.name.endsWith('.d.ts') ? [rel] : [];
  });
}

/** Every module specifier a file imports or re-exports, static or dynamic. */
function specifiers(file: string): string[] {
  const text = fs.readFileSync(path.join(root, file), 'utf8');
  const found: string[] = [];
  for (const m of text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm)) {
    found.push(m[1]!);
  }
  return found;
}

/** The top-level folder a relative import lands in, or undefined for a package. */
function targetFolder(file: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  return path.normalize(path.join(path.dirname(file), spec)).split(path.sep)[0];
}

function violations(folder: string, allowed: (target: string, file: string) => boolean): string[] {
  return sources(folder).flatMap((file) =>
    specifiers(file)
      .map((spec) => [spec, targetFolder(file, spec)] as const)
      .filter(([, target]) => target !== undefined && !allowed(target, file))
      .map(([spec]) => `${file} imports ${spec}`),
  );
}

/**
 * Arrows point down to contract/: it is the one thing every tier shares, so it imports nothing of
 * ours; the broker depends on interfaces it owns, not on services; the dashboard runs in a browser
 * and knows the hub only through the contract.
 */
describe('layering', () => {
  it('finds the import statements it checks', () => {
    expect(specifiers('services/hub-broker.ts')).toContain('../broker/broker.js');
    expect(targetFolder('dashboard/src/api.ts', '../../contract/index.js')).toBe('contract');
  });

  it('contract/ imports nothing outside itself', () => {
    expect(violations('contract', (t) => t === 'contract')).toEqual([]);
  });

  it('broker/ imports only contract/', () => {
    expect(violations('broker', (t) => t === 'broker' || t === 'contract')).toEqual([]);
  });

  it('dashboard/ imports only contract/', () => {
    expect(violations('dashboard', (t) => t === 'dashboard' || t === 'contract')).toEqual([]);
  });

  it('services/ import neither the dashboard nor the devices', () => {
    expect(violations('services', (t) => !['dashboard', 'devices', 'tests', 'bench'].includes(t))).toEqual(
      [],
    );
  });

  it('devices/ (simulator, firmware) import only contract/, but for the demo that runs a hub', () => {
    expect(
      violations(
        'devices',
        (t, file) => t === 'devices' || t === 'contract' || /^devices\/demo[^/]*\.ts$/.test(file),
      ),
    ).toEqual([]);
  });
});
