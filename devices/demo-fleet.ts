import type { DeviceInput, SiteInput } from '../contract/index.js';
import { type DeviceKind, deviceKinds } from '../contract/index.js';

/**
 * The demo district: converted test huts at the gates, markets and metro exits of residential
 * communities in one economic development zone. Deterministic, so every demo shows the same map.
 */

interface Community {
  slug: string;
  zh: string;
  en: string;
  lat: number;
  lng: number;
}

// The first three are named in the district report; the rest are plausible neighbours.
const communities: Community[] = [
  { slug: 'fanghuali', zh: '芳华里', en: 'Fanghuali', lat: 36.6612, lng: 117.1065 },
  { slug: 'xiangshuwan', zh: '橡树湾', en: 'Oak Bay', lat: 36.6538, lng: 117.1342 },
  { slug: 'taishanlvgu', zh: '泰山绿谷', en: 'Taishan Green Valley', lat: 36.6405, lng: 117.1187 },
  { slug: 'shunhuayuan', zh: '舜华园', en: 'Shunhua Garden', lat: 36.6683, lng: 117.1251 },
  { slug: 'dianliu', zh: '甸柳新村', en: 'Dianliu New Village', lat: 36.6571, lng: 117.0978 },
  { slug: 'yanzishan', zh: '燕子山', en: 'Yanzi Hill', lat: 36.6452, lng: 117.1419 },
  { slug: 'longquanyuan', zh: '龙泉苑', en: 'Longquan Garden', lat: 36.6349, lng: 117.1023 },
  { slug: 'huiwenli', zh: '汇文里', en: 'Huiwenli', lat: 36.6724, lng: 117.1109 },
];

type SiteType = SiteInput['type'];

interface Spot {
  code: string;
  zh: string;
  en: string;
  dLat: number;
  dLng: number;
  /** Riders gather at markets and metro exits, so those huts rest people; gates host screening. */
  type: SiteType;
}

const spots: Spot[] = [
  { code: 'n', zh: '北门', en: 'North Gate', dLat: 0.0022, dLng: 0, type: 'health' },
  { code: 's', zh: '南门', en: 'South Gate', dLat: -0.0022, dLng: 0, type: 'both' },
  { code: 'e', zh: '东门', en: 'East Gate', dLat: 0, dLng: 0.0028, type: 'caring' },
  { code: 'w', zh: '西门', en: 'West Gate', dLat: 0, dLng: -0.0028, type: 'health' },
  { code: 'c', zh: '中心广场', en: 'Central Square', dLat: 0.0004, dLng: 0.0006, type: 'both' },
  { code: 'm', zh: '菜市场', en: 'Market', dLat: 0.0012, dLng: 0.0016, type: 'caring' },
  { code: 't', zh: '地铁站', en: 'Metro Exit', dLat: -0.0015, dLng: -0.0019, type: 'caring' },
];

const typeName: Record<SiteType, { zh: string; en: string }> = {
  health: { zh: '健康驿站', en: 'Health Station' },
  caring: { zh: '爱心驿站', en: 'Caring Station' },
  both: { zh: '健康爱心驿站', en: 'Health & Caring Station' },
};

/**
 * Opening hours: open === close means always open (riders work nights); close before open runs
 * past midnight. Screening needs a doctor on duty, so health-only huts keep office-like hours.
 */
function hoursFor(type: SiteType, i: number): SiteInput['openingHours'] {
  if (type === 'health') return { open: '08:00', close: '20:00' };
  if (type === 'both') return { open: '07:00', close: '22:00' };
  return i % 2 === 0 ? { open: '00:00', close: '00:00' } : { open: '06:00', close: '02:00' };
}

const round6 = (v: number) => Math.round(v * 1e6) / 1e6;

export function demoSites(count = 24): SiteInput[] {
  return Array.from({ length: count }, (_, i) => {
    const c = communities[i % communities.length]!;
    const k = Math.floor(i / communities.length);
    const ci = i % communities.length;
    // Rotate spots per community so the district gets a mix of gates, markets and metro exits.
    const spot = spots[(k + ci) % spots.length]!;
    const n = Math.floor(k / spots.length) + 1;
    const nth = n > 1 ? `${n}` : '';
    return {
      id: `${c.slug}-${spot.code}${n}`,
      name: {
        zh: `${c.zh}${spot.zh}${nth ? `${nth}号` : ''}${typeName[spot.type].zh}`,
        en: `${c.en} ${spot.en}${nth ? ` ${nth}` : ''} ${typeName[spot.type].en}`,
      },
      type: spot.type,
      community: { zh: c.zh, en: c.en },
      address: {
        zh: `经济开发区${c.zh}小区${spot.zh}旁`,
        en: `By the ${spot.en}, ${c.en}, Economic Development Zone`,
      },
      lat: round6(c.lat + spot.dLat + (n - 1) * 0.0004),
      lng: round6(c.lng + spot.dLng + (n - 1) * 0.0004),
      openingHours: hoursFor(spot.type, i),
      seats: 4 + ((i * 5) % 9),
    };
  });
}

const suffixes: Record<DeviceKind, string> = {
  occupancy_counter: 'occ',
  door_sensor: 'door',
  water_dispenser: 'water',
  microwave: 'mw',
  air_conditioner: 'ac',
  lending_cabinet: 'cab',
  environment_sensor: 'env',
};

/** One device of each kind per hut, named as the station manager would see it. */
export function demoDevices(site: Pick<SiteInput, 'id'>): DeviceInput[] {
  return (Object.keys(suffixes) as DeviceKind[]).map((kind) => ({
    id: `${site.id}-${suffixes[kind]}`,
    kind,
    name: { ...deviceKinds[kind].label },
  }));
}

/** The hut whose water dispenser is wearing out (heater faults, brown-outs), for planners to find. */
export function wearingDispenserSite(sites: readonly Pick<SiteInput, 'id'>[]): string | undefined {
  return sites[Math.min(9, sites.length - 1)]?.id;
}

/** It starts failing three weeks before the demo's history ends, and gets worse week by week. */
export const WEARING_FOR_MS = 21 * 86_400_000;
