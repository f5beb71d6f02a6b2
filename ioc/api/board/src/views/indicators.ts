/**
 * The periodic indicators beside the KPI tiles: values a department enters monthly, quarterly
 * or yearly (`GET /api/v1/indicators?area=…`), each against its target, with its due day and
 * "Chưa báo cáo" (not reported yet) in the late style once the due day has passed.
 */

import "./indicators.css";

import { api, query } from "../api";
import { fill, h } from "../dom";
import { fmtDateTime, fmtDay, fmtNumber, fmtPercent, lang, named } from "../i18n";
import { icon } from "../icons";
import { state } from "../state";
import type { IndicatorList, IndicatorState, IndicatorStatus } from "../types";

const WORDS = {
  vi: {
    title: "Chỉ tiêu định kỳ do sở, ngành báo cáo",
    note: "Kỳ gần nhất đã kết thúc",
    dueEstimate: "Hạn báo cáo: mặc định của hệ thống (ước tính), tỉnh quy định hạn của mình",
    target: "mục tiêu {value}",
    noTarget: "chưa đặt mục tiêu",
    estimate: "ước tính",
    due: "hạn {date}",
    rank: "hạng {n}",
    previous: "kỳ trước {value} ({period})",
    published: "đã công bố {when}: {value}",
    enteredBy: "Nhập bởi {name} lúc {time}",
    department: "Sở, ngành: {name}",
    source: "Căn cứ: {text}",
    empty: "Địa bàn này không báo cáo chỉ tiêu định kỳ nào.",
    failed: "Không tải được chỉ tiêu định kỳ.",
    "state.reported": "Đã báo cáo",
    "state.due": "Chờ báo cáo",
    "state.late": "Chưa báo cáo",
    meets: "Đạt",
    behind: "Chưa đạt",
  },
  en: {
    title: "Periodic indicators reported by departments",
    note: "The last period that ended",
    dueEstimate: "Due days: the system's defaults (estimate); the province sets its own",
    target: "target {value}",
    noTarget: "no target set",
    estimate: "estimate",
    due: "due {date}",
    rank: "rank {n}",
    previous: "before: {value} ({period})",
    published: "published {when}: {value}",
    enteredBy: "Entered by {name} at {time}",
    department: "Department: {name}",
    source: "Source: {text}",
    empty: "This area reports no periodic indicator.",
    failed: "Could not load the periodic indicators.",
    "state.reported": "Reported",
    "state.due": "Due",
    "state.late": "Not reported yet",
    meets: "Met",
    behind: "Behind",
  },
} as const;

type Word = keyof (typeof WORDS)["vi"];

function w(key: Word, params: Record<string, string | number> = {}): string {
  return WORDS[lang()][key].replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in params ? String(params[name]) : whole,
  );
}

let data: IndicatorList | null = null;
let failed = false;

/** A value in the indicator's unit: 92,5 %, hạng 12, 1.234,5. */
function value(v: number | null | undefined, item: IndicatorStatus): string {
  if (v == null) return "—";
  if (item.unit === "percent") return fmtPercent(v);
  if (item.unit === "rank") return w("rank", { n: fmtNumber(v, 0) });
  return fmtNumber(v, 2);
}

/** The period as people say it: Tháng 11/2026 (vi, from the API), 11/2026 or Q3 2026 (en). */
function periodText(period: string, vi: string | null): string {
  if (lang() === "vi" && vi) return vi;
  const m = /^(\d{4})-(\d{2})$/.exec(period);
  if (m) return `${m[2]}/${m[1]}`;
  const q = /^(\d{4})-Q([1-4])$/.exec(period);
  return q ? `Q${q[2]} ${q[1]}` : period;
}

