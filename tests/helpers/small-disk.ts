import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * A real disk-full: a small tmpfs that a test fills up. Mounting needs root, which CI has;
 * elsewhere the test that asked says it is skipped.
 */
export function mountSmallDisk(testName: string): string | null {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yz-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=24m', 'tmpfs', dir], { stdio: 'pipe' });
    return dir;
  } catch (err) {
    console.warn(
      `${testName} test SKIPPED: cannot mount a tmpfs (${(err as Error).message.split('\n')[0]}); run as root`,
    );
    fs.rmdirSync(dir);
    return null;
  }
}

export function fillDisk(dir: string): string {
  const filler = path.join(dir, 'filler');
  const fd = fs.openSync(filler, 'w');
  const chunk = Buffer.alloc(1 << 20, 1);
  try {
    for (;;) fs.writeSync(fd, chunk);
  } catch {
    // ENOSPC: full. Small writes may still fit in the last block, so fill that too.
    try {
      for (;;) fs.writeSync(fd, chunk.subarray(0, 512));
    } catch {}
  } finally {
    fs.closeSync(fd);
  }
  return filler;
}
