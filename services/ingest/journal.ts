import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { TelemetryBatch } from '../../contract/index.js';
import type { Part } from '../parts.js';
import { JOURNAL_THREAD_SOURCE } from './journal-thread.js';

export class JournalFullError extends Error {
  readonly code = 'INGEST_JOURNAL_FULL';
}

export class JournalClosedError extends Error {
  readonly code = 'INGEST_JOURNAL_CLOSED';
}

/** An error from SQLite in the journal's thread, with SQLite's code (`SQLITE_FULL`, …). */
export class JournalWriteError extends Error {
  constructor(
    message: string,
    readonly code: string = 'INGEST_JOURNAL_FAILED',
  ) {
    super(message);
  }
}

/**
 * One group commit as the journal holds it: its id orders the commits, `rows` counts its readings
 * and events, `body` is the batch as JSON (entryBatch). The mover keeps up to a few seconds of
 * entries in memory; as one flat string each rather than a tree of row objects they cost the
 * garbage collector next to nothing to keep, where the objects all lived long enough to be
 * promoted and grew the old generation by megabytes a second at full rate.
 */
export interface JournalEntry {
  id: number;
  rows: number;
  body: string;
}

export const entryBatch = (entry: JournalEntry): TelemetryBatch => JSON.parse(entry.body) as TelemetryBatch;

interface Call {
  resolve(result: unknown): void;
  reject(err: Error): void;
}

const sqlitePath = createRequire(import.meta.url).resolve('better-sqlite3');

/**
 * The ingest journal: where a reading is made durable before its PUBACK, so that the analytical
 * store (DuckDB, later InfluxDB) is off the acknowledgement path. SQLite in WAL mode with
 * synchronous=FULL: a commit returns once the WAL is fsync'd, and SQLite's recovery drops a torn
 * last commit as a whole. One row per group commit, its readings and events as one JSON text: one
 * INSERT per commit keeps its cost nearly flat in the batch size. Ids never repeat
 * (AUTOINCREMENT), so "moved through id N" stays true after the table empties. The JournalMover
 * copies entries into the store and releases them. SQLite runs on its own thread
 * (journal-thread.ts), so the main thread is not stopped by the fsync.
 */
export class Journal implements Part {
  readonly name = 'ingest journal';
  private worker: Worker | null = null;
  private readonly calls = new Map<number, Call>();
  private nextCall = 1;
  private rowCount = 0;
  /** Rows of appends sent to the thread and not answered yet. */
  private reserved = 0;
  private last = 0;

  constructor(
    private readonly file: string,
    readonly maxRows: number,
  ) {}

  async start(): Promise<void> {
    const worker = new Worker(JOURNAL_THREAD_SOURCE, {
      eval: true,
      workerData: { sqlite: sqlitePath, file: this.file },
    });
    const fail = (err: Error) => {
      this.worker = null;
      for (const c of this.calls.values()) c.reject(err);
      this.calls.clear();
    };
    worker.on(
      'message',
      (m: { call: number; result?: unknown; error?: { message: string; code?: string } }) => {
        const c = this.calls.get(m.call);
        if (!c) return;
        this.calls.delete(m.call);
        if (m.error) c.reject(new JournalWriteError(m.error.message, m.error.code));
        else c.resolve(m.result);
      },
    );
    worker.on('error', fail);
    worker.on('exit', () => fail(new JournalClosedError('the ingest journal thread exited')));
    this.worker = worker;
    try {
      const { rows, last } = (await this.call('open', {})) as { rows: number; last: number };
      this.rowCount = rows;
      this.last = last;
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  async stop(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    await this.call('close', {}).catch(() => {});
    this.worker = null;
    await worker.terminate();
  }

  /** Readings and events held, not yet moved into the store. */
  get rows(): number {
    return this.rowCount;
  }

  /** Id of the newest entry (0 when none was ever written). */
  get lastId(): number {
    return this.last;
  }

  /**
   * Durable when it resolves (one fsync'd transaction). Refuses with JournalFullError when the
   * batch would take the journal past `maxRows`, so memory and disk stay bounded through a long
   * store outage.
   */
  async append(batch: TelemetryBatch): Promise<JournalEntry> {
    const rows = batch.readings.length + batch.events.length;
    // A commit is all or nothing; one larger than the whole journal still goes into an empty one.
    // Rows of appends in flight count as held, so two at once cannot pass the limit together.
    const held = this.rowCount + this.reserved;
    if (held > 0 && held + rows > this.maxRows) {
      throw new JournalFullError(
        `ingest journal holds ${held} rows, ${rows} more would pass the limit of ${this.maxRows}`,
      );
    }
    this.reserved += rows;
    try {
      const body = JSON.stringify(batch);
      const id = (await this.call('append', { rows, body })) as number;
      this.rowCount += rows;
      this.last = id;
      return { id, rows, body };
    } finally {
      this.reserved -= rows;
    }
  }

  /** Entries after `afterId`, oldest first, until about `maxRows` rows. */
  async read(afterId: number, maxRows: number): Promise<JournalEntry[]> {
    const out: JournalEntry[] = [];
    let rows = 0;
    let from = afterId;
    while (rows < maxRows) {
      const page = (await this.call('read', { afterId: from, limit: 64 })) as {
        id: number;
        rows: number;
        body: string;
      }[];
      for (const e of page) {
        out.push(e);
        rows += e.rows;
        from = e.id;
        if (rows >= maxRows) break;
      }
      if (page.length < 64) break;
    }
    return out;
  }

  /**
   * Forgets every entry up to `throughId` (`rows` readings and events), once the store has
   * committed them, then checkpoints the WAL into the database file — here, not in a commit on
   * the PUBACK path. An emptied journal also truncates its WAL: on a full disk the next commit
   * needs new space and fails (its PUBACK is withheld) instead of reusing space reserved long ago.
   * A busy one keeps its WAL, which SQLite rewrites from the start: a commit that does not grow
   * the file keeps its fsync cheap.
   */
  async release(throughId: number, rows: number): Promise<void> {
    await this.call('release', { throughId, empty: rows >= this.rowCount });
    this.rowCount = Math.max(0, this.rowCount - rows);
  }

  /**
   * Copies the journal, consistent, to `file` while appends go on; resolves with the rows the
   * journal held when the copy ended (the backup's count of readings not yet in the store, or more).
   */
  async backup(file: string): Promise<number> {
    return (await this.call('backup', { file })) as number;
  }

  private call(op: string, args: object): Promise<unknown> {
    const worker = this.worker;
    if (!worker) return Promise.reject(new JournalClosedError('the ingest journal is closed'));
    const call = this.nextCall++;
    return new Promise((resolve, reject) => {
      this.calls.set(call, { resolve, reject });
      worker.postMessage({ call, op, ...args });
    });
  }
}
