/**
 * The geometry of the board's map, without a map library: Web Mercator (so a site's basemap
 * tiles line up), commune shapes drawn from what the areas file gives (a point and a bounding
 * box), and where to put an entity that has no coordinates of its own.
 */

/** A point in Web Mercator's unit square: x east from 180° W, y south from 85.05° N. */
export interface XY {
  x: number;
  y: number;
}

/** [west, south, east, north] in degrees, as the API's `bounds`. */
export type Bounds = [number, number, number, number];

/** An axis-aligned box in Mercator units. */
export interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

export function project(lon: number, lat: number): XY {
  const clamped = Math.max(-85.05, Math.min(85.05, lat));
  const phi = (clamped * Math.PI) / 180;
  return { x: (lon + 180) / 360, y: (1 - Math.log(Math.tan(phi) + 1 / Math.cos(phi)) / Math.PI) / 2 };
}

export function boxOf(bounds: Bounds): Box {
  const [west, south, east, north] = bounds;
  const a = project(west, north);
  const b = project(east, south);
  return { x0: a.x, y0: a.y, x1: b.x, y1: b.y };
}

export function union(boxes: Box[]): Box | null {
  if (!boxes.length) return null;
  return boxes.reduce((u, b) => ({
    x0: Math.min(u.x0, b.x0),
    y0: Math.min(u.y0, b.y0),
    x1: Math.max(u.x1, b.x1),
    y1: Math.max(u.y1, b.y1),
  }));
}

/** The box grown by `fraction` of its size on every side (at least `floor` units). */
export function pad(box: Box, fraction: number, floor = 0): Box {
  const dx = Math.max((box.x1 - box.x0) * fraction, floor);
  const dy = Math.max((box.y1 - box.y0) * fraction, floor);
  return { x0: box.x0 - dx, y0: box.y0 - dy, x1: box.x1 + dx, y1: box.y1 + dy };
}

export type Polygon = XY[];

function rect(box: Box): Polygon {
  return [
    { x: box.x0, y: box.y0 },
    { x: box.x1, y: box.y0 },
    { x: box.x1, y: box.y1 },
    { x: box.x0, y: box.y1 },
  ];
}

/** The part of `poly` closer to `a` than to `b` (one Sutherland–Hodgman step). */
function clipCloser(poly: Polygon, a: XY, b: XY): Polygon {
  const nx = b.x - a.x;
  const ny = b.y - a.y;
  const c = (nx * (a.x + b.x) + ny * (a.y + b.y)) / 2;
  const side = (p: XY): number => c - (nx * p.x + ny * p.y); // > 0: on a's side
  const out: Polygon = [];
  for (let i = 0; i < poly.length; i += 1) {
    const p = poly[i];
    const q = poly[(i + 1) % poly.length];
    const sp = side(p);
    const sq = side(q);
    if (sp >= 0) out.push(p);
    if ((sp >= 0) !== (sq >= 0)) {
      const t = sp / (sp - sq);
      out.push({ x: p.x + (q.x - p.x) * t, y: p.y + (q.y - p.y) * t });
    }
  }
  return out;
}

export interface Site {
  point: XY;
  /** The area's own bounding box; null = only the point is known. */
  box: Box | null;
}

/**
 * An approximate shape for each site: its bounding box (or `frame` when it has none), cut
 * where another site's point is nearer (a Voronoi cell within the box). Communes tile their
 * province much as the cells of their centres do, so the picture reads as a map, but it is
 * an estimate: the board says so under the map.
 */
export function cells(sites: Site[], frame: Box): Polygon[] {
  return sites.map((site, i) => {
    let poly = rect(site.box ?? frame);
    for (let j = 0; j < sites.length && poly.length; j += 1) {
      const other = sites[j].point;
      if (j === i || (other.x === site.point.x && other.y === site.point.y)) continue;
      poly = clipCloser(poly, site.point, other);
    }
    return poly;
  });
}

export function polygonBox(poly: Polygon): Box | null {
  if (!poly.length) return null;
  return {
    x0: Math.min(...poly.map((p) => p.x)),
    y0: Math.min(...poly.map((p) => p.y)),
    x1: Math.max(...poly.map((p) => p.x)),
    y1: Math.max(...poly.map((p) => p.y)),
  };
}

export function inside(poly: Polygon, p: XY): boolean {
  let yes = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i, i += 1) {
    const a = poly[i];
    const b = poly[j];
    if (a.y > p.y !== b.y > p.y && p.x < ((b.x - a.x) * (p.y - a.y)) / (b.y - a.y) + a.x) yes = !yes;
  }
  return yes;
}

/** FNV-1a and murmur3's finaliser: the same id gives the same numbers in every browser. */
function hash(text: string, seed: number): number {
  let h = 0x811c9dc5 ^ Math.imul(seed + 1, 0x9e3779b1);
  for (let i = 0; i < text.length; i += 1) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // Without the finaliser, ids differing in their last character ("TSL-1", "TSL-2") land
  // next to each other.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 0x100000000;
}

/**
 * Where to draw an entity that has no coordinates: a spot chosen from its id inside the
 * commune's shape (within its bounds), the same on every screen. An estimate, labelled so.
 */
export function placeById(id: string, shape: Polygon, fallback: XY): XY {
  const box = polygonBox(shape);
  if (!box) return fallback;
  // Keep clear of the edges so markers do not sit on a neighbour's border.
  const inner = pad(box, -0.12);
  for (let attempt = 0; attempt < 24; attempt += 1) {
    const p = {
      x: inner.x0 + (inner.x1 - inner.x0) * hash(id, attempt * 2 + 1),
      y: inner.y0 + (inner.y1 - inner.y0) * hash(id, attempt * 2 + 2),
    };
    if (inside(shape, p)) return p;
  }
  return fallback;
}

/** The basemap tiles (z, x, y) that cover `box`, at a zoom giving about `pixels` across. */
export function tilesFor(box: Box, pixels: number, limit = 48): { z: number; x: number; y: number }[] {
  const width = Math.max(box.x1 - box.x0, 1e-9);
  let z = Math.max(0, Math.min(18, Math.round(Math.log2(pixels / (256 * width)))));
  for (;;) {
    const n = 2 ** z;
    const xs = [Math.floor(box.x0 * n), Math.floor(box.x1 * n)];
    const ys = [Math.floor(box.y0 * n), Math.floor(box.y1 * n)];
    const count = (xs[1] - xs[0] + 1) * (ys[1] - ys[0] + 1);
    if (count <= limit || z === 0) {
      const out = [];
      for (let y = Math.max(0, ys[0]); y <= Math.min(n - 1, ys[1]); y += 1)
        for (let x = Math.max(0, xs[0]); x <= Math.min(n - 1, xs[1]); x += 1) out.push({ z, x, y });
      return out;
    }
    z -= 1;
  }
}
