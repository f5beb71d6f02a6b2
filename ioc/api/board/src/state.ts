/** What the board knows; every view renders from here. */

import { named } from "./i18n";
import type { StreamState } from "./sse";
import type { Alert, Area, Feeds, KpiInfo, KpisCurrent, MapResponse, Me } from "./types";

export interface BoardState {
  me: Me | null;
  areas: Map<string, Area>;
  kpiInfo: Map<string, KpiInfo>;
  /** The top of what the key may see: its area scope, else the province. */
  root: string;
  /** The area whose children the map shows. */
  mapArea: string;
  /** The area the KPI tiles and the live stream are about. */
  selected: string;
  kpis: KpisCurrent | null;
  map: MapResponse | null;
  feeds: Feeds | null;
  alerts: Map<number, Alert>;
  acking: Set<number>;
  ackErrors: Map<number, string>;
  stream: StreamState;
  lastUpdate: Date | null;
}

export const state: BoardState = {
  me: null,
  areas: new Map(),
  kpiInfo: new Map(),
  root: "",
  mapArea: "",
  selected: "",
  kpis: null,
  map: null,
  feeds: null,
  alerts: new Map(),
  acking: new Set(),
  ackErrors: new Map(),
  stream: { kind: "connecting" },
  lastUpdate: null,
};

export function resetState(): void {
  Object.assign(state, {
    me: null,
    areas: new Map(),
    kpiInfo: new Map(),
    root: "",
    mapArea: "",
    selected: "",
    kpis: null,
    map: null,
    feeds: null,
    alerts: new Map(),
    acking: new Set(),
    ackErrors: new Map(),
    stream: { kind: "connecting" },
    lastUpdate: null,
  } satisfies BoardState);
}

/** The chain root → … → `code` (areas outside the scope are left out). */
export function pathTo(code: string): Area[] {
  const chain: Area[] = [];
  const seen = new Set<string>();
  let current = state.areas.get(code);
  while (current && !seen.has(current.code)) {
    chain.unshift(current);
    seen.add(current.code);
    if (current.code === state.root) break;
    current = current.parent ? state.areas.get(current.parent) : undefined;
  }
  return chain;
}

export function hasChildren(code: string): boolean {
  for (const area of state.areas.values()) if (area.parent === code) return true;
  return false;
}

/** A feed's name as its declaration gives it (`GET /api/v1/feeds`); the code until it is known. */
export function feedName(feed: string): string {
  const found = state.feeds?.items.find((f) => f.feed === feed);
  return found ? named(found.name_vi, found.name_en) : feed;
}
