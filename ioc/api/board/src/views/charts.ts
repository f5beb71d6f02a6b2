/** Live charts per feed: events per minute over the last hour (uPlot). */

import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

import { fill, h } from "../dom";
import { fmtHourMinute, fmtNumber, t, TIME_ZONE, word } from "../i18n";
import { icon, iconFor } from "../icons";
import { feedName, state } from "../state";
import type { Feed, FeedName } from "../types";

/**
 * A feed's line colour by its place in the API's list, which is the declarations' order: the
 * four shipped feeds keep theirs, a declared feed takes the next ones. Its title takes the
 * lighter shade of the same place (`.chart-c<i>` in styles.css: the CSP refuses inline styles).
 */
const COLOURS = ["#38bdf8", "#a78bfa", "#f472b6", "#2dd4bf", "#fbbf24", "#a3e635", "#fb923c", "#e879f9"];

/** The feeds the API lists (every declared feed, in order); empty until the first answer. */
function feedsShown(): FeedName[] {
  return (state.feeds?.items ?? []).map((f) => f.feed);
}

function place(feed: FeedName): number {
  return Math.max(feedsShown().indexOf(feed), 0) % COLOURS.length;
}
const FONT = '12px "Be Vietnam Pro", system-ui, sans-serif';
const AXIS = "#9fb0c6";
const GRID = "rgba(159, 176, 198, 0.12)";
const MIN_HEIGHT = 60;

/** The next round number (1, 2, 2.5, 5 × 10ⁿ) at or above `x`, so the top tick is labelled. */
function niceCeil(x: number): number {
  if (!(x > 0)) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(x));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * magnitude >= x) return step * magnitude;
  return 10 * magnitude;
}

interface Chart {
  plot: uPlot;
  box: HTMLElement;
  header: HTMLElement;
}

const charts = new Map<FeedName, Chart>();
let resize: ResizeObserver | null = null;

/**
 * The minutes of the last hour, without the minute still being counted: a half-filled last
 * minute would look like a sudden drop on a wall screen.
 */
function toData(feed: Feed | undefined): uPlot.AlignedData {
  const now = Date.parse(state.feeds?.at ?? "") || Date.now();
  const series = (feed?.series ?? []).filter((p) => Date.parse(p.bucket) + 60_000 <= now);
  return [
    series.map((p) => Date.parse(p.bucket) / 1000),
    series.map((p) => p.events),
  ];
}

/** The plot fills its box, whose size the stylesheet decides (a wall screen: the panel's height). */
function sizeOf(box: HTMLElement): { width: number; height: number } {
  return { width: Math.max(box.clientWidth, 120), height: Math.max(box.clientHeight, MIN_HEIGHT) };
}

function options(feed: FeedName, size: { width: number; height: number }): uPlot.Options {
  const colour = COLOURS[place(feed)];
  return {
    ...size,
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), TIME_ZONE),
    legend: { show: false },
    cursor: { y: false, drag: { x: false, y: false } },
    scales: {
      x: { time: true },
      y: { range: (_u, _min, max) => [0, niceCeil(max * 1.1)] },
    },
    axes: [
      {
        stroke: AXIS,
        font: FONT,
        size: 28,
        space: 60,
        grid: { stroke: GRID, width: 1 },
        ticks: { stroke: GRID, width: 1, size: 4 },
        values: (_u, splits) => splits.map((v) => fmtHourMinute(v * 1000)),
      },
      {
        stroke: AXIS,
        font: FONT,
        size: 50,
        space: 22,
        grid: { stroke: GRID, width: 1 },
        ticks: { stroke: GRID, width: 1, size: 4 },
        values: (_u, splits) => splits.map((v) => fmtNumber(v)),
      },
    ],
    series: [
      {},
      {
        label: feedName(feed),
        stroke: colour,
        fill: `${colour}33`,
        width: 2,
        points: { show: false },
        value: (_u, v) => (v == null ? "" : fmtNumber(v)),
      },
    ],
  };
}

function headerOf(feed: FeedName, data: Feed | undefined): HTMLElement {
  const stateWord = data ? word("feedState", data.state) : t("loading");
  return h(
    "div",
    { class: "chart-head" },
    h(
      "div",
      { class: "chart-line" },
      h("h3", { class: "chart-title", text: feedName(feed), attrs: { title: feedName(feed) } }),
      h(
        "span",
        { class: ["chip-state", `state-${data?.state ?? "unknown"}`] },
        icon(iconFor(data?.state ?? "unknown")),
        stateWord,
      ),
    ),
    h(
      "div",
      { class: "chart-line" },
      h("span", {
        class: "chart-count",
        text: data ? t("events5m", { count: fmtNumber(data.events_last_5m) }) : "",
        attrs: { "data-role": "events-5m", "data-value": data?.events_last_5m ?? "" },
      }),
      h("span", {
        class: "chart-window",
        text: data
          ? t("lastWindow", { time: data.last_window ? fmtHourMinute(data.last_window) : t("never") })
          : "",
      }),
    ),
  );
}

let mounted: HTMLElement | null = null;

/** Build one chart box per feed the API lists (again after a language switch). */
export function mountCharts(panel: HTMLElement): void {
  destroyCharts();
  mounted = panel;
  const grid = panel.querySelector<HTMLElement>("[data-role=charts]");
  if (!grid) return;
  const boxes = feedsShown().map((feed) => {
    const data = state.feeds?.items.find((f) => f.feed === feed);
    const header = headerOf(feed, data);
    const box = h("div", { class: "chart-plot" });
    const figure = h(
      "figure",
      { class: ["chart", `chart-${feed}`, `chart-c${place(feed)}`], attrs: { "data-feed": feed } },
      header,
      box,
    );
    return { feed, figure, header, box };
  });
  fill(grid, ...boxes.map((b) => b.figure));
  for (const { feed, header, box } of boxes) {
    const data = state.feeds?.items.find((f) => f.feed === feed);
    const plot = new uPlot(options(feed, sizeOf(box)), toData(data), box);
    charts.set(feed, { plot, box, header });
    setAria(feed, data);
  }
  resize = new ResizeObserver(() => {
    for (const chart of charts.values()) {
      const size = sizeOf(chart.box);
      if (Math.abs(size.width - chart.plot.width) > 1 || Math.abs(size.height - chart.plot.height) > 1) {
        chart.plot.setSize(size);
      }
    }
  });
  for (const chart of charts.values()) resize.observe(chart.box);
}

function setAria(feed: FeedName, data: Feed | undefined): void {
  const chart = charts.get(feed);
  if (!chart) return;
  chart.box.setAttribute("role", "img");
  chart.box.setAttribute(
    "aria-label",
    t("chartAria", { feed: feedName(feed), count: fmtNumber(data?.events_last_5m ?? 0) }),
  );
}

/** New data from a `feeds` event: update in place, no re-creation unless the feeds changed. */
export function updateCharts(): void {
  const shown = feedsShown();
  if (mounted && (shown.length !== charts.size || shown.some((feed) => !charts.has(feed)))) {
    mountCharts(mounted);
    return;
  }
  for (const feed of shown) {
    const chart = charts.get(feed);
    if (!chart) continue;
    const data = state.feeds?.items.find((f) => f.feed === feed);
    chart.plot.setData(toData(data));
    const header = headerOf(feed, data);
    chart.header.replaceWith(header);
    chart.header = header;
    setAria(feed, data);
  }
}

export function destroyCharts(): void {
  resize?.disconnect();
  resize = null;
  for (const chart of charts.values()) chart.plot.destroy();
  charts.clear();
}
