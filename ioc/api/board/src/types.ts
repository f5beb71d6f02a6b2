/** The shapes of the API (see the API contract); only what the board reads. */

export type Level = "province" | "district" | "commune";

export interface Area {
  code: string;
  name_vi: string;
  name_en: string | null;
  level: Level;
  parent: string | null;
  population?: number | null;
  households?: number | null;
  /** A point inside the area (WGS 84), for the map; null when the areas file has none. */
  lat?: number | null;
  lon?: number | null;
  /** Bounding box [west, south, east, north] in degrees. */
  bounds?: [number, number, number, number] | null;
}

export type Permission = "read" | "ack" | "silence" | "dlq" | "metrics" | "audit" | "keys";

export interface Me {
  name: string;
  role: string;
  area: string | null;
  area_name_vi: string | null;
  permissions: Permission[];
}

export type Quality = "ok" | "stale" | "no_data" | "low_volume";

export interface TrendPoint {
  bucket: string;
  value: number | null;
}

export interface KpiCurrent {
  kpi: string;
  name_vi: string;
  name_en: string;
  unit: string;
  direction: "higher" | "lower";
  feed: string;
  value: number | null;
  target: number | null;
  gap: number | null;
  meets: boolean | null;
  trend: TrendPoint[];
  quality: Quality;
  last_bucket: string | null;
  numerator: number;
  denominator: number;
}

export interface KpisCurrent {
  area: Area;
  at: string;
  items: KpiCurrent[];
}

export interface KpiInfo {
  id: string;
  name_vi: string;
  name_en: string;
  feed: string;
  unit: string;
  direction: string;
  target: number | null;
  deadline: string | null;
  source: string | null;
}

export type MapStatus = "ok" | "warning" | "critical" | "no_data";

export interface MapChild {
  code: string;
  name_vi: string;
  name_en: string | null;
  level: Level;
  status: MapStatus;
  firing: number;
  below_target: number;
  events_last_hour: number;
  has_children: boolean;
  lat?: number | null;
  lon?: number | null;
  bounds?: [number, number, number, number] | null;
}

/** Tiles a site serves for the map's background (`IOC_API__BASEMAP_URL`); null = none. */
export interface Basemap {
  /** With `{z}`, `{x}` and `{y}`, as most tile servers take them. */
  url: string;
  attribution: string | null;
}

export interface MapResponse {
  area: Area;
  children: MapChild[];
  basemap?: Basemap | null;
}

export type FeedName = "camera" | "dvc" | "payment" | "network";

export interface ConnectorHealth {
  name: string;
  state: string;
  live: boolean;
  rate: number | null;
  sent: number | null;
  spooled: number | null;
  failed: number | null;
  dead_lettered: number | null;
}

export interface StreamHealth {
  lag: number | null;
  rate: number | null;
  counted: number | null;
  duplicates: number | null;
  dead_lettered: number | null;
  late: number | null;
  watermark: string | null;
}

export interface Feed {
  feed: FeedName;
  /**
   * idle: the connector runs and nothing waits to be counted, the source is just quiet;
   * quiet: outside the feed's office hours or on a public holiday (feed_calendar.yaml).
   */
  state: "ok" | "idle" | "quiet" | "stale" | "down";
  last_window: string | null;
  events_last_5m: number;
  series: { bucket: string; events: number }[];
  connectors: ConnectorHealth[];
  stream: StreamHealth | null;
}

export interface Feeds {
  /** When the API computed it (not in the contract; used when present). */
  at?: string;
  items: Feed[];
}

export type Severity = "info" | "warning" | "critical";
export type AlertState = "firing" | "acknowledged" | "resolved";

export interface Alert {
  id: number;
  rule: string;
  kpi: string | null;
  kpi_name_vi: string | null;
  kpi_name_en: string | null;
  area: string;
  area_name_vi: string | null;
  area_name_en: string | null;
  severity: Severity;
  state: AlertState;
  level: string | number | null;
  started_at: string;
  fired_at: string | null;
  acknowledged_at: string | null;
  acknowledged_by: string | null;
  resolved_at: string | null;
  value: number | null;
  target: number | null;
  summary_vi: string | null;
  summary_en: string | null;
  /** The child areas that moved the KPI most in the bad direction (province, district). */
  contributors?: Contributor[];
  /** For an availability KPI: the points down in the area when it fired. */
  entities?: EntityAtFault[];
  entities_down?: number;
}

export interface Contributor {
  area: string;
  area_name_vi: string | null;
  area_name_en: string | null;
  value: number | null;
  gap: number;
  volume_effect: number;
  rate_effect: number;
}

export interface EntityAtFault {
  feed: string;
  entity: string;
  kind: string;
  area: string;
  area_name_vi: string | null;
  area_name_en: string | null;
  since: string;
  last_seen: string;
}

export type EntityState = "down" | "silent" | "up";

export interface Entity extends EntityAtFault {
  state: EntityState;
  up: boolean;
}

export interface EntityCounts {
  down: number;
  silent: number;
  up: number;
  total: number;
}

export interface EntitiesPage {
  at: string;
  counts: EntityCounts;
  items: Entity[];
  limit: number;
  next_cursor: string | null;
  filters: { feed: string | null; kind: string | null; area: string | null; state: EntityState | null; silent_minutes: number };
}

export interface AlertEvent {
  kind: "fired" | "acknowledged" | "escalated" | "resolved";
  alert: Alert;
}

export interface Page<T> {
  items: T[];
  limit: number;
  offset: number;
  total: number;
  next_offset: number | null;
}

export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
}
