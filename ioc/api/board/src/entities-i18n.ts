/**
 * The words of the entity list and of an alert's causes, in Vietnamese (the default) and
 * English; kept apart from i18n.ts so that the two grow without touching each other.
 */

import { lang } from "./i18n";

const vi = {
  downNow: "Điểm đang ngừng hoạt động",
  allStatesTitle: "Trạng thái các điểm",
  downButton: "Điểm ngừng hoạt động: {count}",
  downButtonAria: "Mở danh sách {count} điểm đang ngừng hoạt động",
  downOfFeed: "{count} điểm ngừng",
  downOfDvc: "{count} DV không trực tuyến",
  downOfFeedAria: "Xem {count} điểm ngừng hoạt động của {feed}",
  title: "Camera, điểm kết nối mạng và dịch vụ công trực tuyến",
  close: "Đóng",
  feed: "Nguồn",
  allFeeds: "Tất cả nguồn",
  points: "Camera và điểm kết nối mạng",
  state: "Trạng thái",
  allStates: "Tất cả trạng thái",
  area: "Địa bàn",
  wholeScope: "Toàn bộ phạm vi",
  showWholeScope: "Xem toàn bộ phạm vi",
  entity: "Mã",
  kind: "Loại",
  since: "Từ lúc",
  lastSeen: "Tín hiệu cuối",
  more: "Tải thêm",
  none: "Không có điểm nào khớp bộ lọc.",
  shown: "Đang hiện {shown} / {total}",
  at: "Trạng thái lúc {time}; mất tín hiệu = không báo về quá {minutes} phút.",
  causesEntities: "Điểm ngừng hoạt động ({count}):",
  causesMore: "và {count} điểm khác",
  causesList: "Xem danh sách",
  causesListAria: "Xem các điểm ngừng hoạt động tại {area}",
  causesAreas: "Địa bàn ảnh hưởng nhiều nhất:",
  causesGap: "kéo giảm {gap}",
  sinceShort: "từ {time}",
  "state.down": "Ngừng hoạt động",
  "state.silent": "Mất tín hiệu",
  "state.up": "Hoạt động",
  "kind.camera": "Camera",
  "kind.special_network": "Điểm mạng chuyên dùng",
  "kind.agency_lan": "Mạng LAN cơ quan",
  "kind.cell_site": "Trạm BTS",
  "kind.broadband": "Điểm băng rộng",
  "kind.service": "Dịch vụ công trực tuyến",
} as const;

export type EntityKey = keyof typeof vi;

const en: Record<EntityKey, string> = {
  downNow: "Points down now",
  allStatesTitle: "States of the points",
  downButton: "Points down: {count}",
  downButtonAria: "Open the list of {count} points down now",
  downOfFeed: "{count} down",
  downOfDvc: "{count} not online",
  downOfFeedAria: "See the {count} points of {feed} that are down",
  title: "Cameras, network points and online public services",
  close: "Close",
  feed: "Feed",
  allFeeds: "All feeds",
  points: "Cameras and network points",
  state: "State",
  allStates: "All states",
  area: "Area",
  wholeScope: "Whole scope",
  showWholeScope: "Show the whole scope",
  entity: "Id",
  kind: "Kind",
  since: "Since",
  lastSeen: "Last seen",
  more: "Load more",
  none: "Nothing matches these filters.",
  shown: "Showing {shown} of {total}",
  at: "States at {time}; silent = no report for over {minutes} min.",
  causesEntities: "Points down ({count}):",
  causesMore: "and {count} more",
  causesList: "See the list",
  causesListAria: "See the points down in {area}",
  causesAreas: "Areas weighing most:",
  causesGap: "pulls down {gap}",
  sinceShort: "since {time}",
  "state.down": "Down",
  "state.silent": "Silent",
  "state.up": "Up",
  "kind.camera": "Camera",
  "kind.special_network": "Special network point",
  "kind.agency_lan": "Agency LAN",
  "kind.cell_site": "Cell site",
  "kind.broadband": "Broadband point",
  "kind.service": "Online public service",
};

/** The text of `key` in the board's language, with `{name}` placeholders filled in. */
export function te(key: EntityKey, params: Record<string, string | number> = {}): string {
  const text = (lang() === "vi" ? vi : en)[key];
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
}

/** A state or kind code in words; the code itself when unknown. */
export function teCode(group: "state" | "kind", code: string): string {
  const key = `${group}.${code}`;
  return key in vi ? te(key as EntityKey) : code;
}
