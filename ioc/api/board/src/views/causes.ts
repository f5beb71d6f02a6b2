/**
 * An alert's causes on its card: the points at fault (availability KPIs) and the areas that
 * weigh most on a provincial gap, as `GET /api/v1/alerts` gives them.
 */

import { h } from "../dom";
import { te } from "../entities-i18n";
import { fmtGap, fmtHourMinute, fmtDateTime, named } from "../i18n";
import { state } from "../state";
import type { Alert } from "../types";
import { openEntities } from "./entities";

const SHOW_ENTITIES = 5;
const SHOW_AREAS = 3;

export function causes(alert: Alert): HTMLElement | null {
  const entities = alert.entities ?? [];
  // Only areas that pull the KPI down by a visible amount (0.05 points and more).
  const contributors = (alert.contributors ?? []).filter((c) => c.gap >= 0.0005).slice(0, SHOW_AREAS);
  if (!entities.length && !contributors.length) return null;
  const unit = (alert.kpi && state.kpiInfo.get(alert.kpi)?.unit) || "percent";
  const parts: HTMLElement[] = [];
  if (entities.length) {
    const count = Math.max(alert.entities_down ?? 0, entities.length);
    const more = count - Math.min(entities.length, SHOW_ENTITIES);
    const feed = (alert.kpi && state.kpiInfo.get(alert.kpi)?.feed) || entities[0].feed;
    const area = named(alert.area_name_vi, alert.area_name_en) || alert.area;
    parts.push(
      h("p", { class: "causes-title", text: te("causesEntities", { count }) }),
      h(
        "ul",
        { class: "causes-entities", attrs: { "data-role": "alert-entities" } },
        ...entities.slice(0, SHOW_ENTITIES).map((e) =>
          h(
            "li",
            { attrs: { "data-entity": e.entity } },
            h("span", { class: "entity-id", text: e.entity }),
            h("span", { class: "causes-where", text: named(e.area_name_vi, e.area_name_en) || e.area }),
            h("time", {
              class: "causes-since",
              text: te("sinceShort", { time: fmtHourMinute(e.since) }),
              attrs: { datetime: e.since, title: fmtDateTime(e.since) },
            }),
          ),
        ),
        more > 0 ? h("li", { class: "causes-more", text: te("causesMore", { count: more }) }) : null,
      ),
      h("button", {
        class: "btn btn-ghost causes-open",
        text: te("causesList"),
        attrs: { type: "button", "data-role": "alert-entities-open", "aria-label": te("causesListAria", { area }) },
        on: { click: () => openEntities({ feed, state: "down", area: state.areas.has(alert.area) ? alert.area : "" }) },
      }),
    );
  }
  if (contributors.length) {
    parts.push(
      h("p", { class: "causes-title", text: te("causesAreas") }),
      h(
        "ol",
        { class: "causes-areas", attrs: { "data-role": "alert-contributors" } },
        ...contributors.map((c) =>
          h(
            "li",
            { attrs: { "data-area": c.area } },
            h("span", { text: named(c.area_name_vi, c.area_name_en) || c.area }),
            h("span", { class: "causes-gap", text: te("causesGap", { gap: fmtGap(c.gap, unit).replace("+", "") }) }),
          ),
        ),
      ),
    );
  }
  return h("div", { class: "alert-causes" }, ...parts);
}
