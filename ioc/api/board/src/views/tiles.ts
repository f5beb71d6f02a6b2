/** The overview: one tile per KPI with value, target, gap, 24 h trend and data quality. */

import { fill, h, s } from "../dom";
import { fmtDay, fmtGap, fmtKpi, fmtTime, named, t, word } from "../i18n";
import { icon, iconFor } from "../icons";
import { state } from "../state";
import type { KpiCurrent, Reported, TrendPoint } from "../types";
import { lastDay, openDrill } from "./drill";
import { forecastFact } from "./forecast";

function verdict(item: KpiCurrent): "meets" | "behind" | "unjudged" {
  // Without a target (or a value) there is nothing to judge, whatever `meets` says.
  if (item.target == null || item.value == null) return "unjudged";
  if (item.meets === true) return "meets";
  if (item.meets === false) return "behind";
  return "unjudged";
}

/** A sparkline of the last 24 hourly values, with the target as a dashed line. */
function sparkline(item: KpiCurrent, label: string): SVGSVGElement {
  const W = 120;
  const H = 32;
  const values = item.trend.map((p: TrendPoint) => p.value).filter((v): v is number => v != null);
  const svg = s("svg", {
    class: "spark",
    viewBox: `0 0 ${W} ${H}`,
    preserveAspectRatio: "none",
    role: "img",
    "aria-label": label,
  });
  if (!values.length) return svg;
  let lo = Math.min(...values, item.target ?? Infinity);
  let hi = Math.max(...values, item.target ?? -Infinity);
  if (hi - lo < 1e-9) {
    lo -= 0.01;
    hi += 0.01;
  }
  const pad = (hi - lo) * 0.1;
  lo -= pad;
  hi += pad;
  const n = Math.max(item.trend.length - 1, 1);
  const x = (i: number): number => (i / n) * W;
  const y = (v: number): number => H - ((v - lo) / (hi - lo)) * H;
  if (item.target != null) {
    svg.append(
      s("line", {
        class: "spark-target",
        x1: 0,
        x2: W,
        y1: y(item.target).toFixed(2),
        y2: y(item.target).toFixed(2),
        "vector-effect": "non-scaling-stroke",
      }),
    );
  }
  // A missing hour breaks the line instead of being drawn as zero.
  let run: string[] = [];
  const flush = (): void => {
    if (run.length > 1) {
      svg.append(s("polyline", { class: "spark-line", points: run.join(" "), "vector-effect": "non-scaling-stroke" }));
    } else if (run.length === 1) {
      const [px, py] = run[0].split(",");
      svg.append(s("circle", { class: "spark-dot", cx: px, cy: py, r: 1.5 }));
    }
    run = [];
  };
  item.trend.forEach((p, i) => {
    if (p.value == null) flush();
    else run.push(`${x(i).toFixed(2)},${y(p.value).toFixed(2)}`);
  });
  flush();
  return svg;
}

/**
 * The latest result the province reported for the KPI, beside the live value: never judged,
 * marked when a field of it is an estimate; every reported result is in its tooltip.
 */
function reportedFact(item: KpiCurrent): HTMLElement | null {
  if (!item.reported.length) return null;
  const when = (r: Reported): string => (r.as_of ? fmtDay(r.as_of) : String(r.year ?? ""));
  const key = (r: Reported): string => r.as_of ?? `${r.year ?? 0}-12-31`;
  const latest = [...item.reported].sort((a, b) => key(b).localeCompare(key(a)))[0];
  const mark = (r: Reported): string => (r.estimate ? ` (${t("estimateMark")})` : "");
  const title = item.reported
    .map((r) => `${fmtKpi(r.value, item.unit)} · ${when(r)}${mark(r)} · ${r.area} · ${r.source}`)
    .join("\n");
  return h(
    "div",
    { class: "tile-reported", attrs: { "data-role": "reported", title } },
    h("dt", { text: t("reported") }),
    h(
      "dd",
      {},
      `${fmtKpi(latest.value, item.unit)} · ${when(latest)}`,
      latest.estimate ? h("span", { class: "estimate-mark", text: t("estimateMark") }) : null,
    ),
  );
}

