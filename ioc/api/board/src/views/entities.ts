/**
 * "Which are down now": the cameras, network points and online services as their feeds last
 * reported them (`GET /api/v1/entities`), in a dialog opened from the feed-health strip or
 * from an alert card. Down first, longest first; filter by feed and state; area names; since
 * when and last seen in Asia/Ho_Chi_Minh time. The strip shows how many are down per feed.
 */

import "./entities.css";

import { api, ApiError, query } from "../api";
import { fill, h } from "../dom";
import { te, teCode } from "../entities-i18n";
import { fmtDateTime, fmtNumber, fmtTime, named } from "../i18n";
import { icon } from "../icons";
import { feedName, state } from "../state";
import type { EntitiesPage, Entity, EntityState } from "../types";

/** The feeds whose events report an entity's state, as the API lists them (declared order). */
function feedsWithStates(): string[] {
  return (state.feeds?.items ?? []).filter((f) => f.states).map((f) => f.feed);
}
/**
 * "Points": the devices, cameras and network points. A public service that is down is one no
 * longer offered online: it has its own badge, and is not counted among the points down.
 */
const POINTS = "camera,network";
const SILENT_MINUTES = 10;
const PAGE = 50;
const REFRESH_MS = 30_000;

interface ListFilter {
  feed: string;
  state: EntityState | "";
  area: string;
}

const down = new Map<string, number>(); // feed -> entities down now (in the key's scope)
let timer: number | undefined;
let dialog: HTMLDialogElement | null = null;
let filter: ListFilter = { feed: "", state: "down", area: "" };
let items: Entity[] = [];
let last: EntitiesPage | null = null;
let loading: AbortController | null = null; // the request in flight; a newer one aborts it
let error = "";

function pointsDown(): number {
  return POINTS.split(",").reduce((n, feed) => n + (down.get(feed) ?? 0), 0);
}

// --- the strip: a button in the panel's head, a badge on each feed chip ---------------------

function renderButton(panel: HTMLElement): void {
  const head = panel.querySelector<HTMLElement>(".panel-head");
  if (!head) return;
  let button = head.querySelector<HTMLButtonElement>("[data-role=entities-open]");
  if (!button) {
    button = h("button", {
      class: "btn btn-ghost entities-open",
      attrs: { type: "button", "data-role": "entities-open", id: "entities-open" },
      on: { click: () => openEntities({ feed: POINTS, state: "down", area: "" }) },
    });
    head.append(button);
  }
  const n = pointsDown();
  button.classList.toggle("entities-open-down", n > 0);
  fill(button, icon(n > 0 ? "down" : "ok"), te("downButton", { count: fmtNumber(n) }));
  button.setAttribute("aria-label", te("downButtonAria", { count: n }));
}

/** A chip's badge: how many of this feed's entities are down; opens the list on click. */
export function downBadge(feed: string): HTMLElement | null {
  const n = down.get(feed);
  if (!n) return null;
  return h("button", {
    class: "entities-badge",
    // A public service that is "down" is one no longer offered online, not a broken device.
    text: te(feed === "dvc" ? "downOfDvc" : "downOfFeed", { count: fmtNumber(n) }),
    attrs: {
      type: "button",
      "data-entities-feed": feed,
      "aria-label": te("downOfFeedAria", { count: n, feed: feedName(feed) }),
    },
    on: {
      click: (event) => {
        event.stopPropagation();
        openEntities({ feed, state: "down", area: "" });
      },
    },
  });
}

let counted: string | null = null; // the feeds last counted, joined

/** Count again when the feeds that report states change: the first list of feeds, for one. */
export function followFeeds(): void {
  if (state.me && feedsWithStates().join(",") !== counted) {
    refreshDownCounts().catch((err: unknown) => console.warn("entity counts:", err));
  }
}