function card(item: IndicatorStatus): HTMLElement {
  const s: IndicatorState = item.state;
  const verdict = item.meets === true ? "meets" : item.meets === false ? "behind" : null;
  const target =
    item.target == null
      ? w("noTarget")
      : w("target", { value: value(item.target, item) }) + (item.target_estimate ? ` (${w("estimate")})` : "");
  const title = [
    named(item.name_vi, item.name_en),
    w("department", { name: named(item.department_vi, item.department_en) }),
    item.target_source ? w("source", { text: item.target_source }) : null,
    item.target_note,
    item.entered_by && item.entered_at ? w("enteredBy", { name: item.entered_by, time: fmtDateTime(item.entered_at) }) : null,
  ]
    .filter(Boolean)
    .join("\n");
  const before =
    item.value == null && item.last_value != null && item.last_period
      ? w("previous", { value: value(item.last_value, item), period: periodText(item.last_period, null) })
      : null;
  // A result published before the product ran (seed figures): shown, never judged.
  const when = (r: IndicatorStatus["reported"][number]): string => (r.as_of ? fmtDay(r.as_of) : String(r.year ?? ""));
  const latest = [...item.reported].sort((a, b) => when(b).localeCompare(when(a)))[0];
  const published = latest
    ? h(
        "span",
        {
          class: "ind-published",
          attrs: { "data-role": "published", title: item.reported.map((r) => `${value(r.value, item)} · ${when(r)} · ${r.area} · ${r.source}`).join("\n") },
        },
        w("published", { when: when(latest), value: value(latest.value, item) }),
        latest.estimate ? ` (${w("estimate")})` : "",
      )
    : null;
  return h(
    "article",
    {
      class: ["ind", `ind-${s}`, verdict && `ind-${verdict}`],
      attrs: { "data-indicator": item.id, "data-state": s, title },
    },
    h("h3", { class: "ind-name", text: named(item.name_vi, item.name_en) }),
    h(
      "div",
      { class: "ind-main" },
      s === "reported"
        ? h("span", { class: "ind-value", text: value(item.value, item), attrs: { "data-role": "value" } })
        : h(
            "span",
            { class: ["ind-state", `ind-state-${s}`], attrs: { "data-role": "state" } },
            icon(s === "late" ? "critical" : "unknown"),
            w(`state.${s}`),
          ),
      h("span", { class: "ind-target", text: target }),
      verdict ? h("span", { class: ["ind-verdict", `verdict-${verdict}`], text: w(verdict) }) : null,
    ),
    h(
      "div",
      { class: "ind-foot" },
      h("span", { text: `${periodText(item.period, item.period_vi)} · ${w("due", { date: fmtDay(item.due) })}` }),
      before ? h("span", { class: "ind-before", text: before }) : null,
      published,
    ),
  );
}

/** The section's frame, placed under the KPI tiles; {@link loadIndicators} fills it. */
export function indicatorSection(): HTMLElement {
  const section = h(
    "section",
    { class: "indicators", attrs: { id: "indicators", "aria-labelledby": "title-indicators" } },
    h(
      "div",
      { class: "panel-head" },
      h("h3", { class: "ind-title", text: w("title"), attrs: { id: "title-indicators" } }),
      h("span", { class: "panel-note", text: w("note") }),
      h("span", { class: "panel-note", attrs: { "data-role": "due-note" } }),
    ),
    h("div", { class: "ind-list", attrs: { "data-role": "indicators" } }),
  );
  renderIndicators(section);
  return section;
}

export function renderIndicators(section: HTMLElement): void {
  const list = section.querySelector<HTMLElement>("[data-role=indicators]");
  if (!list) return;
  if (failed && !data) {
    fill(list, h("p", { class: "empty", text: w("failed") }));
    return;
  }
  const dueNote = section.querySelector<HTMLElement>("[data-role=due-note]");
  if (dueNote) dueNote.textContent = data?.items.some((i) => i.due_estimate) ? `· ${w("dueEstimate")}` : "";
  if (!data) {
    fill(list);
    return;
  }
  if (!data.items.length) {
    fill(list, h("p", { class: "empty", text: w("empty") }));
    return;
  }
  fill(list, ...data.items.map(card));
}

/** Fetch the indicators of the selected area and show them. */
export async function loadIndicators(): Promise<void> {
  const code = state.selected;
  try {
    const found = await api<IndicatorList>(`/api/v1/indicators${query({ area: code })}`);
    if (code !== state.selected) return;
    data = found;
    failed = false;
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    const section = document.getElementById("indicators");
    if (section) renderIndicators(section);
  }
}

/** Forget what was shown (another area is selected, or the key changed). */
export function clearIndicators(): void {
  data = null;
  failed = false;
}
