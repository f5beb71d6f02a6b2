/** The schematic area map: one cell per child area, coloured and labelled by status. */

import { fill, h } from "../dom";
import { fmtNumber, named, t, word } from "../i18n";
import { icon, iconFor } from "../icons";
import { hasChildren, pathTo, state } from "../state";
import type { MapChild } from "../types";
import { lastDay, openDrill } from "./drill";

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

function cell(child: MapChild, actions: MapActions): HTMLElement {
  const name = named(child.name_vi, child.name_en);
  const status = word("status", child.status);
  const selected = child.code === state.selected;
  const details = [
    child.firing ? t("firing", { count: fmtNumber(child.firing) }) : null,
    child.below_target ? t("belowTarget", { count: fmtNumber(child.below_target) }) : null,
    t("eventsHour", { count: fmtNumber(child.events_last_hour) }),
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

export function renderMap(panel: HTMLElement, actions: MapActions): void {
  const crumbs = panel.querySelector<HTMLElement>("[data-role=crumbs]");
  const cells = panel.querySelector<HTMLElement>("[data-role=cells]");
  if (!crumbs || !cells) return;
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
  const list = h("ul", {
    class: ["cells", data.children.length > 30 && "cells-dense"],
    attrs: { "aria-describedby": "map-hint" },
  });
  list.append(...data.children.map((child) => cell(child, actions)));
  // A refresh must not take the keyboard focus away from the cell the operator is on.
  const focused = (document.activeElement as HTMLElement | null)?.dataset?.area;
  fill(cells, list);
  if (focused) list.querySelector<HTMLElement>(`[data-area="${CSS.escape(focused)}"]`)?.focus();
}
