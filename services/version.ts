import fs from 'node:fs';
import path from 'node:path';

/**
 * This hub's release, from package.json: found by walking up from this module, which is two levels
 * deep under dist/ when built and one level deep when run by tsx.
 */
function findVersion(): string {
  for (let dir = import.meta.dirname; ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'yizhan-hub' && pkg.version) return pkg.version;
    }
    if (path.dirname(dir) === dir) return '0.0.0';
  }
}

export const APP_VERSION = findVersion();
