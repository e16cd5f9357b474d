import type { Device, DeviceChangeType, DeviceInput, DeviceKind } from '../../contract/index.js';
import { HubError, toLocalText } from '../../contract/index.js';
import { DEVICE_COST, hashSecret, randomToken, verifySecret } from '../auth/passwords.js';
import type { EventBus } from '../bus/event-bus.js';
import type { StateDb } from './db.js';
import { fromColumns } from './sites.js';
import type { Database } from './tables.js';

type DeviceRow = Database['devices'];
export type DeviceRecord = Device & { secretHash: string };

function toRecord(r: DeviceRow): DeviceRecord {
  return {
    id: r.id,
    siteId: r.site_id,
    kind: r.kind as DeviceKind,
    name: fromColumns(r.name, r.name_en),
    enabled: r.enabled === 1,
    createdAt: Number(r.created_at),
    secretHash: r.secret_hash,
  };
}

export function publicDevice({ secretHash: _, ...device }: DeviceRecord): Device {
  return device;
}

/**
 * Devices, with every record held in memory: the broker looks a device up on every CONNECT and
 * ingest on every message, and a fleet is thousands of rows, not millions.
 */
export class DeviceRepo {
  private readonly byId = new Map<string, DeviceRecord>();
  /** Device ids per site: live state asks for a site's devices many times a second. */
  private readonly idsBySite = new Map<string, Set<string>>();

  constructor(
    private readonly db: StateDb,
    private readonly bus: EventBus,
  ) {}

  async load(): Promise<void> {
    const rows = await this.db.selectFrom('devices').selectAll().execute();
    this.byId.clear();
    this.idsBySite.clear();
    for (const r of rows) this.put(toRecord(r));
  }

  /** Reads one device again after another hub changed it (several hubs, issue 14). */
  async refresh(id: string): Promise<void> {
    const row = await this.db.selectFrom('devices').selectAll().where('id', '=', id).executeTakeFirst();
    const old = this.byId.get(id);
    if (old && (!row || row.site_id !== old.siteId)) {
      this.byId.delete(id);
      this.idsBySite.get(old.siteId)?.delete(id);
    }
    if (row) this.put(toRecord(row));
  }

  get(id: string): DeviceRecord | undefined {
    return this.byId.get(id);
  }

  /** The broker's check at CONNECT (this repo is the broker's DeviceDirectory). */
  verifySecret(secret: string, device: DeviceRecord): Promise<boolean> {
    return verifySecret(secret, device.secretHash);
  }

  list(siteIds?: readonly string[]): DeviceRecord[] {
    const picked = siteIds
      ? siteIds.flatMap((site) => [...(this.idsBySite.get(site) ?? [])].map((id) => this.byId.get(id)!))
      : [...this.byId.values()];
    return picked.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** Returns the secret once; only its hash is kept. */
  async provision(siteId: string, input: DeviceInput): Promise<{ device: DeviceRecord; secret: string }> {
    if (this.byId.has(input.id)) {
      throw new HubError('DEVICE_EXISTS', `device ${input.id} already exists`, [
        { path: 'id', message: 'already exists' },
      ]);
    }
    const secret = randomToken();
    const name = toLocalText(input.name);
    const row: DeviceRow = {
      id: input.id,
      site_id: siteId,
      kind: input.kind,
      name: name.zh,
      name_en: name.en ?? null,
      enabled: 1,
      secret_hash: await hashSecret(secret, DEVICE_COST),
      created_at: Date.now(),
    };
    const inserted = await this.db
      .insertInto('devices')
      .values(row)
      .onConflict((oc) => oc.column('id').doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0) {
      throw new HubError('DEVICE_EXISTS', `device ${input.id} already exists`);
    }
    const device = toRecord(row);
    this.put(device);
    this.changed('provisioned', device);
    return { device, secret };
  }

  async setEnabled(id: string, enabled: boolean): Promise<DeviceRecord> {
    this.require(id);
    await this.db
      .updateTable('devices')
      .set({ enabled: enabled ? 1 : 0 })
      .where('id', '=', id)
      .execute();
    const device = { ...this.require(id), enabled };
    this.byId.set(id, device);
    this.changed(enabled ? 'enabled' : 'disabled', device);
    return device;
  }

  async rotateSecret(id: string): Promise<{ device: DeviceRecord; secret: string }> {
    this.require(id);
    const secret = randomToken();
    const secretHash = await hashSecret(secret, DEVICE_COST);
    await this.db.updateTable('devices').set({ secret_hash: secretHash }).where('id', '=', id).execute();
    const device = { ...this.require(id), secretHash };
    this.byId.set(id, device);
    this.changed('secret-rotated', device);
    return { device, secret };
  }

  /** After the write: the broker drops a disabled or re-keyed device's connection, live state redraws. */
  private changed(change: DeviceChangeType, device: DeviceRecord): void {
    this.bus.emit('device.changed', { change, device: publicDevice(device) });
  }

  private put(device: DeviceRecord): void {
    this.byId.set(device.id, device);
    let ids = this.idsBySite.get(device.siteId);
    if (!ids) {
      ids = new Set();
      this.idsBySite.set(device.siteId, ids);
    }
    ids.add(device.id);
  }

  private require(id: string): DeviceRecord {
    const device = this.byId.get(id);
    if (!device) throw new HubError('DEVICE_NOT_FOUND', `no device ${id}`);
    return device;
  }
}
