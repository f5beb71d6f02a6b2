/** The feed-health strip: one chip per feed (stream side) and per connector. */

import { fill, h } from "../dom";
import { fmtNumber, named, t, word } from "../i18n";
import { icon, iconFor } from "../icons";
import { state } from "../state";
import type { ConnectorHealth, Feed } from "../types";
import { downBadge } from "./entities";

function rate(value: number | null | undefined): string {
  return t("rate", { rate: fmtNumber(value ?? 0, 1) });
}

function connectorState(c: ConnectorHealth): string {
  return c.live ? c.state : "down";
}

function feedChip(feed: Feed): HTMLElement {
  const stream = feed.stream;
  const parts = [
    word("feedState", feed.state),
    stream ? rate(stream.rate) : null,
    stream ? t("lag", { lag: fmtNumber(stream.lag ?? 0) }) : null,
    t("dlq", { count: fmtNumber(stream?.dead_lettered ?? 0) }),
  ].filter(Boolean);
  return h(
    "li",
    {
      class: ["chip", "chip-feed", `state-${feed.state}`],
      attrs: { "data-feed": feed.feed, title: `${t("stream")}: ${named(feed.name_vi, feed.name_en)}` },
    },
    icon(iconFor(feed.state)),
    h("strong", { text: named(feed.name_vi, feed.name_en) }),
    h("span", { text: parts.join(" · ") }),
    downBadge(feed.feed),
  );
}

function connectorChip(c: ConnectorHealth): HTMLElement {
  const st = connectorState(c);
  const parts = [
    word("connState", st),
    rate(c.rate),
    c.spooled ? t("spooled", { count: fmtNumber(c.spooled) }) : null,
    t("dlq", { count: fmtNumber(c.dead_lettered ?? 0) }),
  ].filter(Boolean);
  return h(
    "li",
    {
      class: ["chip", "chip-connector", `state-${st}`],
      attrs: { "data-connector": c.name, title: `${t("connector")}: ${c.name}` },
    },
    icon(iconFor(st)),
    h("strong", { text: c.name }),
    h("span", { text: parts.join(" · ") }),
  );
}

export function renderHealth(strip: HTMLElement): void {
  const list = strip.querySelector<HTMLElement>("[data-role=chips]");
  if (!list) return;
  const feeds = state.feeds?.items ?? [];
  if (!feeds.length) {
    fill(list, h("li", { class: "chip chip-empty", text: t("loading") }));
    return;
  }
  fill(list, ...feeds.flatMap((feed) => [feedChip(feed), ...feed.connectors.map(connectorChip)]));
}
