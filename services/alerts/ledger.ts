import { type Alert, HubError, type Severity } from '../../contract/index.js';
import type { EventBus } from '../bus/event-bus.js';
import type { AlertClock } from './clock.js';
import { type AlertPatch, type AlertRepo, type AlertRow, toAlert } from './repo.js';

export interface RaiseInput {
  ruleId: string;
  type: string;
  siteId: string;
  deviceId: string | null;
  severity: Severity;
  since: number;
  value: number | null;
  detail: Alert['detail'];
  muted: boolean;
  /** Fold under this open alert (a device offline under its site's site_dark). */
  parentKey?: string;
}

export interface OpenAlert {
  key: string;
  /** 0 until its row is written (a few ms); every later change waits for that write. */
  id: number;
  row: AlertRow;
}

export const alertKey = (ruleId: string, siteId: string, deviceId: string | null) =>
  `${ruleId}|${siteId}|${deviceId ?? ''}`;

interface Log {
  error(obj: object, msg: string): void;
}

/**
 * The open alerts, in memory and in the state store. The engine decides synchronously (raise,
 * clear); the writes run one after another on a queue, so the order on disk and on the bus is the
 * order of decisions and the ingest path never waits for SQLite. After each write the alert goes
 * on the bus as `alert.changed`. The database's unique index on open alerts is the last guard
 * against a duplicate.
 */
export class AlertLedger {
  private readonly open = new Map<string, OpenAlert>();
  private queue: Promise<void> = Promise.resolve();
  /** Called after an alert left the open set (cleared or resolved), with its final row. */
  readonly ended: Array<(row: AlertRow, by: 'condition' | 'hand') => void> = [];

  constructor(
    private readonly repo: AlertRepo,
    private readonly bus: EventBus,
    private readonly clock: AlertClock,
    private readonly log: Log,
  ) {}

  async load(): Promise<OpenAlert[]> {
    this.open.clear();
    for (const row of await this.repo.openAlerts()) {
      const key = alertKey(row.rule_id, row.site_id, row.device_id || null);
      this.open.set(key, { key, id: row.id, row });
    }
    return [...this.open.values()];
  }

  isOpen(key: string): boolean {
    return this.open.has(key);
  }

  get(key: string): OpenAlert | undefined {
    return this.open.get(key);
  }

  list(): OpenAlert[] {
    return [...this.open.values()];
  }

  /** Resolves when every queued write is done (tests, stop). */
  settled(): Promise<void> {
    return this.queue;
  }

  raise(input: RaiseInput): void {
    const key = alertKey(input.ruleId, input.siteId, input.deviceId);
    if (this.open.has(key)) return;
    const now = this.clock.now();
    const row: AlertRow = {
      id: 0,
      rule_id: input.ruleId,
      type: input.type,
      site_id: input.siteId,
      device_id: input.deviceId ?? '',
      severity: input.severity,
      state: 'active',
      since: input.since,
      raised_at: now,
      value: input.value,
      detail: JSON.stringify(input.detail),
      acked_at: null,
      acked_by: null,
      ack_note: null,
      ended_at: null,
      resolved_by: null,
      resolve_note: null,
      parent_id: null,
      muted: input.muted ? 1 : 0,
      notified_at: null,
      updated_at: now,
    };
    const entry: OpenAlert = { key, id: 0, row };
    this.open.set(key, entry);
    this.write(async () => {
      const parent = input.parentKey ? this.open.get(input.parentKey) : undefined;
      const { id: _, ...values } = row;
      const stored = await this.repo.insertAlert({ ...values, parent_id: parent?.id || null });
      entry.id = stored.id;
      entry.row = stored;
      // Nothing is queued for a new alert yet: no delivery query on the way to the dashboards.
      this.bus.emit('alert.changed', { alert: toAlert(stored) });
    });
  }

