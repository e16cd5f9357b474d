import type { SiteHealth } from '../../contract/index.js';

export interface MapInput {
  id: string;
  lat: number;
  lng: number;
  community: string;
  status: SiteHealth;
}
export interface MapPoint extends MapInput {
  x: number;
  y: number;
}

/**
 * A schematic map: sites placed by latitude and longitude (longitude shrunk by cos(latitude), so a
 * district keeps its shape) and fitted into width × height. No tiles: the hub works offline.
 * Huts a few metres apart are then pushed apart until no two dots are closer than `minGap` px,
 * so every one stays tappable.
 */
export function layoutMap(
  sites: MapInput[],
  width: number,
  height: number,
  pad = 28,
  minGap = 22,
): MapPoint[] {
  if (sites.length === 0 || width <= 0) return [];
  const meanLat = sites.reduce((s, p) => s + p.lat, 0) / sites.length;
  const k = Math.cos((meanLat * Math.PI) / 180);
  const xs = sites.map((s) => s.lng * k);
  const ys = sites.map((s) => -s.lat);
  const [minX, maxX, minY, maxY] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const spanX = maxX - minX || 1e-9;
  const spanY = maxY - minY || 1e-9;
  const scale = Math.min((width - 2 * pad) / spanX, (height - 2 * pad) / spanY);
  // Centre the district in the box.
  const offX = (width - spanX * scale) / 2;
  const offY = (height - spanY * scale) / 2;
  const single = sites.length === 1 || (maxX === minX && maxY === minY);
  const points = sites.map((s, i) => ({
    ...s,
    x: single ? width / 2 : offX + (xs[i]! - minX) * scale,
    y: single ? height / 2 : offY + (ys[i]! - minY) * scale,
  }));
  relax(points, minGap, width, height, pad);
  return points;
}

function relax(points: MapPoint[], minGap: number, width: number, height: number, pad: number): void {
  for (let round = 0; round < 40; round++) {
    let moved = false;
    for (let i = 0; i < points.length; i++) {
      for (let j = i + 1; j < points.length; j++) {
        const a = points[i]!;
        const b = points[j]!;
        let dx = b.x - a.x;
        let dy = b.y - a.y;
        let d = Math.hypot(dx, dy);
        if (d >= minGap) continue;
        if (d < 0.01) {
          // Same spot: separate along a direction that depends on the pair, so the result is stable.
          const angle = (i * 7 + j * 13) % 360;
          dx = Math.cos(angle);
          dy = Math.sin(angle);
          d = 1;
        }
        const push = (minGap - d) / 2 / d;
        a.x -= dx * push;
        a.y -= dy * push;
        b.x += dx * push;
        b.y += dy * push;
        moved = true;
      }
    }
    for (const p of points) {
      p.x = Math.min(width - pad / 2, Math.max(pad / 2, p.x));
      p.y = Math.min(height - pad / 2, Math.max(pad / 2, p.y));
    }
    if (!moved) break;
  }
}

/**
 * Where to write each community's name: centred above its huts. A community with one hut shown is
 * labelled with that hut's name (`siteLabel`), which says more.
 */
export function communityLabels(
  points: MapPoint[],
  width: number,
  siteLabel: (id: string) => string,
): { name: string; x: number; y: number }[] {
  const groups = new Map<string, MapPoint[]>();
  for (const p of points) groups.set(p.community, [...(groups.get(p.community) ?? []), p]);
  return [...groups].map(([name, ps]) => ({
    name: ps.length === 1 ? siteLabel(ps[0]!.id) : name,
    x: Math.min(width - 60, Math.max(60, ps.reduce((s, p) => s + p.x, 0) / ps.length)),
    y: Math.max(12, Math.min(...ps.map((p) => p.y)) - 16),
  }));
}
