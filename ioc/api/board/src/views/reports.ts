/**
 * The period report ("Báo cáo"): a leader picks a month or a quarter and downloads the Excel
 * workbook or the PDF of the selected area — the files `ioc reports build` writes and the
 * monthly email carries (`GET /api/v1/reports/{period}.xlsx|.pdf?area=…`).
 *
 * The download goes through fetch (the API key is a bearer header, never in a link), then
 * a Blob saved under the server's file name.
 */

import "./reports.css";

import { authHeaders, ApiError, query, raiseFor } from "../api";
import { fill, h } from "../dom";
import { lang } from "../i18n";
import { state } from "../state";

const WORDS = {
  vi: {
    open: "Báo cáo",
    title: "Báo cáo chỉ tiêu theo kỳ",
    note: "Mỗi chỉ tiêu so với mục tiêu và hạn, xu hướng, dự báo, các xã/phường và cơ quan thấp nhất, các cảnh báo của kỳ.",
    close: "Đóng",
    kind: "Kỳ",
    month: "Tháng",
    quarter: "Quý",
    year: "Năm",
    xlsx: "Tải Excel",
    pdf: "Tải PDF",
    busy: "Đang tạo báo cáo…",
    failed: "Không tải được báo cáo",
  },
  en: {
    open: "Report",
    title: "Period report",
    note: "Each KPI against its target and deadline, the trend, the forecast, the worst communes and agencies, the period's alerts.",
    close: "Close",
    kind: "Period",
    month: "Month",
    quarter: "Quarter",
    year: "Year",
    xlsx: "Download Excel",
    pdf: "Download PDF",
    busy: "Making the report…",
    failed: "The report could not be downloaded",
  },
} as const;

type Word = keyof (typeof WORDS)["vi"];
type Kind = "month" | "quarter";

function w(key: Word): string {
  return WORDS[lang()][key];
}

interface View {
  kind: Kind;
  month: string; // 2026-10
  year: number;
  quarter: number;
  busy: boolean;
  error: string;
}

let dialog: HTMLDialogElement | null = null;
let view: View | null = null;

/** Last month in Vietnam: the last whole month, the one a leader reports on. */
function lastMonth(): { month: string; year: number; quarter: number } {
  const parts = new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Ho_Chi_Minh", year: "numeric", month: "2-digit" }).formatToParts(new Date());
  let year = Number(parts.find((p) => p.type === "year")?.value);
  let month = Number(parts.find((p) => p.type === "month")?.value) - 1;
  if (month === 0) {
    month = 12;
    year -= 1;
  }
  return { month: `${year}-${String(month).padStart(2, "0")}`, year, quarter: Math.ceil(month / 3) };
}

function period(v: View): string {
  return v.kind === "month" ? v.month : `${v.year}-Q${v.quarter}`;
}

/** The file name the server gives (`bao-cao-33-2026-10.xlsx`), else one like it. */
function fileName(response: Response, fallback: string): string {
  const match = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") ?? "");
  return match?.[1] ?? fallback;
}

async function download(fmt: "xlsx" | "pdf"): Promise<void> {
  const v = view;
  if (!v || v.busy) return;
  v.busy = true;
  v.error = "";
  render();
  try {
    const path = `/api/v1/reports/${period(v)}.${fmt}${query({ area: state.selected || null })}`;
    const response = await fetch(path, { headers: authHeaders(), cache: "no-store", credentials: "omit" });
    await raiseFor(response);
    const url = URL.createObjectURL(await response.blob());
    const link = h("a", { attrs: { href: url, download: fileName(response, `bao-cao-${period(v)}.${fmt}`) } });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  } catch (error) {
    const detail = error instanceof ApiError ? (error.problem?.detail ?? error.message) : String(error);
    v.error = `${w("failed")}: ${detail}`;
  } finally {
    v.busy = false;
    if (view === v) render();
  }
}

function render(): void {
  if (!dialog || !view) return;
  const v = view;
  const kind = h(
    "select",
    { attrs: { id: "report-kind" }, on: { change: (e) => ((v.kind = (e.target as HTMLSelectElement).value as Kind), render()) } },
    ...(["month", "quarter"] as const).map((k) => h("option", { text: w(k), attrs: k === v.kind ? { value: k, selected: "" } : { value: k } })),
  );
  const pick =
    v.kind === "month"
      ? h("label", { class: "rp-field" }, w("month"), h("input", { attrs: { type: "month", id: "report-month", value: v.month }, on: { change: (e) => (v.month = (e.target as HTMLInputElement).value || v.month) } }))
      : h(
          "span",
          { class: "rp-row" },
          h("label", { class: "rp-field" }, w("quarter"), h("select", { attrs: { id: "report-quarter" }, on: { change: (e) => (v.quarter = Number((e.target as HTMLSelectElement).value)) } }, ...[1, 2, 3, 4].map((q) => h("option", { text: `Q${q}`, attrs: q === v.quarter ? { value: String(q), selected: "" } : { value: String(q) } })))),
          h("label", { class: "rp-field" }, w("year"), h("input", { attrs: { type: "number", id: "report-year", min: "2000", max: "2100", value: String(v.year) }, on: { change: (e) => (v.year = Number((e.target as HTMLInputElement).value) || v.year) } })),
        );
  const button = (fmt: "xlsx" | "pdf"): HTMLButtonElement =>
    h("button", { class: "btn", text: w(fmt), attrs: v.busy ? { type: "button", id: `report-${fmt}`, disabled: "" } : { type: "button", id: `report-${fmt}` }, on: { click: () => void download(fmt) } });
  const area = state.areas.get(state.selected);
  fill(
    dialog,
    h(
      "div",
      { class: "rp-head" },
      h("h2", { text: `${w("title")}${area ? ` · ${area.name_vi}` : ""}`, attrs: { id: "reports-title" } }),
      h("button", { class: "btn btn-ghost", text: w("close"), attrs: { type: "button" }, on: { click: () => dialog?.close() } }),
    ),
    h("p", { class: "rp-note", text: w("note") }),
    h("div", { class: "rp-row" }, h("label", { class: "rp-field" }, w("kind"), kind), pick),
    h("div", { class: "rp-row" }, button("xlsx"), button("pdf")),
    v.busy ? h("p", { class: "rp-note", text: w("busy"), attrs: { role: "status" } }) : null,
    v.error ? h("p", { class: "rp-error", text: v.error, attrs: { role: "alert" } }) : null,
  );
}

/** Open the report dialog for the selected area (last month). */
export function openReports(): void {
  const last = lastMonth();
  view = { kind: "month", month: last.month, year: last.year, quarter: last.quarter, busy: false, error: "" };
  if (!dialog) {
    dialog = h("dialog", { class: "reports", attrs: { id: "reports", "aria-labelledby": "reports-title" } });
    dialog.addEventListener("close", () => {
      view = null;
      dialog?.remove();
      dialog = null;
    });
    document.body.append(dialog);
  }
  render();
  if (!dialog.open) dialog.showModal();
}

/** The topbar's button that opens it. */
export function reportsButton(): HTMLButtonElement {
  return h("button", {
    class: "btn btn-ghost",
    text: w("open"),
    attrs: { type: "button", id: "open-reports" },
    on: { click: () => openReports() },
  });
}
