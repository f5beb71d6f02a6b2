/**
 * The area map: the children of the area on view at their coordinates (an SVG in Web
 * Mercator, shapes estimated from each area's point and bounds), coloured by status, with the
 * cameras and network points of a commune when it is chosen; beside it the same areas as a
 * list of buttons. An area whose children have no coordinates keeps the list alone (the
 * schematic grid), so a province file without geography still works.
 */

import { api, query } from "../api";
import { fill, h, s } from "../dom";
import { teCode } from "../entities-i18n";
import { fmtNumber, lang, named, t, word } from "../i18n";
import { icon, iconFor } from "../icons";
import { tm } from "../map-i18n";
import { hasChildren, pathTo, state } from "../state";
import type { EntitiesPage, Entity, MapChild, MapResponse } from "../types";
import { lastDay, openDrill } from "./drill";
import { openEntities } from "./entities";
import * as geo from "./geo";

import "./map.css";

/** The KPI a cell's list opens on: the first one behind target in the tiles, else the first. */
function drillKpi(): string | null {
  const items = state.kpis?.items ?? [];
  const behind = items.find((k) => k.meets === false && k.target != null && k.value != null);
  return behind?.kpi ?? items[0]?.kpi ?? state.kpiInfo.keys().next().value ?? null;
}

export interface MapActions {
  /** Show `code`'s children on the map and point the tiles at it. */
  open: (code: string) => void;
  /** Point the tiles at `code` (a leaf), keeping the map where it is. */
  select: (code: string) => void;
}

/** "dân số 12.345 (ước tính)": the overlay's figure, marked when it is an estimate. */
function population(child: MapChild): string | null {
  if (child.population == null) return null;
  const figure = t("population", { count: fmtNumber(child.population) });
  return child.estimated ? `${figure} (${t("estimateMark")})` : figure;
}

function cell(child: MapChild, actions: MapActions): HTMLElement {
  const name = named(child.name_vi, child.name_en);
  const status = word("status", child.status);
  const selected = child.code === state.selected;
  const details = [
    child.firing ? t("firing", { count: fmtNumber(child.firing) }) : null,
    child.below_target ? t("belowTarget", { count: fmtNumber(child.below_target) }) : null,
    t("eventsHour", { count: fmtNumber(child.events_last_hour) }),
    population(child),
  ].filter((x): x is string => Boolean(x));
  // The cell itself shows the short form; the long one is in the label and the tooltip.
  const short = [
    child.firing ? t("firingShort", { count: fmtNumber(child.firing) }) : null,
    child.below_target ? t("belowShort", { count: fmtNumber(child.below_target) }) : null,
    t("perHourShort", { count: fmtNumber(child.events_last_hour) }),
  ].filter(Boolean);
  const label = [name, status, ...details, child.has_children ? t("drillDown") : null, selected ? t("selected") : null]
    .filter(Boolean)
    .join(", ");
  return h(
    "li",
    { class: "cell-item" },
    h(
      "button",
      {
        class: ["cell", `status-${child.status}`, selected && "cell-selected", child.has_children && "cell-parent"],
        attrs: {
          type: "button",
          "data-area": child.code,
          "aria-label": label,
          "aria-pressed": selected ? "true" : "false",
          title: details.join(" · "),
        },
        on: { click: () => (child.has_children ? actions.open(child.code) : actions.select(child.code)) },
      },
      h("span", { class: "cell-name", text: name }),
      h("span", { class: "cell-status" }, icon(iconFor(child.status)), status),
      h("span", { class: "cell-detail", text: short.join(" · ") }),
      child.has_children ? h("span", { class: "cell-more", text: "›", attrs: { "aria-hidden": "true" } }) : null,
    ),
    // A sibling of the cell (a button cannot hold a button): the events behind the area's numbers.
    h("button", {
      class: "cell-drill",
      text: "≡",
      attrs: {
        type: "button",
        "data-drill-area": child.code,
        "aria-label": t("drillCellAria", { area: name }),
        title: t("drillCellAria", { area: name }),
      },
      on: {
        click: () => {
          const kpi = drillKpi();
          const trend = state.kpis?.items.find((k) => k.kpi === kpi)?.trend ?? [];
          if (kpi) openDrill({ kpi, area: child.code, ...lastDay(trend) });
        },
      },
    }),
  );
}

