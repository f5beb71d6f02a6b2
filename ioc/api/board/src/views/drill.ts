/**
 * Drill-through: the stored events behind a number, in a dialog over the board.
 *
 * A KPI tile, a map cell and an alert card call `openDrill` with the KPI, the area and the
 * span of the value they show; the dialog lists the events behind the value's numerator or
 * denominator (`GET /api/v1/kpis/{kpi}/events`), page by page with the API's cursor, and
 * downloads the whole list as CSV (fetched with the tab's key, saved from a blob: a plain
 * link could not send the Authorization header).
 */

import "./drill.css";

import { api, ApiError, authHeaders, query, raiseFor } from "../api";
import { fill, h } from "../dom";
import { fmtDateTime, fmtNumber, fmtTime, named, t } from "../i18n";
import { state } from "../state";

export type Part = "numerator" | "denominator";

export interface DrillRequest {
  kpi: string;
  area: string;
  /** The span of the value, ISO times: [from, to). */
  from: string;
  to: string;
  part?: Part;
}

interface DrillEvent {
  event_id: string;
  occurred_at: string;
  feed: string;
  kind: string;
  area: string;
  area_name_vi: string | null;
  entity: string;
  source: string;
  payload: Record<string, unknown>;
}

interface DrillPage {
  kpi: string;
  name_vi: string;
  name_en: string;
  part: Part;
  metric: string;
  area: string;
  area_name_vi: string;
  from: string;
  to: string;
  limit: number;
  total: number | null;
  items: DrillEvent[];
  next_cursor: string | null;
}

const PAGE_SIZE = 50;

interface View {
  request: Required<DrillRequest>;
  /** The cursor of each page shown so far: cursors[i] opened page i (null: the first). */
  cursors: (string | null)[];
  page: DrillPage | null;
  /** Which page `page` is (0: the first); the cursors run ahead while the next one loads. */
  index: number;
  total: number | null;
  error: string;
  csvBusy: boolean;
  csvError: string;
  loading: AbortController | null;
}

let dialog: HTMLDialogElement | null = null;
let view: View | null = null;

function explain(error: unknown): string {
  if (error instanceof ApiError) return error.problem?.detail ?? error.message;
  return error instanceof Error ? error.message : String(error);
}

function endpoint(request: DrillRequest): string {
  return `/api/v1/kpis/${encodeURIComponent(request.kpi)}/events`;
}

function params(v: View, extra: Record<string, string | number | null>): string {
  const r = v.request;
  return query({ area: r.area, part: r.part, from: r.from, to: r.to, ...extra });
}

/** "23/11/2026 08:00:05": the date and the time to the second, in Vietnam time. */
function fmtMoment(value: string): string {
  const [day] = fmtDateTime(value).split(" ");
  return `${day} ${fmtTime(value)}`;
}

function details(payload: Record<string, unknown>): string {
  return Object.entries(payload)
    .filter(([, value]) => value !== null && value !== undefined)
    .map(([name, value]) => `${name}: ${typeof value === "string" ? value : JSON.stringify(value)}`)
    .join(" · ");
}

async function load(cursor: string | null): Promise<void> {
  const v = view;
  if (!v) return;
  v.loading?.abort();
  const controller = new AbortController();
  const index = v.cursors.length - 1;
  v.loading = controller;
  v.error = "";
  render();
  try {
    const page = await api<DrillPage>(`${endpoint(v.request)}${params(v, { limit: PAGE_SIZE, cursor })}`, {
      signal: controller.signal,
    });
    if (view !== v || controller.signal.aborted) return;
    v.page = page;
    v.index = index;
    if (page.total !== null) v.total = page.total;
  } catch (error) {
    if (controller.signal.aborted || view !== v) return;
    v.error = t("drillFailed", { detail: explain(error) });
  } finally {
    if (v.loading === controller) v.loading = null;
  }
  render();
}

function restart(change: Partial<DrillRequest>): void {
  if (!view) return;
  view.request = { ...view.request, ...change };
  view.cursors = [null];
  view.page = null;
  view.index = 0;
  view.total = null;
  void load(null);
}

