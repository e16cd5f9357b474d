import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';

/**
 * CPU, memory and file descriptors of processes, read from /proc. utime+stime of a pid covers all
 * of its threads (worker threads, libuv's pool, DuckDB's threads); the main thread is the task
 * whose tid equals the pid.
 */

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** user+system seconds of a process (all threads), or of one of its threads. */
export function cpuSeconds(pid: number, tid?: number): number {
  const file = tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`;
  const stat = fs.readFileSync(file, 'utf8');
  // comm (field 2) may hold spaces and parentheses; the fields after the last ')' start at field 3.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** Busy seconds of the whole machine (all cores), from /proc/stat. */
export function machineBusySeconds(): number {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  // user nice system idle iowait irq softirq steal …: busy is all but idle and iowait.
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = line
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return (user + nice + system + irq + softirq + steal) / CLK_TCK;
}

export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

export function openFds(pid: number): number {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}

export function fdLimit(pid: number): number {
  const m = /Max open files\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/limits`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

/** CPU of one process over a window, in % of one core (200 % = both cores of this machine). */
export interface CpuUse {
  pct: number;
  seconds: number;
  /** The process's main (event-loop) thread alone, for Node processes. */
  mainThreadPct?: number;
}

export interface CpuReport {
  wallS: number;
  processes: Record<string, CpuUse>;
  /** Everything else on the machine meanwhile (other engineers' tests share these cores). */
  otherPct: number;
}

/**
 * Samples the named processes (and this one, as "bench") at start() and stop(). A process that
 * died in between is reported as NaN rather than failing the phase.
 */
export class CpuWindow {
  private t0 = 0;
  private machine0 = 0;
  private readonly before = new Map<string, { total: number; main: number }>();

  constructor(private readonly pids: Record<string, number>) {}

  start(): this {
    this.t0 = performance.now();
    this.machine0 = machineBusySeconds();
    for (const [name, pid] of Object.entries(this.all())) this.before.set(name, sample(pid));
    return this;
  }

  stop(): CpuReport {
    const wallS = (performance.now() - this.t0) / 1000;
    const machine = machineBusySeconds() - this.machine0;
    const processes: Record<string, CpuUse> = {};
    let ours = 0;
    for (const [name, pid] of Object.entries(this.all())) {
      const a = this.before.get(name)!;
      const b = sample(pid);
      const seconds = b.total - a.total;
      ours += Number.isFinite(seconds) ? seconds : 0;
      processes[name] = {
        seconds,
        pct: (100 * seconds) / wallS,
        mainThreadPct: (100 * (b.main - a.main)) / wallS,
      };
    }
    return { wallS, processes, otherPct: Math.max(0, (100 * (machine - ours)) / wallS) };
  }

  private all(): Record<string, number> {
    return { ...this.pids, bench: process.pid };
  }
}

function sample(pid: number): { total: number; main: number } {
  try {
    return { total: cpuSeconds(pid), main: cpuSeconds(pid, pid) };
  } catch {
    return { total: NaN, main: NaN };
  }
}

export const machine = {
  cores: os.cpus().length,
  node: process.version,
  cpuModel: os.cpus()[0]?.model ?? 'unknown',
  memGiB: Math.round(os.totalmem() / 2 ** 30),
};