function breadcrumb(actions: MapActions): HTMLElement {
  const chain = pathTo(state.selected);
  const items = chain.map((area, i) => {
    const last = i === chain.length - 1;
    const name = named(area.name_vi, area.name_en);
    const go = (): void => (hasChildren(area.code) ? actions.open(area.code) : actions.select(area.code));
    return h(
      "li",
      {},
      last
        ? h("span", { class: "crumb-current", text: name, attrs: { "aria-current": "page" } })
        : h("button", { class: "crumb", text: name, attrs: { type: "button" }, on: { click: go } }),
    );
  });
  return h("nav", { class: "crumbs", attrs: { "aria-label": t("breadcrumb") } }, h("ol", {}, ...items));
}

// --- the geographic view ------------------------------------------------------------------

/** A child drawn on the map: its point and approximate shape, in SVG user units. */
interface Placed {
  child: MapChild;
  name: string;
  point: geo.XY;
  shape: geo.Polygon;
}

/** The geometry of one map response (kept while the same response is on screen). */
interface Layout {
  data: MapResponse;
  /** The language the names are in. */
  lang: string;
  /** Mercator units → user units: the frame is 1000 wide. */
  frame: geo.Box;
  scale: number;
  width: number;
  height: number;
  placed: Placed[];
  unplaced: MapChild[];
}

const WIDTH = 1000;
let layoutCache: Layout | null = null;

function pointOf(child: MapChild): geo.XY | null {
  if (child.lat != null && child.lon != null) return geo.project(child.lon, child.lat);
  if (child.bounds) {
    const b = geo.boxOf(child.bounds);
    return { x: (b.x0 + b.x1) / 2, y: (b.y0 + b.y1) / 2 };
  }
  return null;
}

function layoutOf(data: MapResponse): Layout | null {
  if (layoutCache?.data === data && layoutCache.lang === lang()) return layoutCache;
  const sites: { child: MapChild; site: geo.Site }[] = [];
  const unplaced: MapChild[] = [];
  for (const child of data.children) {
    const point = pointOf(child);
    if (point) sites.push({ child, site: { point, box: child.bounds ? geo.boxOf(child.bounds) : null } });
    else unplaced.push(child);
  }
  if (!sites.length) return null;
  const extent = geo.union(
    sites.map(({ site }) => site.box ?? { x0: site.point.x, y0: site.point.y, x1: site.point.x, y1: site.point.y }),
  );
  if (!extent) return null;
  // A floor of ~1 km keeps a single point from becoming an infinitely thin map.
  const frame = geo.pad(extent, 0.04, 2.5e-6);
  const scale = WIDTH / (frame.x1 - frame.x0);
  const user = (p: geo.XY): geo.XY => ({ x: (p.x - frame.x0) * scale, y: (p.y - frame.y0) * scale });
  const shapes = geo.cells(
    sites.map((x) => x.site),
    frame,
  );
  const placed = sites.map(({ child, site }, i) => ({
    child,
    name: named(child.name_vi, child.name_en),
    point: user(site.point),
    shape: shapes[i].map(user),
  }));
  const height = (frame.y1 - frame.y0) * scale;
  layoutCache = { data, lang: lang(), frame, scale, width: WIDTH, height, placed, unplaced };
  return layoutCache;
}

/** "Phường Phố Hiến" → "Phố Hiến", "Pho Hien Ward" → "Pho Hien": the map's short labels. */
function shortName(name: string): string {
  return name
    .replace(/^(Thành phố|Thị trấn|Thị xã|Đặc khu|Phường|Huyện|Quận|Xã)\s+/u, "")
    .replace(/\s+(Ward|Commune|Township|District|Town|City)$/u, "");
}

function pathD(poly: geo.Polygon): string {
  return poly.length ? `M${poly.map((p) => `${p.x.toFixed(1)},${p.y.toFixed(1)}`).join("L")}Z` : "";
}

// --- the entities of the commune in view -------------------------------------------------------

interface Points {
  area: string;
  at: number;
  page: EntitiesPage | null;
  loading: boolean;
  error: string;
}