function tile(item: KpiCurrent): HTMLElement {
  const info = state.kpiInfo.get(item.kpi);
  const name = named(item.name_vi, item.name_en);
  const v = verdict(item);
  const verdictText = v === "meets" ? t("meets") : v === "behind" ? t("behind") : t("notJudged");
  const value = fmtKpi(item.value, item.unit);
  const source = [info?.source, info?.deadline ? t("deadline", { date: fmtDay(info.deadline) }) : null]
    .filter(Boolean)
    .join(" · ");
  // The whole tile opens the events behind its value; the button is the keyboard's way in.
  const drill = (): void => {
    const area = state.kpis?.area.code ?? state.selected;
    openDrill({ kpi: item.kpi, area, ...lastDay(item.trend) });
  };
  return h(
    "article",
    {
      class: ["tile", `tile-${v}`, `quality-${item.quality}`, "tile-drillable"],
      attrs: { "data-kpi": item.kpi, "aria-label": `${name}: ${value}, ${verdictText}` },
      on: { click: drill },
    },
    h("h3", { class: "tile-name", text: name, attrs: { title: name } }),
    h(
      "div",
      { class: "tile-main" },
      h(
        "div",
        { class: "tile-value" },
        h("span", { class: "tile-number", text: value, attrs: { "data-role": "value" } }),
        h(
          "span",
          { class: ["verdict", `verdict-${v}`] },
          icon(v === "meets" ? "ok" : v === "behind" ? "critical" : "unknown"),
          verdictText,
        ),
      ),
      sparkline(item, t("sparkAria", { kpi: name })),
    ),
    h(
      "dl",
      { class: "tile-facts" },
      h(
        "div",
        {},
        h("dt", { text: t("target") }),
        h("dd", { text: item.target == null ? t("noTarget") : fmtKpi(item.target, item.unit) }),
      ),
      h(
        "div",
        {},
        h("dt", { text: t("gap") }),
        h("dd", { class: ["gap", v === "behind" && "gap-behind"], text: fmtGap(item.gap, item.unit) }),
      ),
      forecastFact(item),
      reportedFact(item),
    ),
    h(
      "div",
      { class: "tile-foot" },
      h(
        "span",
        {
          class: ["badge", `badge-${item.quality}`],
          attrs: { title: `${t("quality")}: ${word("quality", item.quality)}` },
        },
        icon(iconFor(item.quality === "no_data" ? "unknown" : item.quality)),
        word("quality", item.quality),
      ),
      source ? h("span", { class: "tile-source", text: source, attrs: { title: source } }) : null,
      h("button", {
        class: "tile-drill",
        text: `${t("drillOpen")} ›`,
        attrs: { type: "button", "data-role": "drill", "aria-label": t("drillOpenAria", { kpi: name }) },
      }),
    ),
  );
}

export function renderTiles(panel: HTMLElement): void {
  const heading = panel.querySelector<HTMLElement>("[data-role=heading]");
  const grid = panel.querySelector<HTMLElement>("[data-role=tiles]");
  const at = panel.querySelector<HTMLElement>("[data-role=at]");
  if (!heading || !grid || !at) return;
  const data = state.kpis;
  const area = data?.area ?? state.areas.get(state.selected);
  const areaName = area ? named(area.name_vi, area.name_en) : "";
  heading.textContent =
    area && area.level === "province" ? `${t("provinceOverview")} · ${areaName}` : t("areaOverview", { area: areaName });
  if (!data) {
    fill(grid, h("p", { class: "empty", text: t("loading") }));
    at.textContent = "";
    return;
  }
  at.textContent = t("lastUpdate", { time: fmtTime(data.at) });
  fill(grid, ...data.items.map(tile));
}
