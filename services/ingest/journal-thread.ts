/**
 * The journal's own thread: better-sqlite3 is synchronous, and a commit with synchronous=FULL
 * waits for its fsync (4 ms on this machine for 1 or 1,600 readings alike, measured). On the main
 * thread that wait stopped the event loop; here the main thread keeps reading sockets and
 * validating while the commit is on disk, and group commit gathers the next batch meanwhile.
 *
 * The thread runs plain JavaScript handed over as a string: the same code runs under node from
 * dist/, under tsx and inside vitest, none of which would otherwise agree on how a worker loads
 * a .ts file. It only runs SQL; every decision stays on the main thread (journal.ts).
 *
 * Messages: `{ call, op, ...args }` in, `{ call, result }` or `{ call, error: { message, code } }` out.
 */
export const JOURNAL_THREAD_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.sqlite);
let db = null;
let insert, after, deleteThrough;

const ops = {
  open() {
    db = new Database(workerData.file);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('wal_autocheckpoint = 0');
    db.pragma('journal_size_limit = ' + 64 * 1024 * 1024);
    db.exec('CREATE TABLE IF NOT EXISTS entries (' +
      'id INTEGER PRIMARY KEY AUTOINCREMENT, rows INTEGER NOT NULL, body TEXT NOT NULL)');
    insert = db.prepare('INSERT INTO entries (rows, body) VALUES (?, ?)');
    after = db.prepare('SELECT id, rows, body FROM entries WHERE id > ? ORDER BY id LIMIT ?');
    deleteThrough = db.prepare('DELETE FROM entries WHERE id <= ?');
    return db.prepare('SELECT coalesce(sum(rows), 0) AS rows, coalesce(max(id), 0) AS last FROM entries').get();
  },
  append({ rows, body }) {
    return Number(insert.run(rows, body).lastInsertRowid);
  },
  read({ afterId, limit }) {
    return after.all(afterId, limit);
  },
  release({ throughId, empty }) {
    deleteThrough.run(throughId);
    try {
      db.pragma(empty ? 'wal_checkpoint(TRUNCATE)' : 'wal_checkpoint(PASSIVE)');
      return true;
    } catch {
      return false;
    }
  },
  backup({ file }) {
    // SQLite's online backup on the journal's own connection: appends made meanwhile are copied
    // too, so the copy never restarts and ends with every entry committed before it finished.
    return db.backup(file).then(() => db.prepare('SELECT coalesce(sum(rows), 0) AS rows FROM entries').get().rows);
  },
  close() {
    if (db) db.close();
    db = null;
  },
};

const fail = (m, err) => parentPort.postMessage({ call: m.call, error: { message: err.message, code: err.code } });
parentPort.on('message', (m) => {
  try {
    const result = ops[m.op](m);
    if (result instanceof Promise) result.then((r) => parentPort.postMessage({ call: m.call, result: r }), (err) => fail(m, err));
    else parentPort.postMessage({ call: m.call, result });
  } catch (err) {
    fail(m, err);
  }
});
`;