const POINTS_LIMIT = 500;
const POINTS_REFRESH_MS = 30_000;
let points: Points = { area: "", at: 0, page: null, loading: false, error: "" };
let redraw: () => void = () => undefined;

function wantPoints(area: string): void {
  const fresh = points.area === area && Date.now() - points.at < POINTS_REFRESH_MS;
  if (fresh || (points.loading && points.area === area)) return;
  if (points.area !== area) points = { area, at: 0, page: null, loading: false, error: "" };
  points.loading = true;
  const params = new URLSearchParams(query({ area, limit: POINTS_LIMIT, silent_minutes: 10 }));
  params.append("feed", "camera");
  params.append("feed", "network");
  api<EntitiesPage>(`/api/v1/entities?${params.toString()}`)
    .then((page) => {
      if (points.area !== area) return;
      points = { area, at: Date.now(), page, loading: false, error: "" };
    })
    .catch((err: unknown) => {
      if (points.area !== area) return;
      points = { ...points, at: Date.now(), loading: false, error: err instanceof Error ? err.message : String(err) };
    })
    .finally(() => {
      if (points.area === area) redraw();
    });
}

function entityMarker(e: Entity, at: geo.XY, size: number): SVGElement {
  const title = `${teCode("kind", e.kind)} ${e.entity} · ${teCode("state", e.state)}`;
  const shape =
    e.feed === "camera"
      ? s("circle", { cx: at.x.toFixed(2), cy: at.y.toFixed(2), r: (size * 0.55).toFixed(2), class: "ent-shape" })
      : s("path", {
          d: [
            `M${at.x},${at.y - size * 0.7}L${at.x + size * 0.7},${at.y}`,
            `L${at.x},${at.y + size * 0.7}L${at.x - size * 0.7},${at.y}Z`,
          ].join(""),
          class: "ent-shape",
        });
  // Down is told by a cross as well as the colour.
  const cross =
    e.state === "down"
      ? s("path", {
          d: [
            `M${at.x - size * 0.3},${at.y - size * 0.3}L${at.x + size * 0.3},${at.y + size * 0.3}`,
            `M${at.x + size * 0.3},${at.y - size * 0.3}L${at.x - size * 0.3},${at.y + size * 0.3}`,
          ].join(""),
          class: "ent-cross",
        })
      : null;
  return s(
    "g",
    { class: `ent ent-${e.feed} ent-${e.state}`, "data-entity": e.entity, "data-state": e.state },
    s("title", {}, title),
    shape,
    cross,
  );
}

// --- drawing -------------------------------------------------------------------------------