/** Count what is down per feed (one small request each), then redraw the strip's parts. */
export async function refreshDownCounts(): Promise<void> {
  const feeds = feedsWithStates();
  counted = feeds.join(",");
  const counts = await Promise.all(
    feeds.map((feed) =>
      api<EntitiesPage>(`/api/v1/entities${query({ feed, state: "down", limit: 1 })}`).then((p) => [feed, p.counts.down] as const),
    ),
  );
  for (const [feed, n] of counts) down.set(feed, n);
  const panel = document.getElementById("health");
  if (panel) {
    renderButton(panel);
    for (const chip of panel.querySelectorAll<HTMLElement>(".chip-feed[data-feed]")) {
      const feed = chip.dataset.feed ?? "";
      chip.querySelector(".entities-badge")?.remove();
      const badge = downBadge(feed);
      if (badge) chip.append(badge);
    }
  }
}

/** Put the button in the health panel and keep the counts fresh while the board is shown. */
export function mountEntities(panel: HTMLElement): void {
  renderButton(panel);
  window.clearInterval(timer);
  const tick = (): void => {
    if (!state.me || !document.getElementById("health")) {
      window.clearInterval(timer); // signed out: stop asking
      return;
    }
    refreshDownCounts().catch((err: unknown) => console.warn("entity counts:", err));
  };
  timer = window.setInterval(tick, REFRESH_MS);
  tick();
}

// --- the list -----------------------------------------------------------------------------

function areaLabel(code: string): string {
  const area = state.areas.get(code);
  return area ? named(area.name_vi, area.name_en) : code;
}

function select(
  label: string,
  role: string,
  value: string,
  options: [string, string][],
  onChange: (value: string) => void,
): HTMLElement {
  const id = `entities-${role}`;
  const el = h(
    "select",
    { class: "input entities-select", attrs: { id, "data-role": role }, on: { change: () => onChange(el.value) } },
    ...options.map(([v, text]) => h("option", { text, attrs: { value: v, selected: v === value } })),
  );
  return h("label", { class: "entities-filter", attrs: { for: id } }, h("span", { text: label }), el);
}

function row(e: Entity): HTMLElement {
  const area = named(e.area_name_vi, e.area_name_en) || e.area;
  return h(
    "tr",
    { class: ["entity", `entity-${e.state}`], attrs: { "data-entity": e.entity, "data-state": e.state } },
    h("td", { class: "entity-state" }, icon(e.state === "down" ? "down" : e.state === "silent" ? "stale" : "ok"), teCode("state", e.state)),
    h("td", { class: "entity-id", text: e.entity }),
    h("td", { text: teCode("kind", e.kind) }),
    h("td", { class: "entity-area", text: area }),
    h("td", {}, h("time", { text: fmtDateTime(e.since), attrs: { datetime: e.since } })),
    h("td", {}, h("time", { text: fmtDateTime(e.last_seen), attrs: { datetime: e.last_seen } })),
  );
}

