import type { Site, SiteInput } from '../../contract/index.js';
import { HubError, type LocalText, toLocalText } from '../../contract/index.js';
import type { EventBus } from '../bus/event-bus.js';
import type { StateDb } from './db.js';
import type { Database } from './tables.js';

type SiteRow = Database['sites'];

/** The Chinese column and its English beside it; NULL English is left out, not sent as null. */
export function fromColumns(zh: string, en: string | null): LocalText {
  return en === null ? { zh } : { zh, en };
}

function toSite(r: SiteRow): Site {
  return {
    id: r.id,
    name: { zh: r.name_zh, en: r.name_en },
    type: r.type as Site['type'],
    community: fromColumns(r.community, r.community_en),
    address: fromColumns(r.address, r.address_en),
    lat: r.lat,
    lng: r.lng,
    openingHours: { open: r.open_time, close: r.close_time },
    seats: r.seats,
    createdAt: Number(r.created_at),
  };
}

export class SiteRepo {
  constructor(
    private readonly db: StateDb,
    private readonly bus: EventBus,
  ) {}

  async create(input: SiteInput): Promise<Site> {
    const community = toLocalText(input.community);
    const address = toLocalText(input.address);
    const row: SiteRow = {
      id: input.id,
      name_zh: input.name.zh,
      name_en: input.name.en,
      type: input.type,
      community: community.zh,
      community_en: community.en ?? null,
      address: address.zh,
      address_en: address.en ?? null,
      lat: input.lat,
      lng: input.lng,
      open_time: input.openingHours.open,
      close_time: input.openingHours.close,
      seats: input.seats,
      created_at: Date.now(),
    };
    const inserted = await this.db
      .insertInto('sites')
      .values(row)
      .onConflict((oc) => oc.column('id').doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0) {
      throw new HubError('SITE_EXISTS', `site ${input.id} already exists`, [
        { path: 'id', message: 'already exists' },
      ]);
    }
    const site = toSite(row);
    this.bus.emit('site.changed', { site });
    return site;
  }

  /** All sites, or only the given ones (a manager's). */
  async list(only?: readonly string[]): Promise<Site[]> {
    if (only && only.length === 0) return [];
    let q = this.db.selectFrom('sites').selectAll().orderBy('id');
    if (only) q = q.where('id', 'in', only);
    return (await q.execute()).map(toSite);
  }

  async get(id: string): Promise<Site | undefined> {
    const row = await this.db.selectFrom('sites').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toSite(row);
  }
}
