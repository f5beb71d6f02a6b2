/**
 * The live board of ioc-monitor: sign in with an API key, then the overview of the key's area
 * (KPI tiles, area map, feed charts, alerts, feed health), kept live by `/api/v1/stream`.
 */

import "./styles.css";

import { api, ApiError, currentKey, query, setUnauthorizedHandler, storeKey } from "./api";
import { byId, fill, h } from "./dom";
import { fmtTime, lang, named, setLang, t, word } from "./i18n";
import { icon } from "./icons";
import { LiveStream, type StreamState } from "./sse";
import { hasChildren, resetState, state } from "./state";
import type { Alert, AlertEvent, Area, Feeds, KpiInfo, KpisCurrent, MapResponse, Me, Page } from "./types";
import { announce, renderAlerts } from "./views/alerts";
import { destroyCharts, mountCharts, updateCharts } from "./views/charts";
import { followFeeds, mountEntities } from "./views/entities";
import { renderHealth } from "./views/health";
import { clearIndicators, indicatorSection, loadIndicators } from "./views/indicators";
import { renderMap } from "./views/map";
import { reportsButton } from "./views/reports";
import { scorecardButton } from "./views/scorecard";
import { renderTiles } from "./views/tiles";

const app = byId("app");
let stream: LiveStream | null = null;
const timers: number[] = [];

// --- errors in words ------------------------------------------------------------------------

function explain(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 401) return t("badKey");
    if (error.status === 403) return t("forbidden");
    if (error.status === 429) return t("rateLimited", { seconds: error.retryAfter ?? 10 });
    return error.problem?.detail ?? error.message;
  }
  return t("serverDown", { detail: error instanceof Error ? error.message : String(error) });
}

// --- sign in ------------------------------------------------------------------------------------

function langButton(): HTMLButtonElement {
  return h("button", {
    class: "btn btn-ghost",
    text: t("switchLang"),
    attrs: { type: "button", id: "lang-switch", "aria-label": t("switchLangAria"), lang: lang() === "vi" ? "en" : "vi" },
    on: {
      click: () => {
        setLang(lang() === "vi" ? "en" : "vi");
        if (state.me) mountBoard();
        else showLogin();
      },
    },
  });
}

function showLogin(message = ""): void {
  stopLive();
  document.title = `${t("appShort")} · ${t("loginTitle")}`;
  const input = h("input", {
    class: "input",
    attrs: {
      id: "api-key",
      type: "password",
      name: "api-key",
      autocomplete: "off",
      spellcheck: "false",
      required: true,
      placeholder: "ioc_…",
      "aria-describedby": "login-help",
    },
  });
  const error = h("p", { class: "login-error", text: message, attrs: { id: "login-error", role: "alert" } });
  const submit = h("button", { class: "btn btn-primary", text: t("login"), attrs: { type: "submit" } });
  const form = h(
    "form",
    {
      class: "login",
      attrs: { "aria-labelledby": "login-title" },
      on: {
        submit: (event) => {
          event.preventDefault();
          const key = input.value.trim();
          if (!key) return;
          submit.disabled = true;
          submit.textContent = t("loggingIn");
          storeKey(key);
          start().catch((err: unknown) => {
            storeKey(null);
            showLogin(explain(err));
          });
        },
      },
    },
    h("div", { class: "login-brand" }, h("span", { class: "logo", text: t("appShort") }), h("span", { text: t("appTitle") })),
    h("h1", { text: t("loginTitle"), attrs: { id: "login-title" } }),
    h("p", { class: "login-help", text: t("loginHelp"), attrs: { id: "login-help" } }),
    h("label", { class: "label", text: t("apiKey"), attrs: { for: "api-key" } }),
    input,
    submit,
    error,
    h("div", { class: "login-lang" }, langButton()),
  );
  fill(app, h("main", { class: "login-page" }, form));
  input.focus();
}

// --- the board's frame ------------------------------------------------------------------------