  /** The condition went away: cleared. */
  clear(key: string, value: number | null): void {
    const entry = this.open.get(key);
    if (!entry) return;
    this.open.delete(key);
    const now = this.clock.now();
    this.write(async () => {
      const row = await this.repo.updateAlert(entry.id, {
        state: 'cleared',
        ended_at: now,
        updated_at: now,
        ...(value !== null && { value }),
      });
      if (row) {
        await this.emit(row);
        for (const f of this.ended) f(row, 'condition');
      }
    });
  }

  /** Updates an open alert in place (value seen, muted, folded, notified). */
  patch(key: string, patch: AlertPatch, emit = true): void {
    const entry = this.open.get(key);
    if (!entry) return;
    Object.assign(entry.row, patch);
    this.write(async () => {
      const row = await this.repo.updateAlert(entry.id, { ...patch, updated_at: this.clock.now() });
      // entry.row already has the patch (and maybe newer in-memory changes): keep it.
      if (row && emit) await this.emit(row);
    });
  }

  /** Folds the site's open device alerts of `ruleId` under `parentKey` (or unfolds them: null). */
  fold(siteId: string, ruleId: string, parentKey: string | null): void {
    for (const e of this.open.values()) {
      if (e.row.site_id !== siteId || e.row.rule_id !== ruleId) continue;
      const parent = parentKey ? this.open.get(parentKey) : undefined;
      this.write(async () => {
        const parentId = parent ? parent.id : null;
        if (e.row.parent_id === parentId) return;
        e.row.parent_id = parentId;
        const row = await this.repo.updateAlert(e.id, { parent_id: parentId, updated_at: this.clock.now() });
        if (row) await this.emit(row);
      });
    }
  }

  acknowledge(id: number, by: string, note: string | undefined): Promise<AlertRow> {
    return this.byHand(id, (e) => {
      if (e.row.state !== 'active') throw new HubError('ALERT_NOT_OPEN', `alert ${id} is ${e.row.state}`);
      const now = this.clock.now();
      return { state: 'acknowledged', acked_at: now, acked_by: by, ack_note: note ?? null, updated_at: now };
    });
  }

  resolve(id: number, by: string, note: string): Promise<AlertRow> {
    return this.byHand(
      id,
      () => {
        const now = this.clock.now();
        return { state: 'resolved', ended_at: now, resolved_by: by, resolve_note: note, updated_at: now };
      },
      true,
    );
  }

  private async byHand(id: number, change: (e: OpenAlert) => AlertPatch, ends = false): Promise<AlertRow> {
    return new Promise<AlertRow>((resolve, reject) => {
      this.write(async () => {
        const e = [...this.open.values()].find((o) => o.id === id);
        if (!e) {
          const row = await this.repo.alert(id);
          return reject(
            row
              ? new HubError('ALERT_NOT_OPEN', `alert ${id} is ${row.state}`)
              : new HubError('ALERT_NOT_FOUND', `no alert ${id}`),
          );
        }
        let patch: AlertPatch;
        try {
          patch = change(e);
        } catch (err) {
          return reject(err);
        }
        const row = await this.repo.updateAlert(id, patch);
        if (!row) return reject(new HubError('ALERT_NOT_FOUND', `no alert ${id}`));
        if (ends) this.open.delete(e.key);
        // notified_at may have been set in memory by a write still queued behind this one.
        else e.row = { ...row, notified_at: e.row.notified_at ?? row.notified_at };
        await this.emit(row);
        if (ends) for (const f of this.ended) f(row, 'hand');
        resolve(row);
      });
    });
  }

  /** Puts the alert, with its delivery summary, on the bus (the outbox calls it after a send). */
  async emit(row: AlertRow): Promise<void> {
    const summary = await this.repo.deliverySummary([row.id]);
    this.bus.emit('alert.changed', { alert: toAlert(row, summary.get(row.id)) });
  }

  async emitById(id: number): Promise<void> {
    const open = [...this.open.values()].find((o) => o.id === id);
    const row = open?.row ?? (await this.repo.alert(id));
    if (row) await this.emit(row);
  }

  /** Runs `step` in order with every other write (the dispatcher queues messages this way). */
  write(step: () => Promise<void>): void {
    this.queue = this.queue.then(step).catch((err) => this.log.error({ err }, 'alert write failed'));
  }
}