async function downloadCsv(): Promise<void> {
  const v = view;
  if (!v || v.csvBusy) return;
  v.csvBusy = true;
  v.csvError = "";
  render();
  try {
    const response = await fetch(`${endpoint(v.request)}${params(v, { format: "csv" })}`, {
      headers: { Accept: "text/csv", ...authHeaders() },
      cache: "no-store",
      credentials: "omit",
    });
    await raiseFor(response);
    const blob = await response.blob();
    const disposition = response.headers.get("Content-Disposition") ?? "";
    const name = /filename="([^"]+)"/.exec(disposition)?.[1] ?? `su-kien-${v.request.kpi}.csv`;
    const url = URL.createObjectURL(blob);
    const link = h("a", { attrs: { href: url, download: name, hidden: true } });
    document.body.append(link);
    link.click();
    link.remove();
    window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } catch (error) {
    v.csvError = t("drillCsvFailed", { detail: explain(error) });
  } finally {
    v.csvBusy = false;
    render();
  }
}

function table(page: DrillPage): HTMLElement {
  const head = h(
    "tr",
    {},
    ...(["colTime", "colArea", "colEntity", "colKind", "colSource", "colDetails"] as const).map((key) =>
      h("th", { text: t(key), attrs: { scope: "col" } }),
    ),
  );
  const rows = page.items.map((event) => {
    const area = event.area_name_vi ? `${event.area_name_vi} (${event.area})` : event.area;
    const more = details(event.payload);
    return h(
      "tr",
      { attrs: { "data-event": event.event_id } },
      h("td", { class: "drill-time", text: fmtMoment(event.occurred_at), attrs: { title: event.occurred_at } }),
      h("td", { text: area }),
      h("td", { class: "drill-entity", text: event.entity }),
      h("td", { class: "drill-nowrap", text: event.kind }),
      h("td", { class: "drill-nowrap", text: event.source }),
      h("td", { class: "drill-details", text: more, attrs: { title: `${event.event_id}\n${more}` } }),
    );
  });
  return h(
    "div",
    { class: "drill-scroll" },
    h("table", { class: "drill-table", attrs: { "data-role": "drill-table" } }, h("thead", {}, head), h("tbody", {}, ...rows)),
  );
}

function kpiPicker(v: View): HTMLElement {
  const select = h("select", {
    class: "input drill-select",
    attrs: { id: "drill-kpi", "data-role": "drill-kpi" },
    on: { change: () => restart({ kpi: select.value }) },
  });
  for (const info of state.kpiInfo.values()) {
    const option = h("option", { text: named(info.name_vi, info.name_en), attrs: { value: info.id } });
    option.selected = info.id === v.request.kpi;
    select.append(option);
  }
  return h("label", { class: "drill-field" }, h("span", { text: t("drillKpi") }), select);
}

function partSwitch(v: View): HTMLElement {
  const button = (part: Part, label: string): HTMLElement =>
    h("button", {
      class: ["btn", "drill-part", v.request.part === part && "drill-part-on"],
      text: label,
      attrs: { type: "button", "data-part": part, "aria-pressed": v.request.part === part ? "true" : "false" },
      on: { click: () => (v.request.part === part ? undefined : restart({ part })) },
    });
  return h(
    "div",
    { class: "drill-parts", attrs: { role: "group", "aria-label": t("drillPart") } },
    button("numerator", t("drillNumerator")),
    button("denominator", t("drillDenominator")),
  );
}

function pager(v: View): HTMLElement | null {
  const page = v.page;
  if (!page || !page.items.length) return null;
  const index = v.index;
  const first = index * PAGE_SIZE + 1;
  const last = first + page.items.length - 1;
  const text =
    v.total !== null
      ? t("drillPage", { first: fmtNumber(first), last: fmtNumber(last), total: fmtNumber(v.total) })
      : t("drillPageNoTotal", { first: fmtNumber(first), last: fmtNumber(last) });
  return h(
    "div",
    { class: "drill-pager" },
    h("button", {
      class: "btn",
      text: t("drillPrev"),
      attrs: { type: "button", "data-role": "drill-prev", disabled: index === 0 || v.loading !== null },
      on: {
        click: () => {
          v.cursors.pop();
          void load(v.cursors[v.cursors.length - 1]);
        },
      },
    }),
    h("span", { class: "drill-count", text, attrs: { "data-role": "drill-count", role: "status" } }),
    h("button", {
      class: "btn",
      text: t("drillNext"),
      attrs: { type: "button", "data-role": "drill-next", disabled: !page.next_cursor || v.loading !== null },
      on: {
        click: () => {
          if (!page.next_cursor) return;
          v.cursors.push(page.next_cursor);
          void load(page.next_cursor);
        },
      },
    }),
  );
}