interface View {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** The whole frame, or the chosen commune with a margin of its neighbours, at the same aspect. */
function viewOf(layout: Layout, zoomed: Placed | null): View {
  const full: View = { x: 0, y: 0, w: layout.width, h: layout.height };
  const box = zoomed ? geo.polygonBox(zoomed.shape) : null;
  if (!box) return full;
  const b = geo.pad(box, 0.3);
  let w = b.x1 - b.x0;
  let h = b.y1 - b.y0;
  const aspect = full.w / full.h;
  if (w / h < aspect) w = h * aspect;
  else h = w / aspect;
  const cx = (b.x0 + b.x1) / 2;
  const cy = (b.y0 + b.y1) / 2;
  return { x: cx - w / 2, y: cy - h / 2, w, h };
}

function tiles(layout: Layout, view: View): SVGElement | null {
  const basemap = layout.data.basemap;
  if (!basemap?.url) return null;
  const { frame, scale } = layout;
  const merc: geo.Box = {
    x0: frame.x0 + view.x / scale,
    y0: frame.y0 + view.y / scale,
    x1: frame.x0 + (view.x + view.w) / scale,
    y1: frame.y0 + (view.y + view.h) / scale,
  };
  const group = s("g", { class: "map-tiles", "aria-hidden": "true" });
  for (const { z, x, y } of geo.tilesFor(merc, 900)) {
    const n = 2 ** z;
    const href = basemap.url.replace("{z}", String(z)).replace("{x}", String(x)).replace("{y}", String(y));
    group.append(
      s("image", {
        href,
        class: "map-tile",
        x: ((x / n - frame.x0) * scale).toFixed(2),
        y: ((y / n - frame.y0) * scale).toFixed(2),
        width: ((1 / n) * scale + 0.5).toFixed(2),
        height: ((1 / n) * scale + 0.5).toFixed(2),
        preserveAspectRatio: "none",
      }),
    );
  }
  return group;
}

function activate(child: MapChild, actions: MapActions): void {
  if (child.has_children) actions.open(child.code);
  else actions.select(child.code);
}

/** Up one step: from a chosen commune to the map's area, from the map's area to its parent. */
function back(actions: MapActions): void {
  if (state.selected !== state.mapArea) {
    actions.open(state.mapArea);
    return;
  }
  const parent = state.areas.get(state.mapArea)?.parent;
  if (parent && state.mapArea !== state.root && state.areas.has(parent)) actions.open(parent);
}

/** The nearest area in the arrow's direction (within 60° either side of it). */
function neighbour(layout: Layout, from: Placed, key: string): Placed | null {
  const dir = { ArrowRight: [1, 0], ArrowLeft: [-1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] }[key];
  if (!dir) return null;
  let best: Placed | null = null;
  let bestScore = Infinity;
  for (const p of layout.placed) {
    if (p === from) continue;
    const dx = p.point.x - from.point.x;
    const dy = p.point.y - from.point.y;
    const along = dx * dir[0] + dy * dir[1];
    const across = Math.abs(dx * dir[1] - dy * dir[0]);
    if (along <= 0 || across > along * 1.8) continue;
    const score = along + across * 2;
    if (score < bestScore) {
      bestScore = score;
      best = p;
    }
  }
  return best;
}

function mapSvg(layout: Layout, actions: MapActions, zoomed: Placed | null, pixels: number): SVGSVGElement {
  const view = viewOf(layout, zoomed);
  const area = state.map ? named(state.map.area.name_vi, state.map.area.name_en) : "";
  // Labels about 2.2 % of the width, and never under 11 px on a narrow screen.
  const font = Math.max(view.w * 0.022, (11 * view.w) / Math.max(pixels, 1));
  const svg = s("svg", {
    class: ["map-svg", layout.data.basemap?.url ? "map-with-basemap" : "", zoomed ? "map-zoomed" : ""]
      .filter(Boolean)
      .join(" "),
    viewBox: `${view.x.toFixed(2)} ${view.y.toFixed(2)} ${view.w.toFixed(2)} ${view.h.toFixed(2)}`,
    role: "group",
    "aria-label": tm("mapAria", { area, count: layout.placed.length }),
    "aria-describedby": "map-hint",
    "data-role": "map-svg",
  });
  svg.append(...[tiles(layout, view)].filter((x): x is SVGElement => x !== null));

  // One tab stop for the whole map (a roving tabindex): the chosen area, else the first.
  const focusCode =
    zoomed?.child.code ??
    layout.placed.find((p) => p.child.code === state.selected)?.child.code ??
    layout.placed[0]?.child.code;
  const areas = s("g", { class: "map-areas" });
  const labels = s("g", { class: "map-labels", "aria-hidden": "true" });
  for (const p of layout.placed) {
    const child = p.child;
    const selected = child.code === state.selected;
    const status = word("status", child.status);
    const label = [
      p.name,
      status,
      child.firing ? t("firing", { count: fmtNumber(child.firing) }) : null,
      child.below_target ? t("belowTarget", { count: fmtNumber(child.below_target) }) : null,
      t("eventsHour", { count: fmtNumber(child.events_last_hour) }),
      population(child),
      child.has_children ? t("drillDown") : null,
      selected ? t("selected") : null,
    ]
      .filter(Boolean)
      .join(", ");
    const item = s(
      "g",
      {
        class: ["map-item", `status-${child.status}`, selected ? "map-selected" : "", zoomed && !selected ? "map-dim" : ""]
          .filter(Boolean)
          .join(" "),
        "data-map-area": child.code,
        role: "button",
        tabindex: child.code === focusCode ? 0 : -1,
        "aria-label": label,
        "aria-pressed": selected ? "true" : "false",
      },
      s("title", {}, [p.name, status, population(child)].filter(Boolean).join(" · ")),
      s("path", { class: "map-shape", d: pathD(p.shape), "vector-effect": "non-scaling-stroke" }),
    );
    item.addEventListener("click", () => activate(child, actions));
    item.addEventListener("mouseenter", () => hot(child.code, true));
    item.addEventListener("mouseleave", () => hot(child.code, false));
    areas.append(item);

    // A label where it fits (or for the area chosen); the full name is in the item's label.
    const text = shortName(p.name);
    const box = geo.polygonBox(p.shape);
    const fits = box ? text.length * font * 0.55 < (box.x1 - box.x0) * 1.25 : false;
    const { x, y } = p.point;
    labels.append(s("circle", { class: "map-dot", cx: x.toFixed(1), cy: y.toFixed(1), r: (font * 0.2).toFixed(2) }));
    // An area in alert is always named: it is what the operator looks for.
    if (fits || selected || zoomed || child.status === "critical" || child.status === "warning") {
      labels.append(
        s(
          "text",
          {
            class: ["map-label", selected ? "map-label-selected" : ""].join(" "),
            x: p.point.x.toFixed(1),
            y: (p.point.y - font * 0.45).toFixed(1),
            "font-size": font.toFixed(2),
            "stroke-width": (font * 0.2).toFixed(2),
          },
          text,
        ),
      );
    }
    if (child.status === "warning" || child.status === "critical") {
      const size = font * 1.1;
      const mark = icon(iconFor(child.status));
      const where = { x: x - size / 2, y: y + font * 0.35, width: size, height: size };
      for (const [k, v] of Object.entries(where))
        mark.setAttribute(k, v.toFixed(2));
      mark.classList.add("map-mark", `status-${child.status}`);
      labels.append(mark);
    }
  }
  svg.append(areas, labels);
  if (zoomed) svg.append(pointsLayer(zoomed, font));

  svg.addEventListener("keydown", (event) => {
    const target = (event.target as Element | null)?.closest<SVGGElement>("[data-map-area]");
    const from = layout.placed.find((p) => p.child.code === target?.dataset.mapArea);
    if (!from) return;
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      activate(from.child, actions);
    } else if (event.key === "Escape" || event.key === "Backspace") {
      event.preventDefault();
      back(actions);
    } else {
      const next = neighbour(layout, from, event.key);
      if (!next) return;
      event.preventDefault();
      for (const el of svg.querySelectorAll<SVGGElement>("[data-map-area]")) el.setAttribute("tabindex", "-1");
      const el = svg.querySelector<SVGGElement>(`[data-map-area="${CSS.escape(next.child.code)}"]`);
      el?.setAttribute("tabindex", "0");
      el?.focus();
    }
  });
  return svg;
}

