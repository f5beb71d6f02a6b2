/**
 * A KPI's forecast on its tile: the day the target is met at the trend of the last 30 days,
 * with the model's measured error, or why there is no date ("no date: flat trend").
 *
 * The words come from the API (`forecast.text_vi|text_en`, ioc/text.py), so the board says
 * what `ioc kpis show`, the reports and the digest say.
 */

import "./forecast.css";

import { h } from "../dom";
import { lang } from "../i18n";

/** `forecast` of an item of `GET /api/v1/kpis/current` (null: the KPI has no target). */
export interface KpiForecast {
  status: "met" | "on_track" | "moving_away" | "flat" | "beyond_horizon" | "too_few_days";
  reach_date: string | null;
  deadline: string | null;
  text_vi: string;
  text_en: string;
  error_vi: string;
  error_en: string;
  model: string;
  slope_per_day: number | null;
  mae: number | null;
  days_used: number;
}

const LABEL = { vi: "Dự báo", en: "Forecast" } as const;
const DAYS = { vi: "ngày dữ liệu", en: "days of data" } as const;

/** The tile's forecast row; nothing for a KPI without a target (or a server without it). */
export function forecastFact(item: object): HTMLElement | null {
  const f = "forecast" in item ? (item.forecast as KpiForecast | null) : null;
  if (!f) return null;
  const vi = lang() === "vi";
  const text = vi ? f.text_vi : f.text_en;
  const error = vi ? f.error_vi : f.error_en;
  const late = f.deadline !== null && f.status !== "met" && (f.reach_date === null || f.reach_date > f.deadline);
  const title = `${text} · ${error} · ${f.days_used} ${DAYS[lang()]} · ${f.model}`;
  return h(
    "div",
    { class: ["tile-forecast", `forecast-${f.status}`, late && "forecast-late"], attrs: { "data-role": "forecast", title } },
    h("dt", { text: LABEL[lang()] }),
    h("dd", {}, h("span", { class: "forecast-text", text }), h("span", { class: "forecast-error", text: error })),
  );
}
