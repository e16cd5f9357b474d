import { type Delivery, SEVERITY_RANK, type Severity } from '../../contract/index.js';
import type { AlertClock } from './clock.js';
import type { AlertEngine } from './engine.js';
import type { AlertLedger } from './ledger.js';
import type { AlertOutbox } from './outbox.js';
import type { AlertRepo, AlertRow, ContactRow } from './repo.js';

type Queued = { alertId: number; contactId: number; reason: Delivery['reason'] };
const qKey = (alertId: number, contactId: number, reason: string) => `${alertId}|${contactId}|${reason}`;

/**
 * Decides which messages go where, after each engine tick: the first message when an alert is
 * raised and not muted (or when its silence ends, or its hut opens), repeats of critical alerts
 * still unacknowledged, one escalation after `escalateAfterMin`, and a "cleared" message to whoever
 * was told. Messages are only queued here (the outbox sends them), never on the ingest path.
 */
export class AlertDispatcher {
  private readonly last = new Map<string, number>();

  constructor(
    private readonly repo: AlertRepo,
    private readonly ledger: AlertLedger,
    private readonly engine: AlertEngine,
    private readonly contacts: () => ContactRow[],
    private readonly outbox: AlertOutbox,
    private readonly clock: AlertClock,
  ) {
    ledger.ended.push((row) => this.ended(row));
  }

  /** Repeats and escalations resume where they were before a restart. */
  async load(): Promise<void> {
    const ids = this.ledger.list().map((o) => o.id);
    for (const q of await this.repo.lastQueued(ids))
      this.last.set(qKey(q.alertId, q.contactId, q.reason), q.at);
  }

  run(now: number): void {
    for (const open of this.ledger.list()) {
      const row = open.row;
      if (open.id === 0) continue;
      const deviceId = row.device_id || null;
      const rule = this.engine.ruleFor(row.rule_id, row.site_id, deviceId);
      const muted = this.engine.muting.isMuted(rule, row.site_id, deviceId, row.rule_id, now);
      if (muted !== (row.muted === 1)) this.ledger.patch(open.key, { muted: muted ? 1 : 0 });
      if (row.parent_id !== null || muted) continue;
      const routed = this.route(row);
      if (row.notified_at === null) {
        if (row.state !== 'active') continue;
        row.notified_at = now;
        this.queue(
          row,
          routed.map((c) => ({ alertId: open.id, contactId: c.id, reason: 'raised' as const })),
          true,
        );
        continue;
      }
      if (row.state !== 'active') continue;
      const out: Queued[] = [];
      for (const c of routed) {
        if (row.severity === 'critical' && c.repeat_min > 0) {
          const last = Math.max(
            this.last.get(qKey(open.id, c.id, 'raised')) ?? 0,
            this.last.get(qKey(open.id, c.id, 'repeat')) ?? 0,
          );
          if (now - last >= c.repeat_min * 60_000)
            out.push({ alertId: open.id, contactId: c.id, reason: 'repeat' });
        }
        const to = c.escalate_to_id === null ? undefined : this.contact(c.escalate_to_id);
        if (
          to &&
          !this.last.has(qKey(open.id, to.id, 'escalation')) &&
          now - Number(row.notified_at) >= c.escalate_after_min * 60_000
        ) {
          out.push({ alertId: open.id, contactId: to.id, reason: 'escalation' });
        }
      }
      if (out.length > 0) this.queue(row, out, false);
    }
  }

  /** Contact points that take this alert: its site (or all sites), at least its severity. */
  route(row: Pick<AlertRow, 'site_id' | 'severity'>): ContactRow[] {
    return this.contacts().filter((c) => {
      if (c.enabled !== 1) return false;
      const sites = JSON.parse(c.site_ids) as string[];
      if (sites.length > 0 && !sites.includes(row.site_id)) return false;
      return SEVERITY_RANK[row.severity as Severity] <= SEVERITY_RANK[c.min_severity as Severity];
    });
  }

  private contact(id: number): ContactRow | undefined {
    return this.contacts().find((c) => c.id === id && c.enabled === 1);
  }

  /** Whoever was told it was raised is told it cleared. */
  private ended(row: AlertRow): void {
    if (row.notified_at === null || row.state !== 'cleared') return;
    const told = new Set<number>();
    for (const k of this.last.keys()) {
      const [alertId, contactId] = k.split('|');
      if (Number(alertId) === row.id) told.add(Number(contactId));
    }
    const out = [...told]
      .filter((id) => this.contact(id))
      .map((contactId) => ({ alertId: row.id, contactId, reason: 'cleared' as const }));
    for (const k of [...this.last.keys()]) if (k.startsWith(`${row.id}|`)) this.last.delete(k);
    if (out.length > 0) this.queue(row, out, false);
  }

  private queue(row: AlertRow, rows: Queued[], markNotified: boolean): void {
    const now = this.clock.now();
    for (const r of rows) this.last.set(qKey(r.alertId, r.contactId, r.reason), now);
    this.ledger.write(async () => {
      await this.repo.enqueueAndMark(rows, now, markNotified ? { alertId: row.id } : null);
      if (rows.length > 0) {
        await this.ledger.emitById(row.id);
        this.outbox.kick();
      }
    });
  }
}
