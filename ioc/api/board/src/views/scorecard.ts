/**
 * The QĐ 766/QĐ-TTg scorecard: the national index of service to citizens and businesses, per
 * DVC agency or per commune of the area, ranked, with the change from the month before
 * (`GET /api/v1/scorecard`), in a dialog over the board.
 *
 * Components that a feed measures show their ratio and estimated points; those no feed
 * carries say so, with where their data would come from ("chưa có dữ liệu (nguồn: …)"),
 * never a number. The points are estimates and the dialog says so (`estimate_note`).
 */

import "./scorecard.css";

import { api, ApiError, query } from "../api";
import { fill, h } from "../dom";
import { fmtNumber, fmtPercent, lang } from "../i18n";
import { state } from "../state";

// The API's shapes (ioc/api/queries/scorecard.py), kept with the view that reads them.
interface ComponentDef {
  id: string;
  name_vi: string;
  max_points: number | null;
  threshold: number;
  kpis: string[];
  missing_source: string | null;
  note: string | null;
}

interface GroupDef {
  number: number;
  name_vi: string;
  max_points: number;
  components: ComponentDef[];
}

interface ComponentScore {
  id: string;
  numerator: number | null;
  denominator: number | null;
  value: number | null;
  points: number | null;
}

interface UnitScore {
  code: string;
  name_vi: string;
  rank: number | null;
  score: number | null;
  points: number;
  possible: number;
  previous_score: number | null;
  previous_rank: number | null;
  change: number | null;
  components: ComponentScore[];
}

interface PeriodInfo {
  label: string;
  label_vi: string;
}

export interface ScorecardResponse {
  area: { code: string; name_vi: string };
  period: PeriodInfo;
  previous_period: PeriodInfo;
  by: "agency" | "commune";
  decision: string;
  estimate_note: string;
  groups: GroupDef[];
  total: UnitScore;
  units: UnitScore[];
}

type By = "agency" | "commune";

const WORDS = {
  vi: {
    open: "Bảng điểm QĐ 766",
    title: "Chỉ số phục vụ người dân, doanh nghiệp (QĐ 766/QĐ-TTg)",
    close: "Đóng",
    period: "Kỳ (tháng)",
    agency: "Theo cơ quan",
    commune: "Theo xã, phường",
    rank: "Hạng",
    unit: "Đơn vị",
    score: "Điểm (% điểm đo được)",
    change: "So với {prev}",
    points: "điểm",
    loading: "Đang tải…",
    noUnits: "Không có đơn vị nào có dữ liệu trong kỳ.",
    missingTitle: "Chưa có dữ liệu (không luồng dữ liệu nào mang chỉ số này):",
    noData: "chưa có dữ liệu",
    source: "nguồn",
    whole: "Toàn địa bàn",
    wasRank: "hạng trước: {rank}",
  },
  en: {
    open: "QĐ 766 scorecard",
    title: "Index of service to citizens and businesses (QĐ 766/QĐ-TTg)",
    close: "Close",
    period: "Period (month)",
    agency: "By agency",
    commune: "By commune",
    rank: "Rank",
    unit: "Unit",
    score: "Score (% of measured points)",
    change: "vs {prev}",
    points: "points",
    loading: "Loading…",
    noUnits: "No unit has data in this period.",
    missingTitle: "No data yet (no feed carries these components):",
    noData: "no data yet",
    source: "source",
    whole: "Whole area",
    wasRank: "previous rank: {rank}",
  },
} as const;

type Word = keyof (typeof WORDS)["vi"];

function w(key: Word, params: Record<string, string | number> = {}): string {
  return WORDS[lang()][key].replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
}

interface View {
  by: By;
  period: string;
  data: ScorecardResponse | null;
  error: string;
  loading: AbortController | null;
}

let dialog: HTMLDialogElement | null = null;
let view: View | null = null;

function thisMonth(): string {
  const parts = new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Ho_Chi_Minh", year: "numeric", month: "2-digit" }).formatToParts(new Date());
  const get = (type: string): string => parts.find((p) => p.type === type)?.value ?? "";
  return `${get("year")}-${get("month")}`;
}

function signedPoints(change: number | null): HTMLElement {
  if (change == null) return h("span", { class: "sc-nodata", text: "—" });
  const points = change * 100;
  const text = `${points > 0 ? "+" : ""}${fmtNumber(points, 1)}`;
  return h("span", { class: points > 0.05 ? "sc-up" : points < -0.05 ? "sc-down" : "", text });
}

function cell(score: ComponentScore | undefined, def: ComponentDef): HTMLElement {
  if (!score || score.value == null) return h("td", { class: "sc-nodata", text: "—", attrs: { title: w("noData") } });
  const points = score.points == null ? "" : ` · ${fmtNumber(score.points, 1)}`;
  const title = `${def.id} ${def.name_vi}: ${fmtNumber(score.numerator, 0)} / ${fmtNumber(score.denominator, 0)}${def.note ? ` — ${def.note}` : ""}`;
  return h("td", { text: `${fmtPercent(score.value)}${points}`, attrs: { title } });
}

function row(unit: UnitScore, measured: ComponentDef[], total: boolean): HTMLElement {
  const byId = new Map(unit.components.map((c) => [c.id, c]));
  return h(
    "tr",
    { class: total ? "sc-total" : "", attrs: total ? { "data-role": "total" } : { "data-unit": unit.code } },
    h("td", { text: total ? "" : unit.rank == null ? "—" : String(unit.rank), attrs: { title: unit.previous_rank == null ? "" : w("wasRank", { rank: unit.previous_rank }) } }),
    h("td", { class: "sc-name", text: total ? `${w("whole")} · ${unit.name_vi}` : unit.name_vi }),
    h("td", {}, unit.score == null ? h("span", { class: "sc-nodata", text: w("noData") }) : `${fmtPercent(unit.score)} (${fmtNumber(unit.points, 1)}/${fmtNumber(unit.possible, 0)})`),
    h("td", {}, signedPoints(unit.change)),
    ...measured.map((def) => cell(byId.get(def.id), def)),
  );
}