function mountBoard(): void {
  const me = state.me;
  if (!me) return;
  destroyCharts();
  document.title = `${t("appShort")} · ${t("boardFor")}`;
  const root = state.areas.get(state.root);
  const scope = me.area ? (named(me.area_name_vi, null) || me.area) : t("wholeProvince");

  const header = h(
    "header",
    { class: "topbar" },
    h(
      "div",
      { class: "brand" },
      h("span", { class: "logo", text: t("appShort"), attrs: { "aria-hidden": "true" } }),
      h(
        "div",
        {},
        h("h1", { class: "title", text: t("appTitle") }),
        h("p", { class: "subtitle", text: [root ? named(root.name_vi, root.name_en) : "", t("boardFor")].filter(Boolean).join(" · ") }),
      ),
    ),
    h(
      "div",
      { class: "live", attrs: { id: "live" } },
      h("span", { class: "live-icon" }),
      // Only the state is a live region: the clock ticking every few seconds is not announced.
      h("span", { class: "live-state", attrs: { "data-role": "live-state", role: "status" } }),
      h("span", { class: "live-time", attrs: { "data-role": "last-update" } }),
    ),
    h(
      "div",
      { class: "user" },
      h("span", { class: "user-name", text: me.name, attrs: { "data-role": "user-name", title: t("user") } }),
      h("span", { class: "user-meta", text: `${word("role", me.role)} · ${scope}`, attrs: { title: `${t("role")} · ${t("scope")}` } }),
    ),
    scorecardButton(),
    reportsButton(),
    langButton(),
    h("button", {
      class: "btn btn-ghost",
      text: t("logout"),
      attrs: { type: "button", id: "logout" },
      on: { click: () => logout() },
    }),
  );

  const health = h(
    "section",
    { class: "panel health", attrs: { id: "health", "aria-labelledby": "title-health" } },
    h("div", { class: "panel-head" }, h("h2", { text: t("feedHealth"), attrs: { id: "title-health" } })),
    h("ul", { class: "chips", attrs: { "data-role": "chips" } }),
  );

  const kpis = h(
    "section",
    { class: "panel panel-kpis", attrs: { id: "panel-kpis", "aria-labelledby": "title-kpis" } },
    h(
      "div",
      { class: "panel-head" },
      h("h2", { attrs: { id: "title-kpis", "data-role": "heading" } }),
      h("span", { class: "panel-note", attrs: { "data-role": "at" } }),
    ),
    h("div", { class: "tiles", attrs: { "data-role": "tiles" } }),
    indicatorSection(),
  );

  const map = h(
    "section",
    { class: "panel panel-map", attrs: { id: "panel-map", "aria-labelledby": "title-map" } },
    h(
      "div",
      { class: "panel-head" },
      h("h2", { text: t("map"), attrs: { id: "title-map" } }),
      h("div", { class: "panel-crumbs", attrs: { "data-role": "crumbs" } }),
    ),
    h("p", { class: "panel-hint", text: t("mapHint"), attrs: { id: "map-hint" } }),
    h("div", { class: "cells-box", attrs: { "data-role": "cells" } }),
  );

  const charts = h(
    "section",
    { class: "panel panel-charts", attrs: { id: "panel-charts", "aria-labelledby": "title-charts" } },
    h("div", { class: "panel-head" }, h("h2", { text: t("feedCharts"), attrs: { id: "title-charts" } })),
    h("div", { class: "charts", attrs: { "data-role": "charts" } }),
  );

  const alerts = h(
    "section",
    { class: "panel panel-alerts", attrs: { id: "panel-alerts", "aria-labelledby": "title-alerts" } },
    h(
      "div",
      { class: "panel-head" },
      h("h2", { attrs: { id: "title-alerts" } }, t("alerts"), " ", h("span", { class: "count", attrs: { "data-role": "count" } })),
    ),
    h("ol", { class: "alerts", attrs: { "data-role": "alerts" } }),
    h("p", { class: "sr-only", attrs: { "data-role": "announce", role: "status" } }),
  );

  fill(
    app,
    h(
      "div",
      { class: "board" },
      header,
      h("main", { class: "grid" }, kpis, map, charts, h("div", { class: "side" }, health, alerts)),
    ),
  );
  renderLive();
  renderHealth(health);
  mountEntities(health);
  renderTiles(kpis);
  renderMapPanel();
  mountCharts(charts);
  renderAlertsPanel();
}

// --- rendering pieces ---------------------------------------------------------------------------

function renderLive(): void {
  const el = document.getElementById("live");
  if (!el) return;
  const s: StreamState = state.stream;
  const text =
    s.kind === "live" ? t("live") : s.kind === "connecting" ? t("connecting") : t("reconnecting", { seconds: s.inSeconds });
  const when = state.lastUpdate ? t("lastUpdate", { time: fmtTime(state.lastUpdate) }) : t("never");
  const kind = `live live-${s.kind}`;
  if (el.className !== kind) {
    el.className = kind;
    const slot = el.querySelector(".live-icon");
    if (slot) fill(slot, icon(s.kind === "live" ? "live" : "stale"));
  }
  const stateEl = el.querySelector("[data-role=live-state]");
  const timeEl = el.querySelector("[data-role=last-update]");
  if (stateEl && stateEl.textContent !== text) stateEl.textContent = text;
  if (timeEl && timeEl.textContent !== when) timeEl.textContent = when;
  if (s.kind === "retrying") el.title = s.reason;
  else el.removeAttribute("title");
}