function pointsLayer(zoomed: Placed, font: number): SVGElement {
  const group = s("g", { class: "map-points", "data-role": "map-points" });
  const page = points.area === zoomed.child.code ? points.page : null;
  const items = page?.items ?? [];
  // Smaller markers when a commune has many points, so they do not cover one another.
  const size = font * 1.1 * Math.min(1, Math.max(0.45, Math.sqrt(20 / Math.max(items.length, 1))));
  for (const e of items) {
    group.append(entityMarker(e, geo.placeById(`${e.feed}:${e.entity}`, zoomed.shape, zoomed.point), size));
  }
  return group;
}

function pointsNote(zoomed: Placed): HTMLElement {
  const code = zoomed.child.code;
  const page = points.area === code ? points.page : null;
  const box = h("div", { class: "map-points-note", attrs: { "data-role": "map-points-note" } });
  if (!page) {
    box.append(h("p", { class: "panel-note", text: points.error || tm("pointsLoading") }));
    return box;
  }
  if (!page.items.length) {
    box.append(h("p", { class: "panel-note", text: tm("pointsNone", { area: zoomed.name }) }));
    return box;
  }
  const cameras = page.items.filter((e) => e.feed === "camera").length;
  fill(
    box,
    h("p", {
      text: tm("pointsSummary", {
        area: zoomed.name,
        cameras: fmtNumber(cameras),
        network: fmtNumber(page.items.length - cameras),
        down: fmtNumber(page.counts.down),
        silent: fmtNumber(page.counts.silent),
      }),
      attrs: { "data-role": "map-points-summary" },
    }),
    page.next_cursor
      ? h("p", {
          class: "panel-note",
          text: tm("pointsMore", { shown: fmtNumber(page.items.length), total: fmtNumber(page.counts.total) }),
        })
      : null,
    h("p", { class: "map-estimate", text: tm("pointsEstimate"), attrs: { "data-role": "points-estimate" } }),
    h("button", {
      class: "btn btn-ghost",
      text: tm("pointsList"),
      attrs: { type: "button", "data-role": "map-points-list" },
      on: { click: () => openEntities({ feed: "camera,network", state: "", area: code }) },
    }),
  );
  return box;
}

