import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Every process and temporary directory the bench makes, so that all of them go away on any exit:
 * normal end, a failed phase, an exception, Ctrl-C. Children also get PR_SET_PDEATHSIG through
 * util-linux's setpriv, so even a SIGKILLed bench leaves no broker or hub behind.
 */

const SETPRIV = '/usr/bin/setpriv';
const withPdeathsig = fs.existsSync(SETPRIV);
const children = new Set<Child>();
const tempDirs = new Set<string>();
const TEMP_PREFIX = 'yz-bench-';

export interface Child {
  name: string;
  pid: number;
  proc: ChildProcess;
  /** Last ~16 KiB of stdout+stderr, for error messages. */
  output(): string;
  /** Resolves with the first line matching `re`, or rejects when the process exits or time runs out. */
  waitFor(re: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then SIGKILL after graceMs. */
  stop(graceMs?: number): Promise<void>;
}

export function startChild(
  name: string,
  command: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; ipc?: boolean } = {},
): Child {
  const [cmd, argv] = withPdeathsig
    ? [SETPRIV, ['--pdeathsig', 'KILL', '--', command, ...args]]
    : [command, args];
  const proc = spawn(cmd, argv, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: opts.ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
  });
  if (proc.pid === undefined) throw new Error(`${name}: could not start ${command}`);
  let tail = '';
  const watchers = new Set<(text: string) => void>();
  const onData = (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    tail = (tail + text).slice(-16_384);
    for (const w of watchers) w(text);
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  );
  let alive = true;
  void exited.then(() => {
    alive = false;
    children.delete(child);
  });

  const child: Child = {
    name,
    pid: proc.pid,
    proc,
    output: () => tail,
    exited,
    waitFor(re, timeoutMs) {
      return new Promise((resolve, reject) => {
        let seen = tail;
        const check = (text: string) => {
          seen += text;
          const m = seen.match(re);
          if (m) finish(() => resolve(m));
        };
        const finish = (then: () => void) => {
          clearTimeout(timer);
          watchers.delete(check);
          then();
        };
        const timer = setTimeout(
          () => finish(() => reject(new Error(`${name}: not ready in ${timeoutMs} ms\n${lastLines(tail)}`))),
          timeoutMs,
        );
        watchers.add(check);
        void exited.then(({ code, signal }) =>
          finish(() => reject(new Error(`${name} exited (${signal ?? code})\n${lastLines(tail)}`))),
        );
        check('');
      });
    },
    async stop(graceMs = 10_000) {
      if (!alive) return;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
  children.add(child);
  return child;
}

export function lastLines(text: string, n = 12): string {
  return text.trimEnd().split('\n').slice(-n).join('\n');
}

/** A temporary directory named for this process, removed on exit (see removeStaleTempDirs). */
export function makeTempDir(label: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${TEMP_PREFIX}${process.pid}-${label}-`));
  tempDirs.add(dir);
  return dir;
}

export function removeTempDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

/** Directories left by a bench that was SIGKILLed: their owner's pid is gone. */
export function removeStaleTempDirs(): void {
  for (const name of fs.readdirSync(os.tmpdir())) {
    const pid = Number(name.slice(TEMP_PREFIX.length).split('-')[0]);
    if (!name.startsWith(TEMP_PREFIX) || !Number.isInteger(pid) || pid === process.pid) continue;
    try {
      process.kill(pid, 0);
    } catch {
      fs.rmSync(path.join(os.tmpdir(), name), { recursive: true, force: true });
    }
  }
}

/** Synchronous, so that it also works from process.on('exit'). */
export function killAllSync(): void {
  for (const c of children) {
    try {
      c.proc.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  children.clear();
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

/** Kills and removes everything on exit, Ctrl-C and SIGTERM. */
export function installCleanup(onSignal: (signal: string) => void): void {
  process.on('exit', killAllSync);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      onSignal(signal);
      killAllSync();
      process.exit(130);
    });
  }
}