function render(): void {
  const v = view;
  if (!dialog || !v) return;
  const info = state.kpiInfo.get(v.request.kpi);
  const kpiName = v.page ? named(v.page.name_vi, v.page.name_en) : info ? named(info.name_vi, info.name_en) : v.request.kpi;
  const area = state.areas.get(v.request.area);
  const areaName = area ? named(area.name_vi, area.name_en) : (v.page?.area_name_vi ?? v.request.area);
  const span = t("drillSpan", { area: areaName, from: fmtDateTime(v.request.from), to: fmtDateTime(v.request.to) });
  let body: HTMLElement;
  if (v.error) body = h("p", { class: "drill-error", text: v.error, attrs: { role: "alert" } });
  else if (!v.page) body = h("p", { class: "empty", text: t("loading") });
  else if (!v.page.items.length) body = h("p", { class: "empty", text: t("drillEmpty") });
  else body = table(v.page);
  fill(
    dialog,
    h(
      "div",
      { class: "drill-head" },
      h(
        "div",
        { class: "drill-titles" },
        h("p", { class: "drill-kicker", text: t("drillTitle") }),
        h("h2", { text: kpiName, attrs: { id: "drill-title" } }),
        h("p", { class: "drill-span", text: span }),
      ),
      h("button", {
        class: "btn btn-ghost drill-close",
        text: t("drillClose"),
        attrs: { type: "button", "data-role": "drill-close" },
        on: { click: () => closeDrill() },
      }),
    ),
    h(
      "div",
      { class: "drill-controls" },
      kpiPicker(v),
      partSwitch(v),
      h(
        "span",
        { class: "drill-metric", attrs: { title: v.page?.metric ?? "" } },
        v.page ? v.page.metric : "",
      ),
      h("button", {
        class: "btn btn-primary drill-csv",
        text: v.csvBusy ? t("drillCsvBusy") : t("drillCsv"),
        attrs: { type: "button", "data-role": "drill-csv", disabled: v.csvBusy },
        on: { click: () => void downloadCsv() },
      }),
    ),
    v.csvError ? h("p", { class: "drill-error", text: v.csvError, attrs: { role: "alert" } }) : null,
    body,
    pager(v),
  );
}

/** Open the list of events behind a number (replacing any list already open). */
export function openDrill(request: DrillRequest): void {
  view?.loading?.abort();
  view = {
    request: { part: "numerator", ...request },
    cursors: [null],
    page: null,
    index: 0,
    total: null,
    error: "",
    csvBusy: false,
    csvError: "",
    loading: null,
  };
  if (!dialog) {
    dialog = h("dialog", { class: "drill", attrs: { id: "drill", "aria-labelledby": "drill-title" } });
    dialog.addEventListener("close", () => {
      view?.loading?.abort();
      view = null;
      dialog?.remove();
      dialog = null;
    });
    document.body.append(dialog);
  }
  render();
  if (!dialog.open) dialog.showModal();
  void load(null);
}

export function closeDrill(): void {
  dialog?.close();
}

/** The span of a tile's value: the 24 hourly buckets of its trend (else the last 24 h). */
export function lastDay(trend: { bucket: string }[]): { from: string; to: string } {
  const hour = 3_600_000;
  if (trend.length) {
    const first = new Date(trend[0].bucket).getTime();
    const last = new Date(trend[trend.length - 1].bucket).getTime();
    return { from: new Date(first).toISOString(), to: new Date(last + hour).toISOString() };
  }
  const end = Math.ceil(Date.now() / hour) * hour;
  return { from: new Date(end - 24 * hour).toISOString(), to: new Date(end).toISOString() };
}