function legend(zoomed: boolean): HTMLElement {
  const statuses = (["ok", "warning", "critical", "no_data"] as const).map((st) =>
    h(
      "li",
      { class: `legend-item status-${st}` },
      h("span", { class: "legend-swatch", attrs: { "aria-hidden": "true" } }),
      icon(iconFor(st)),
      word("status", st),
    ),
  );
  const kinds = zoomed
    ? [
        ...(["camera", "network"] as const).map((kind) =>
          h("li", { class: "legend-item" }, h("span", { class: `legend-${kind}`, attrs: { "aria-hidden": "true" } }), tm(kind)),
        ),
        // A point's state: filled green, hollow amber, red with a cross (not colour alone).
        ...(["up", "silent", "down"] as const).map((st) =>
          h(
            "li",
            { class: "legend-item" },
            h("span", { class: `legend-state legend-${st}`, attrs: { "aria-hidden": "true" } }),
            teCode("state", st),
          ),
        ),
      ]
    : [];
  return h("ul", { class: "map-legend", attrs: { "aria-label": tm("legend") } }, ...statuses, ...kinds);
}

/** Light the same area on the map and in the list while the pointer is on either. */
function hot(code: string, on: boolean): void {
  const selector = `[data-map-area="${CSS.escape(code)}"], button.cell[data-area="${CSS.escape(code)}"]`;
  for (const el of document.querySelectorAll(selector)) el.classList.toggle("is-hot", on);
}

function geoView(layout: Layout, actions: MapActions, pixels: number): HTMLElement {
  const zoomed =
    state.selected !== state.mapArea
      ? (layout.placed.find((p) => p.child.code === state.selected && !p.child.has_children) ?? null)
      : null;
  const mapArea = state.areas.get(state.mapArea) ?? state.map?.area;
  const basemap = layout.data.basemap;
  const list = h("ul", { class: "cells cells-dense cells-beside-map", attrs: { "aria-describedby": "map-hint" } });
  list.append(
    ...layout.data.children.map((child) => {
      const li = cell(child, actions);
      if (layout.unplaced.includes(child)) {
        li.querySelector(".cell-detail")?.append(` · ${tm("noCoords")}`);
        li.classList.add("cell-unplaced");
      }
      const button = li.querySelector<HTMLElement>("button.cell");
      button?.addEventListener("mouseenter", () => hot(child.code, true));
      button?.addEventListener("mouseleave", () => hot(child.code, false));
      return li;
    }),
  );
  return h(
    "div",
    { class: ["map-geo", zoomed && "map-geo-zoomed"], attrs: { "data-role": "map-geo" } },
    h(
      "div",
      { class: "map-canvas" },
      mapSvg(layout, actions, zoomed, pixels),
      zoomed && mapArea
        ? h("button", {
            class: "btn map-back",
            text: `‹ ${tm("back", { area: named(mapArea.name_vi, mapArea.name_en) })}`,
            attrs: {
              type: "button",
              "data-role": "map-back",
              "aria-label": tm("backAria", { area: named(mapArea.name_vi, mapArea.name_en) }),
            },
            on: { click: () => back(actions) },
          })
        : null,
    ),
    // Beside the map on a wall screen, under it elsewhere: the words, then the list.
    h(
      "div",
      { class: "map-side" },
      legend(Boolean(zoomed)),
      zoomed ? pointsNote(zoomed) : null,
      h("p", { class: "map-estimate", text: tm("shapesEstimate"), attrs: { "data-role": "shapes-estimate" } }),
      layout.unplaced.length
        ? h("p", { class: "panel-note", text: tm("notOnMap", { count: fmtNumber(layout.unplaced.length) }) })
        : null,
      basemap?.url && basemap.attribution
        ? h("p", { class: "map-attribution", text: tm("basemapBy", { attribution: basemap.attribution }) })
        : null,
      list,
    ),
  );
}

