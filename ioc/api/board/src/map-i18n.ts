/**
 * The words of the geographic map, in Vietnamese (the default) and English; kept apart from
 * i18n.ts, as the entity list's words are, so the two grow without touching each other.
 */

import { lang } from "./i18n";

const vi = {
  mapAria: "Bản đồ {area}: {count} địa bàn. Phím mũi tên để di chuyển, Enter để chọn, Esc để quay lại.",
  shapesEstimate:
    "Ranh giới vẽ gần đúng từ tọa độ và khung bao của từng địa bàn, không phải ranh giới địa chính.",
  noCoords: "chưa có tọa độ",
  notOnMap: "{count} địa bàn chưa có tọa độ nên chưa vẽ trên bản đồ (xem danh sách).",
  back: "Về {area}",
  backAria: "Thu nhỏ bản đồ về {area}",
  pointsLoading: "Đang tải camera và điểm kết nối…",
  pointsNone: "Chưa có camera hay điểm kết nối mạng nào báo về từ {area}.",
  pointsSummary:
    "{area}: {cameras} camera, {network} điểm kết nối mạng; {down} đang ngừng hoạt động, {silent} mất tín hiệu.",
  pointsEstimate:
    "Vị trí các điểm là ước tính: dữ liệu chưa có tọa độ, mỗi điểm được đặt cố định theo mã trong địa bàn.",
  pointsList: "Danh sách các điểm",
  pointsMore: "Chỉ vẽ {shown} / {total} điểm.",
  basemapBy: "Nền bản đồ: {attribution}",
  legend: "Chú giải",
  camera: "Camera",
  network: "Điểm kết nối mạng",
};

type MapKey = keyof typeof vi;

const en: Record<MapKey, string> = {
  mapAria: "Map of {area}: {count} areas. Arrow keys to move, Enter to choose, Esc to go back.",
  shapesEstimate: "Shapes are approximate, drawn from each area's point and bounding box; not cadastral boundaries.",
  noCoords: "no coordinates",
  notOnMap: "{count} areas have no coordinates and are not drawn on the map (see the list).",
  back: "Back to {area}",
  backAria: "Zoom the map out to {area}",
  pointsLoading: "Loading cameras and network points…",
  pointsNone: "No camera or network point has reported from {area} yet.",
  pointsSummary: "{area}: {cameras} cameras, {network} network points; {down} down, {silent} silent.",
  pointsEstimate:
    "Point positions are estimates: the data has no coordinates, so each point is placed by its id within the area.",
  pointsList: "List the points",
  pointsMore: "Only {shown} of {total} points drawn.",
  basemapBy: "Basemap: {attribution}",
  legend: "Legend",
  camera: "Camera",
  network: "Network point",
};

/** The text of `key` in the board's language, with `{name}` placeholders filled in. */
export function tm(key: MapKey, params: Record<string, string | number> = {}): string {
  const text = (lang() === "vi" ? vi : en)[key];
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
}