function renderMapPanel(): void {
  const el = document.getElementById("panel-map");
  if (el) renderMap(el, { open: openArea, select: selectArea });
}

function renderAlertsPanel(): void {
  const el = document.getElementById("panel-alerts");
  if (el) renderAlerts(el, acknowledge);
}

// --- data ---------------------------------------------------------------------------------------

async function loadKpis(): Promise<void> {
  const code = state.selected;
  const data = await api<KpisCurrent>(`/api/v1/kpis/current${query({ area: code })}`);
  if (code !== state.selected) return;
  state.kpis = data;
  const el = document.getElementById("panel-kpis");
  if (el) renderTiles(el);
}

async function loadMap(): Promise<void> {
  const code = state.mapArea;
  const data = await api<MapResponse>(`/api/v1/map${query({ area: code })}`);
  if (code !== state.mapArea) return;
  state.map = data;
  renderMapPanel();
}

async function loadAlerts(): Promise<void> {
  const alerts = new Map<number, Alert>();
  let offset: number | null = 0;
  for (let page = 0; offset !== null && page < 5; page += 1) {
    const data: Page<Alert> = await api<Page<Alert>>(`/api/v1/alerts${query({ state: "open", limit: 200, offset })}`);
    for (const alert of data.items) alerts.set(alert.id, alert);
    offset = data.next_offset;
  }
  state.alerts = alerts;
  renderAlertsPanel();
}

async function loadFeeds(): Promise<void> {
  onFeeds(await api<Feeds>("/api/v1/feeds"));
}

function quietly(work: Promise<void>): void {
  work.catch((error: unknown) => console.warn("board refresh failed:", error));
}

let mapRefresh: number | undefined;

/** Statuses on the map follow alerts: refresh it right after a burst of alert events. */
function refreshMapSoon(): void {
  window.clearTimeout(mapRefresh);
  mapRefresh = window.setTimeout(() => quietly(loadMap()), 300);
}

// --- the live stream ----------------------------------------------------------------------------

function touched(): void {
  state.lastUpdate = new Date();
  renderLive();
}

function onFeeds(data: Feeds): void {
  state.feeds = data;
  const health = document.getElementById("health");
  if (health) renderHealth(health);
  updateCharts();
  followFeeds();
}

function onAlertEvent(event: AlertEvent): void {
  const alert = event.alert;
  if (alert.state === "resolved" || event.kind === "resolved") state.alerts.delete(alert.id);
  else state.alerts.set(alert.id, alert);
  state.acking.delete(alert.id);
  renderAlertsPanel();
  const panel = document.getElementById("panel-alerts");
  if (panel && event.kind === "fired") announce(panel, alert);
  refreshMapSoon();
}

function onEvent(name: string, data: string): void {
  let payload: unknown;
  try {
    payload = JSON.parse(data);
  } catch {
    console.warn(`stream event ${name}: not JSON`);
    return;
  }
  if (name === "kpis") {
    const kpis = payload as KpisCurrent;
    if (kpis.area?.code && kpis.area.code !== state.selected) return; // an older stream's event
    state.kpis = kpis;
    const el = document.getElementById("panel-kpis");
    if (el) renderTiles(el);
  } else if (name === "feeds") {
    onFeeds(payload as Feeds);
  } else if (name === "alert") {
    onAlertEvent(payload as AlertEvent);
  } else {
    return;
  }
  touched();
}

function startLive(): void {
  stopLive();
  let wasLive = false;
  stream = new LiveStream({
    url: () => `/api/v1/stream${query({ area: state.selected })}`,
    onEvent,
    onState: (next) => {
      const changed = next.kind !== state.stream.kind;
      state.stream = next;
      if (changed) renderLive();
      if (next.kind === "live" && !wasLive) {
        // Back after a gap: alert transitions may have been missed while away.
        quietly(loadAlerts());
        refreshMapSoon();
      }
      wasLive = next.kind === "live";
    },
    onFatal: (error) => {
      if (error.status === 401) logout(t("badKey"));
      else {
        state.stream = { kind: "retrying", inSeconds: 0, reason: explain(error) };
        renderLive();
      }
    },
  });
  stream.start();
  // Safety nets in case an event is lost: the map's statuses and the open alerts.
  timers.push(window.setInterval(() => quietly(loadMap()), 30_000));
  timers.push(window.setInterval(() => quietly(loadAlerts()), 60_000));
  // Departments enter periodic indicators now and then: a look every five minutes is enough.
  timers.push(window.setInterval(() => quietly(loadIndicators()), 300_000));
  // Keep the "last update" age honest even when nothing arrives.
  timers.push(window.setInterval(renderLive, 5_000));
}