function table(data: ScorecardResponse): HTMLElement {
  const measured = data.groups.flatMap((g) => g.components.filter((c) => !c.missing_source));
  const groupHead = h(
    "tr",
    {},
    h("th", { attrs: { colspan: "4" } }),
    ...data.groups
      .map((g) => ({ g, n: g.components.filter((c) => !c.missing_source).length }))
      .filter(({ n }) => n > 0)
      .map(({ g, n }) => h("th", { class: "sc-group", text: `${g.number}. ${g.name_vi} (${fmtNumber(g.max_points, 0)} ${w("points")})`, attrs: { colspan: String(n) } })),
  );
  const head = h(
    "tr",
    {},
    h("th", { text: w("rank") }),
    h("th", { class: "sc-name", text: w("unit") }),
    h("th", { text: w("score") }),
    h("th", { text: w("change", { prev: data.previous_period.label_vi }) }),
    ...measured.map((c) =>
      h("th", {
        text: `${c.id}${c.max_points == null ? "" : ` (${fmtNumber(c.max_points, 0)})`}`,
        attrs: { title: `${c.name_vi}${c.note ? ` — ${c.note}` : ""}`, scope: "col" },
      }),
    ),
  );
  const body = h(
    "tbody",
    {},
    row(data.total, measured, true),
    ...data.units.filter((u) => u.score != null).map((u) => row(u, measured, false)),
  );
  return h("table", { class: "sc-table", attrs: { "data-role": "scorecard-table" } }, h("thead", {}, groupHead, head), body);
}

function missingList(data: ScorecardResponse): HTMLElement {
  const items = data.groups.flatMap((g) =>
    g.components
      .filter((c) => c.missing_source)
      .map((c) => h("li", { text: `${c.id} ${c.name_vi}: ${w("noData")} (${w("source")}: ${c.missing_source})` })),
  );
  return h("div", { attrs: { "data-role": "missing" } }, h("p", { class: "sc-note", text: w("missingTitle") }), h("ul", { class: "sc-missing" }, ...items));
}

function render(): void {
  if (!dialog || !view) return;
  const v = view;
  const byButton = (by: By): HTMLButtonElement =>
    h("button", {
      class: ["btn", "btn-ghost", v.by === by && "sc-by-on"],
      text: w(by),
      attrs: { type: "button", "aria-pressed": String(v.by === by), "data-by": by },
      on: { click: () => restart({ by }) },
    });
  const period = h("input", {
    class: "input",
    attrs: { type: "month", value: v.period, "aria-label": w("period"), "data-role": "period" },
    on: { change: (e) => restart({ period: (e.target as HTMLInputElement).value || thisMonth() }) },
  });
  const data = v.data;
  fill(
    dialog,
    h(
      "div",
      { class: "sc-head" },
      h(
        "div",
        { class: "sc-titles" },
        h("h2", { text: w("title"), attrs: { id: "scorecard-title" } }),
        h("p", { class: "sc-note", text: data ? `${data.area.name_vi} · ${data.period.label_vi} · ${data.decision}` : "" }),
      ),
      h("button", { class: "btn btn-ghost", text: w("close"), attrs: { type: "button" }, on: { click: () => dialog?.close() } }),
    ),
    h("div", { class: "sc-controls" }, h("label", { class: "sc-field" }, w("period"), period), byButton("agency"), byButton("commune")),
    v.error ? h("p", { class: "sc-error", text: v.error, attrs: { role: "alert" } }) : null,
    h(
      "div",
      { class: "sc-scroll" },
      data ? (data.units.some((u) => u.score != null) || data.total.score != null ? table(data) : h("p", { text: w("noUnits") })) : h("p", { text: w("loading") }),
    ),
    data ? h("p", { class: "sc-note", text: data.estimate_note, attrs: { "data-role": "estimate" } }) : null,
    data ? missingList(data) : null,
  );
}

async function load(): Promise<void> {
  if (!view) return;
  const v = view;
  v.loading?.abort();
  const controller = new AbortController();
  v.loading = controller;
  try {
    const data = await api<ScorecardResponse>(`/api/v1/scorecard${query({ period: v.period, by: v.by, area: state.selected || null })}`, { signal: controller.signal });
    if (view !== v || controller.signal.aborted) return;
    v.data = data;
    v.error = "";
  } catch (error) {
    if (controller.signal.aborted) return;
    v.error = error instanceof ApiError ? (error.problem?.detail ?? error.message) : String(error);
  } finally {
    if (v.loading === controller) v.loading = null;
  }
  render();
}

function restart(change: Partial<Pick<View, "by" | "period">>): void {
  if (!view) return;
  Object.assign(view, change, { data: null, error: "" });
  render();
  void load();
}

/** Open the scorecard of the selected area (this month, by agency). */
export function openScorecard(): void {
  view = { by: "agency", period: thisMonth(), data: null, error: "", loading: null };
  if (!dialog) {
    dialog = h("dialog", { class: "scorecard", attrs: { id: "scorecard", "aria-labelledby": "scorecard-title" } });
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
  void load();
}

/** The topbar's button that opens it. */
export function scorecardButton(): HTMLButtonElement {
  return h("button", {
    class: "btn btn-ghost",
    text: w("open"),
    attrs: { type: "button", id: "open-scorecard" },
    on: { click: () => openScorecard() },
  });
}
