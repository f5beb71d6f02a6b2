/** The alert feed: open alerts, firing ones first, with an acknowledge button for `ack` keys. */

import { fill, h } from "../dom";
import { fmtHourMinute, fmtKpi, fmtDateTime, named, t, word } from "../i18n";
import { icon, iconFor } from "../icons";
import { state } from "../state";
import type { Alert } from "../types";
import { openDrill } from "./drill";

/** The events behind an alert: its KPI in its area, from an hour before it started until now
 * (or until it resolved); the denominator, so the failing events (e.g. points down) show too. */
function drillAlert(alert: Alert): void {
  if (!alert.kpi) return;
  const hour = 3_600_000;
  const from = new Date(Math.floor((new Date(alert.started_at).getTime() - hour) / 60_000) * 60_000);
  const end = alert.resolved_at ? new Date(alert.resolved_at).getTime() : Date.now();
  const to = new Date(Math.ceil(end / 60_000) * 60_000 + 60_000);
  openDrill({ kpi: alert.kpi, area: alert.area, from: from.toISOString(), to: to.toISOString(), part: "denominator" });
}
import { causes } from "./causes";

const SEVERITY_RANK = { critical: 0, warning: 1, info: 2 } as const;

export function sortedAlerts(): Alert[] {
  return [...state.alerts.values()].sort(
    (a, b) =>
      Number(a.state !== "firing") - Number(b.state !== "firing") ||
      (SEVERITY_RANK[a.severity] ?? 3) - (SEVERITY_RANK[b.severity] ?? 3) ||
      b.started_at.localeCompare(a.started_at) ||
      b.id - a.id,
  );
}

function item(alert: Alert, onAck: (id: number) => void): HTMLElement {
  const canAck = state.me?.permissions.includes("ack") ?? false;
  const hasSummary = Boolean(alert.summary_vi || alert.summary_en);
  const summary = named(alert.summary_vi, alert.summary_en) || named(alert.kpi_name_vi, alert.kpi_name_en) || alert.rule;
  const area = named(alert.area_name_vi, alert.area_name_en) || alert.area;
  const kpi = named(alert.kpi_name_vi, alert.kpi_name_en);
  const error = state.ackErrors.get(alert.id);
  const busy = state.acking.has(alert.id);
  let foot: HTMLElement | null = null;
  if (alert.state === "acknowledged") {
    foot = h("p", {
      class: "acked",
      text: t("ackedBy", { name: alert.acknowledged_by ?? "?", time: fmtHourMinute(alert.acknowledged_at) }),
    });
  } else if (alert.state === "firing" && canAck) {
    foot = h("button", {
      class: "ack",
      text: busy ? t("acking") : t("ack"),
      attrs: { type: "button", "data-alert": alert.id, "aria-label": t("ackAria", { summary }), disabled: busy },
      on: { click: () => onAck(alert.id) },
    });
  }
  const unit = (alert.kpi && state.kpiInfo.get(alert.kpi)?.unit) || "percent";
  const value =
    alert.value != null && alert.target != null
      ? `${fmtKpi(alert.value, unit)} / ${fmtKpi(alert.target, unit)}`
      : null;
  return h(
    "li",
    {
      class: ["alert", `severity-${alert.severity}`, `state-${alert.state}`],
      attrs: { "data-alert-id": alert.id, "data-area": alert.area },
    },
    h(
      "div",
      { class: "alert-head" },
      h("span", { class: "severity" }, icon(iconFor(alert.severity)), word("severity", alert.severity)),
      h("span", { class: "alert-state", text: word("alertState", alert.state) }),
      h("time", {
        class: "alert-time",
        text: t("since", { time: fmtHourMinute(alert.started_at) }),
        attrs: { datetime: alert.started_at, title: fmtDateTime(alert.started_at) },
      }),
    ),
    h("p", { class: "alert-area", text: area }),
    // The summary names the KPI, its value and the target; without one, say them here.
    hasSummary ? null : kpi ? h("p", { class: "alert-kpi", text: value ? `${kpi} · ${value}` : kpi }) : null,
    h("p", { class: "alert-summary", text: summary }),
    alert.kpi
      ? h("button", {
          class: "alert-drill",
          text: `${t("drillOpen")} ›`,
          attrs: { type: "button", "data-drill-alert": alert.id, "aria-label": t("drillAlertAria", { summary }) },
          on: { click: () => drillAlert(alert) },
        })
      : null,
    causes(alert),
    foot,
    error ? h("p", { class: "alert-error", text: error, attrs: { role: "alert" } }) : null,
  );
}

/** Tell screen readers about a new alert once (the list itself is not a live region). */
export function announce(panel: HTMLElement, alert: Alert): void {
  const region = panel.querySelector<HTMLElement>("[data-role=announce]");
  if (!region) return;
  const summary = named(alert.summary_vi, alert.summary_en) || named(alert.area_name_vi, alert.area_name_en);
  region.textContent = `${t("newAlert")}: ${word("severity", alert.severity)}. ${summary}`;
}

export function renderAlerts(panel: HTMLElement, onAck: (id: number) => void): void {
  const list = panel.querySelector<HTMLElement>("[data-role=alerts]");
  const count = panel.querySelector<HTMLElement>("[data-role=count]");
  if (!list || !count) return;
  const alerts = sortedAlerts();
  const firing = alerts.filter((a) => a.state === "firing").length;
  count.textContent = String(alerts.length);
  count.className = ["count", firing ? "count-firing" : alerts.length ? "count-open" : "count-none"].join(" ");
  if (!alerts.length) {
    fill(list, h("li", { class: "empty", text: t("noAlerts") }));
    return;
  }
  // Keep keyboard focus on the same alert's button across re-renders.
  const focused = (document.activeElement as HTMLElement | null)?.dataset?.alert;
  fill(list, ...alerts.map((a) => item(a, onAck)));
  if (focused) list.querySelector<HTMLElement>(`[data-alert="${CSS.escape(focused)}"]`)?.focus();
}