function stopLive(): void {
  stream?.stop();
  stream = null;
  while (timers.length) window.clearInterval(timers.pop());
  window.clearTimeout(mapRefresh);
}

// --- actions ------------------------------------------------------------------------------------

function remember(): void {
  const hash = state.selected && state.selected !== state.root ? `#area=${encodeURIComponent(state.selected)}` : "";
  history.replaceState(null, "", `${location.pathname}${location.search}${hash}`);
}

function retarget(code: string): void {
  if (code === state.selected) return;
  state.selected = code;
  state.kpis = null;
  remember();
  const el = document.getElementById("panel-kpis");
  if (el) renderTiles(el);
  clearIndicators();
  stream?.restart();
  quietly(loadKpis());
  quietly(loadIndicators());
}

function openArea(code: string): void {
  const mapChanged = code !== state.mapArea;
  state.mapArea = code;
  if (mapChanged) state.map = null;
  retarget(code);
  renderMapPanel();
  if (mapChanged) quietly(loadMap());
}

function selectArea(code: string): void {
  retarget(code);
  renderMapPanel();
}

async function acknowledge(id: number): Promise<void> {
  state.acking.add(id);
  state.ackErrors.delete(id);
  renderAlertsPanel();
  try {
    const alert = await api<Alert>(`/api/v1/alerts/${encodeURIComponent(String(id))}/ack`, { method: "POST", body: {} });
    if (alert.state === "resolved") state.alerts.delete(id);
    else state.alerts.set(id, alert);
  } catch (error) {
    state.ackErrors.set(id, error instanceof ApiError && error.status === 409 ? t("ackResolved") : t("ackFailed", { detail: explain(error) }));
  } finally {
    state.acking.delete(id);
    renderAlertsPanel();
  }
}

function logout(message = ""): void {
  stopLive();
  destroyCharts();
  storeKey(null);
  resetState();
  history.replaceState(null, "", location.pathname);
  showLogin(message);
}

// --- start --------------------------------------------------------------------------------------

function scopeRoot(me: Me, areas: Area[]): string {
  if (me.area) return me.area;
  const codes = new Set(areas.map((a) => a.code));
  const top = areas.find((a) => a.level === "province") ?? areas.find((a) => !a.parent || !codes.has(a.parent));
  return top?.code ?? "";
}

function areaFromHash(): string | null {
  const m = /(?:^#|&)area=([^&]+)/.exec(location.hash);
  return m ? decodeURIComponent(m[1]) : null;
}

async function start(): Promise<void> {
  const me = await api<Me>("/api/v1/me");
  const [areas, kpis] = await Promise.all([
    api<{ items: Area[] }>("/api/v1/areas"),
    api<{ items: KpiInfo[] }>("/api/v1/kpis").catch(() => ({ items: [] as KpiInfo[] })),
  ]);
  resetState();
  clearIndicators();
  state.me = me;
  state.areas = new Map(areas.items.map((a) => [a.code, a]));
  state.kpiInfo = new Map(kpis.items.map((k) => [k.id, k]));
  state.root = scopeRoot(me, areas.items);
  const wanted = areaFromHash();
  const selected = wanted && state.areas.has(wanted) ? wanted : state.root;
  state.selected = selected;
  const area = state.areas.get(selected);
  const parentInScope = area?.parent && selected !== state.root && state.areas.has(area.parent);
  state.mapArea = hasChildren(selected) || !parentInScope ? selected : (area?.parent ?? selected);
  mountBoard();
  startLive();
  await Promise.all(
    [loadKpis(), loadIndicators(), loadMap(), loadAlerts(), loadFeeds()].map((p) => p.catch((e: unknown) => console.warn(e))),
  );
}

setUnauthorizedHandler(() => {
  if (state.me) logout(t("badKey"));
});
document.documentElement.lang = lang();
if (currentKey()) {
  start().catch((error: unknown) => {
    if (error instanceof ApiError && error.status === 401) storeKey(null);
    showLogin(explain(error));
  });
} else {
  showLogin();
}