function render(): void {
  if (!dialog) return;
  const counts = last?.counts;
  const stateOptions: [string, string][] = [
    ["", `${te("allStates")}${counts ? ` (${fmtNumber(counts.total)})` : ""}`],
    ...(["down", "silent", "up"] as const).map((s): [string, string] => [
      s,
      `${teCode("state", s)}${counts ? ` (${fmtNumber(counts[s])})` : ""}`,
    ]),
  ];
  const feedOptions: [string, string][] = [
    [POINTS, te("points")],
    ...feedsWithStates().map((f): [string, string] => [f, feedName(f)]),
    ["", te("allFeeds")],
  ];
  const total = counts ? (filter.state ? counts[filter.state] : counts.total) : 0;
  const heading = dialog.querySelector<HTMLElement>("#entities-title");
  if (heading) heading.textContent = filter.state === "down" ? te("downNow") : te("allStatesTitle");
  const body = dialog.querySelector<HTMLElement>("[data-role=entities-body]");
  if (!body) return;
  fill(
    body,
    h(
      "div",
      { class: "entities-filters" },
      select(te("feed"), "entities-feed", filter.feed, feedOptions, (v) => reload({ ...filter, feed: v })),
      select(te("state"), "entities-state", filter.state, stateOptions, (v) => reload({ ...filter, state: v as EntityState | "" })),
      h(
        "p",
        { class: "entities-area" },
        h("span", { text: `${te("area")}: ` }),
        h("strong", { text: filter.area ? areaLabel(filter.area) : te("wholeScope"), attrs: { "data-role": "entities-area" } }),
        filter.area
          ? h("button", {
              class: "btn btn-ghost",
              text: te("showWholeScope"),
              attrs: { type: "button" },
              on: { click: () => reload({ ...filter, area: "" }) },
            })
          : null,
      ),
    ),
    error ? h("p", { class: "entities-error", text: error, attrs: { role: "alert" } }) : null,
    h(
      "div",
      { class: "entities-scroll" },
      h(
        "table",
        { class: "entities-table", attrs: { "data-role": "entities-table" } },
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ...[te("state"), te("entity"), te("kind"), te("area"), te("since"), te("lastSeen")].map((c) =>
              h("th", { text: c, attrs: { scope: "col" } }),
            ),
          ),
        ),
        h("tbody", {}, ...items.map(row)),
      ),
      !loading && last && !items.length ? h("p", { class: "empty", text: te("none") }) : null,
    ),
    h(
      "div",
      { class: "entities-foot" },
      h("span", {
        class: "panel-note",
        attrs: { "data-role": "entities-shown", role: "status" },
        text: last ? `${te("shown", { shown: fmtNumber(items.length), total: fmtNumber(total) })} · ${te("at", { time: fmtTime(last.at), minutes: SILENT_MINUTES })}` : "",
      }),
      last?.next_cursor
        ? h("button", {
            class: "btn",
            text: te("more"),
            attrs: { type: "button", "data-role": "entities-more", disabled: loading !== null },
            on: { click: () => void load(last?.next_cursor ?? null) },
          })
        : null,
    ),
  );
}

async function load(cursor: string | null): Promise<void> {
  // Filters changed quickly (feed, then state) must not show the list of the slower, older
  // request: the newest request aborts the one in flight and only its answer is shown.
  loading?.abort();
  const controller = new AbortController();
  loading = controller;
  error = "";
  render();
  try {
    const params = new URLSearchParams(query({ state: filter.state, area: filter.area, limit: PAGE, silent_minutes: SILENT_MINUTES, cursor }));
    for (const feed of filter.feed.split(",").filter(Boolean)) params.append("feed", feed);
    const page = await api<EntitiesPage>(`/api/v1/entities?${params.toString()}`, { signal: controller.signal });
    if (controller.signal.aborted) return;
    items = cursor ? [...items, ...page.items] : page.items;
    last = page;
  } catch (err) {
    if (controller.signal.aborted) return;
    error = err instanceof ApiError ? (err.problem?.detail ?? err.message) : String(err);
  } finally {
    if (loading === controller) loading = null;
  }
  render();
}

function reload(next: ListFilter): void {
  filter = next;
  items = [];
  last = null;
  void load(null);
}

/** Open the list with these filters (an empty string leaves a filter open). */
export function openEntities(next: ListFilter): void {
  if (!dialog) {
    dialog = h(
      "dialog",
      { class: "entities-dialog", attrs: { id: "entities-dialog", "aria-labelledby": "entities-title" } },
      h(
        "div",
        { class: "panel-head entities-head" },
        h("h2", { text: te("downNow"), attrs: { id: "entities-title" } }),
        h("span", { class: "panel-note", text: te("title") }),
        h("button", {
          class: "btn btn-ghost entities-close",
          text: te("close"),
          attrs: { type: "button", "data-role": "entities-close" },
          on: { click: () => dialog?.close() },
        }),
      ),
      h("div", { class: "entities-body", attrs: { "data-role": "entities-body" } }),
    );
    dialog.addEventListener("close", () => {
      dialog?.remove();
      dialog = null;
    });
    document.body.append(dialog);
    dialog.showModal();
  }
  reload(next);
}