/** The on-screen width, in pixels, of the map's whole view (the SVG scales it to fit). */
function onScreenWidth(svg: SVGSVGElement): number {
  const box = svg.getBoundingClientRect();
  const view = svg.viewBox.baseVal;
  if (!view || !view.width || !view.height || !box.width || !box.height) return 0;
  return Math.min(box.width / view.width, box.height / view.height) * view.width;
}

let drawnWidth: number | null = null;

/** What the map was last drawn from, per panel: a refresh with the same answer draws nothing. */
const drawn = new WeakMap<HTMLElement, string>();

export function renderMap(panel: HTMLElement, actions: MapActions): void {
  const crumbs = panel.querySelector<HTMLElement>("[data-role=crumbs]");
  const cells = panel.querySelector<HTMLElement>("[data-role=cells]");
  if (!crumbs || !cells) return;
  redraw = () => renderMap(panel, actions);
  // Before the unchanged-map check below: a commune's points are refreshed on their own clock.
  const chosen =
    state.selected !== state.mapArea ? state.map?.children.find((c) => c.code === state.selected) : undefined;
  if (chosen && !chosen.has_children && pointOf(chosen)) wantPoints(chosen.code);
  // Redrawing an unchanged map would drop the pointer's hover and restart nothing useful.
  const inputs = JSON.stringify([
    state.map,
    state.mapArea,
    state.selected,
    state.root,
    points.area,
    points.at,
    points.error,
  ]);
  if (drawn.get(cells) === inputs && state.map) return;
  drawn.set(cells, inputs);
  fill(crumbs, breadcrumb(actions));
  const data = state.map;
  if (!data || data.area.code !== state.mapArea) {
    fill(cells, h("p", { class: "empty", text: t("loading") }));
    return;
  }
  if (!data.children.length) {
    fill(cells, h("p", { class: "empty", text: t("noChildren") }));
    return;
  }
  // A refresh must not take the keyboard focus away from the area the operator is on.
  const active = document.activeElement as HTMLElement | SVGElement | null;
  const focusedCell = active instanceof HTMLElement ? active.dataset.area : undefined;
  const focusedShape = active instanceof SVGElement ? active.dataset.mapArea : undefined;
  const focusedBack = active instanceof HTMLElement && active.dataset.role === "map-back";
  const layout = layoutOf(data);
  if (layout) {
    fill(cells, geoView(layout, actions, drawnWidth ?? (cells.clientWidth || WIDTH)));
    // Labels are sized in map units; the map's size on screen is known only once it is in the
    // page (a wall screen's panel is short, a phone narrow): measure, and redraw once if off.
    const svg = cells.querySelector<SVGSVGElement>("[data-role=map-svg]");
    const shown = svg ? onScreenWidth(svg) : 0;
    if (svg && shown > 0 && Math.abs(shown - (drawnWidth ?? 0)) > 20) {
      drawnWidth = shown;
      fill(cells, geoView(layout, actions, shown));
    }
  } else {
    // No child has coordinates: the schematic grid.
    const list = h("ul", {
      class: ["cells", data.children.length > 30 && "cells-dense"],
      attrs: { "aria-describedby": "map-hint" },
    });
    list.append(...data.children.map((child) => cell(child, actions)));
    fill(cells, list);
  }
  if (focusedCell) cells.querySelector<HTMLElement>(`button.cell[data-area="${CSS.escape(focusedCell)}"]`)?.focus();
  else if (focusedShape) {
    const el = cells.querySelector<SVGGElement>(`[data-map-area="${CSS.escape(focusedShape)}"]`);
    if (el) {
      for (const other of cells.querySelectorAll<SVGGElement>("[data-map-area]")) other.setAttribute("tabindex", "-1");
      el.setAttribute("tabindex", "0");
      el.focus();
    }
  } else if (focusedBack) {
    // The back button is gone once zoomed out: keep the keyboard on the map.
    cells.querySelector<SVGGElement>("[data-map-area][tabindex='0']")?.focus();
  }
}
