/** Status icons drawn in SVG, so a status is never told by colour alone nor left to a font. */

import { s } from "./dom";

export type IconName = "ok" | "warning" | "critical" | "unknown" | "stale" | "live" | "down";

export function icon(name: IconName, label?: string): SVGSVGElement {
  const svg = s("svg", {
    class: `icon icon-${name}`,
    viewBox: "0 0 16 16",
    width: 16,
    height: 16,
    focusable: "false",
    "aria-hidden": label ? undefined : "true",
    role: label ? "img" : undefined,
    "aria-label": label,
  });
  const stroke = { fill: "none", stroke: "currentColor", "stroke-width": 2, "stroke-linecap": "round", "stroke-linejoin": "round" };
  switch (name) {
    case "ok":
      svg.append(s("circle", { cx: 8, cy: 8, r: 7, fill: "currentColor", opacity: 0.2 }));
      svg.append(s("polyline", { points: "4.5,8.5 7,11 11.5,5.5", ...stroke }));
      break;
    case "warning":
      svg.append(s("path", { d: "M8 1.5 15 14.5H1z", fill: "currentColor", opacity: 0.25 }));
      svg.append(s("path", { d: "M8 1.5 15 14.5H1z", ...stroke, "stroke-width": 1.5 }));
      svg.append(s("line", { x1: 8, y1: 6, x2: 8, y2: 9.5, ...stroke }));
      svg.append(s("circle", { cx: 8, cy: 12, r: 1, fill: "currentColor" }));
      break;
    case "critical":
    case "down":
      svg.append(s("circle", { cx: 8, cy: 8, r: 7, fill: "currentColor" }));
      svg.append(s("path", { d: "M5.2 5.2 10.8 10.8M10.8 5.2 5.2 10.8", fill: "none", stroke: "#111", "stroke-width": 2, "stroke-linecap": "round" }));
      break;
    case "stale":
      svg.append(s("circle", { cx: 8, cy: 8, r: 6.5, ...stroke, "stroke-width": 1.5 }));
      svg.append(s("polyline", { points: "8,4.5 8,8 10.5,9.5", ...stroke, "stroke-width": 1.5 }));
      break;
    case "live":
      svg.append(s("circle", { cx: 8, cy: 8, r: 5, fill: "currentColor" }));
      break;
    default:
      svg.append(s("circle", { cx: 8, cy: 8, r: 6.5, ...stroke, "stroke-width": 1.5, "stroke-dasharray": "2.5 2" }));
      svg.append(s("line", { x1: 5, y1: 8, x2: 11, y2: 8, ...stroke }));
  }
  return svg;
}

/** The icon of a status word the API uses (map status, feed state, quality, severity). */
export function iconFor(status: string): IconName {
  switch (status) {
    case "ok":
    case "running":
    case "live":
      return "ok";
    case "idle":
    case "quiet":
      return "live";
    case "warning":
    case "low_volume":
    case "info":
      return "warning";
    case "critical":
      return "critical";
    case "down":
    case "failed":
      return "down";
    case "stale":
    case "spooling":
    case "backfilling":
      return "stale";
    default:
      return "unknown";
  }
}
