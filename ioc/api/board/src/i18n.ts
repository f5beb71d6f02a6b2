/**
 * Every string of the board, in Vietnamese (the default) and English, and the number and time
 * formats of each language. Times are always shown in Asia/Ho_Chi_Minh.
 */

export type Lang = "vi" | "en";

const vi = {
  appTitle: "Trung tâm điều hành thông minh",
  appShort: "IOC",
  boardFor: "Bảng giám sát trực tuyến",
  provinceOverview: "Tổng quan tỉnh",
  areaOverview: "Tổng quan: {area}",
  kpisHeading: "Chỉ tiêu chuyển đổi số",
  alerts: "Cảnh báo",
  alertsOpen: "Cảnh báo đang mở",
  newAlert: "Cảnh báo mới",
  noAlerts: "Không có cảnh báo đang mở.",
  feedHealth: "Tình trạng nguồn dữ liệu",
  feedCharts: "Sự kiện mỗi phút, 60 phút qua",
  map: "Sơ đồ địa bàn",
  mapHint: "Chọn một địa bàn để xem chỉ tiêu; địa bàn có cấp dưới sẽ mở ra.",
  noChildren: "Địa bàn này không có đơn vị cấp dưới.",
  breadcrumb: "Đường dẫn địa bàn",
  ack: "Tiếp nhận",
  ackAria: "Tiếp nhận cảnh báo {summary}",
  acking: "Đang tiếp nhận…",
  ackedBy: "Đã tiếp nhận bởi {name} lúc {time}",
  ackFailed: "Không tiếp nhận được: {detail}",
  ackResolved: "Cảnh báo đã trở lại bình thường trước khi được tiếp nhận.",
  target: "Mục tiêu",
  gap: "Chênh lệch",
  value: "Giá trị",
  trend24h: "Xu hướng 24 giờ",
  deadline: "hạn {date}",
  noTarget: "Chưa đặt",
  reported: "Đã báo cáo",
  estimateMark: "ước tính",
  population: "dân số {count}",
  meets: "Đạt",
  behind: "Chưa đạt",
  notJudged: "Chưa đánh giá",
  points: "điểm %",
  noValue: "—",
  live: "Trực tiếp",
  connecting: "Đang kết nối…",
  reconnecting: "Mất kết nối, thử lại sau {seconds} giây…",
  lastUpdate: "Cập nhật lúc {time}",
  never: "chưa có dữ liệu",
  switchLang: "English",
  switchLangAria: "Switch the board to English",
  logout: "Đăng xuất",
  loginTitle: "Đăng nhập bảng giám sát",
  loginHelp:
    "Nhập khóa API do quản trị viên cấp (lệnh: ioc api keys create). Khóa chỉ được giữ trong thẻ trình duyệt này.",
  apiKey: "Khóa API",
  login: "Đăng nhập",
  loggingIn: "Đang kiểm tra khóa…",
  badKey: "Khóa không hợp lệ hoặc đã bị thu hồi.",
  forbidden: "Khóa này không có quyền xem bảng giám sát.",
  rateLimited: "Quá nhiều yêu cầu, vui lòng thử lại sau {seconds} giây.",
  serverDown: "Không kết nối được máy chủ IOC ({detail}).",
  user: "Người dùng",
  role: "Vai trò",
  scope: "Phạm vi",
  wholeProvince: "Toàn tỉnh",
  events5m: "{count} sự kiện / 5 phút",
  eventsPerMin: "sự kiện/phút",
  eventsHour: "{count} sự kiện / giờ",
  lastWindow: "mới nhất {time}",
  rate: "{rate}/giây",
  lag: "trễ {lag}",
  dlq: "DLQ {count}",
  spooled: "đệm {count}",
  connector: "Bộ kết nối",
  stream: "Luồng xử lý",
  firing: "{count} đang cảnh báo",
  belowTarget: "{count} chỉ tiêu chưa đạt",
  firingShort: "{count} cảnh báo",
  belowShort: "{count} chưa đạt",
  perHourShort: "{count}/giờ",
  since: "từ {time}",
  selected: "đang chọn",
  drillDown: "mở cấp dưới",
  loading: "Đang tải…",
  chartAria: "Biểu đồ {feed}: {count} sự kiện trong 5 phút qua",
  sparkAria: "Xu hướng 24 giờ của {kpi}",
  quality: "Chất lượng dữ liệu",
  severity: "Mức độ",
  // Drill-through: the events behind a number (views/drill.ts).
  drillOpen: "Xem sự kiện",
  drillOpenAria: "Xem các sự kiện phía sau chỉ tiêu {kpi}",
  drillCellAria: "Xem sự kiện của {area}",
  drillAlertAria: "Xem sự kiện phía sau cảnh báo {summary}",
  drillTitle: "Sự kiện phía sau con số",
  drillKpi: "Chỉ tiêu",
  drillPart: "Thành phần",
  drillNumerator: "Tử số",
  drillDenominator: "Mẫu số",
  drillSpan: "{area} · {from} – {to} (giờ Việt Nam)",
  drillPage: "Sự kiện {first}–{last} / {total}",
  drillPageNoTotal: "Sự kiện {first}–{last}",
  drillPrev: "‹ Trang trước",
  drillNext: "Trang sau ›",
  drillCsv: "Tải CSV",
  drillCsvBusy: "Đang tải CSV…",
  drillCsvFailed: "Không tải được CSV: {detail}",
  drillClose: "Đóng",
  drillEmpty: "Không có sự kiện nào trong khoảng thời gian này.",
  drillFailed: "Không tải được danh sách sự kiện: {detail}",
  colTime: "Thời điểm",
  colArea: "Địa bàn",
  colEntity: "Đối tượng",
  colKind: "Loại",
  colSource: "Nguồn",
  colDetails: "Chi tiết",
} as const;

export type Key = keyof typeof vi;

const en: Record<Key, string> = {
  appTitle: "Intelligent Operations Centre",
  appShort: "IOC",
  boardFor: "Live board",
  provinceOverview: "Province overview",
  areaOverview: "Overview: {area}",
  kpisHeading: "Digital transformation indicators",
  alerts: "Alerts",
  alertsOpen: "Open alerts",
  newAlert: "New alert",
  noAlerts: "No open alerts.",
  feedHealth: "Data feed health",
  feedCharts: "Events per minute, last 60 minutes",
  map: "Area map",
  mapHint: "Pick an area to see its indicators; an area with sub-areas opens.",
  noChildren: "This area has no sub-areas.",
  breadcrumb: "Area path",
  ack: "Acknowledge",
  ackAria: "Acknowledge alert {summary}",
  acking: "Acknowledging…",
  ackedBy: "Acknowledged by {name} at {time}",
  ackFailed: "Could not acknowledge: {detail}",
  ackResolved: "The alert was resolved before it was acknowledged.",
  target: "Target",
  gap: "Gap",
  value: "Value",
  trend24h: "24-hour trend",
  deadline: "by {date}",
  noTarget: "Not set",
  reported: "Reported",
  estimateMark: "estimate",
  population: "population {count}",
  meets: "Met",
  behind: "Behind",
  notJudged: "Not judged",
  points: "pp",
  noValue: "—",
  live: "Live",
  connecting: "Connecting…",
  reconnecting: "Disconnected, retrying in {seconds} s…",
  lastUpdate: "Updated {time}",
  never: "no data yet",
  switchLang: "Tiếng Việt",
  switchLangAria: "Chuyển bảng giám sát sang tiếng Việt",
  logout: "Sign out",
  loginTitle: "Sign in to the live board",
  loginHelp:
    "Enter the API key an administrator gave you (command: ioc api keys create). The key is kept in this browser tab only.",
  apiKey: "API key",
  login: "Sign in",
  loggingIn: "Checking the key…",
  badKey: "The key is invalid or was revoked.",
  forbidden: "This key may not view the board.",
  rateLimited: "Too many requests, try again in {seconds} s.",
  serverDown: "Cannot reach the IOC server ({detail}).",
  user: "User",
  role: "Role",
  scope: "Scope",
  wholeProvince: "Whole province",
  events5m: "{count} events / 5 min",
  eventsPerMin: "events/min",
  eventsHour: "{count} events / hour",
  lastWindow: "latest {time}",
  rate: "{rate}/s",
  lag: "lag {lag}",
  dlq: "DLQ {count}",
  spooled: "spooled {count}",
  connector: "Connector",
  stream: "Stream",
  firing: "{count} firing",
  belowTarget: "{count} KPIs behind target",
  firingShort: "{count} firing",
  belowShort: "{count} behind",
  perHourShort: "{count}/h",
  since: "since {time}",
  selected: "selected",
  drillDown: "open sub-areas",
  loading: "Loading…",
  chartAria: "{feed} chart: {count} events in the last 5 minutes",
  sparkAria: "24-hour trend of {kpi}",
  quality: "Data quality",
  severity: "Severity",
  drillOpen: "Events",
  drillOpenAria: "Show the events behind {kpi}",
  drillCellAria: "Show the events of {area}",
  drillAlertAria: "Show the events behind the alert {summary}",
  drillTitle: "Events behind the number",
  drillKpi: "Indicator",
  drillPart: "Part",
  drillNumerator: "Numerator",
  drillDenominator: "Denominator",
  drillSpan: "{area} · {from} – {to} (Vietnam time)",
  drillPage: "Events {first}–{last} of {total}",
  drillPageNoTotal: "Events {first}–{last}",
  drillPrev: "‹ Previous",
  drillNext: "Next ›",
  drillCsv: "Download CSV",
  drillCsvBusy: "Downloading CSV…",
  drillCsvFailed: "CSV download failed: {detail}",
  drillClose: "Close",
  drillEmpty: "No events in this period.",
  drillFailed: "The list of events could not be loaded: {detail}",
  colTime: "Time",
  colArea: "Area",
  colEntity: "Entity",
  colKind: "Kind",
  colSource: "Source",
  colDetails: "Details",
};

/** Words that come from the API as codes: states, roles, feeds, levels. */
const codes: Record<Lang, Record<string, string>> = {
  vi: {
    "feedState.ok": "Bình thường",
    "feedState.idle": "Không phát sinh sự kiện",
    "feedState.quiet": "Yên lặng như dự kiến",
    "feedState.stale": "Chậm cập nhật",
    "feedState.down": "Mất dữ liệu",
    "quality.ok": "Dữ liệu đủ",
    "quality.stale": "Dữ liệu cũ",
    "quality.no_data": "Không có dữ liệu",
    "quality.low_volume": "Ít dữ liệu",
    "status.ok": "Bình thường",
    "status.warning": "Cảnh báo",
    "status.critical": "Nghiêm trọng",
    "status.no_data": "Không có dữ liệu",
    "severity.info": "Thông tin",
    "severity.warning": "Cảnh báo",
    "severity.critical": "Nghiêm trọng",
    "alertState.firing": "Đang cảnh báo",
    "alertState.acknowledged": "Đã tiếp nhận",
    "alertState.resolved": "Đã trở lại bình thường",
    "role.operator": "Trực ban",
    "role.leader": "Lãnh đạo",
    "role.engineer": "Kỹ sư",
    "role.admin": "Quản trị",
    "role.department": "Sở, ngành",
    "level.province": "Tỉnh",
    "level.district": "Huyện",
    "level.commune": "Xã/phường",
    "connState.running": "Đang chạy",
    "connState.live": "Trực tiếp",
    "connState.backfilling": "Đang nạp lịch sử",
    "connState.spooling": "Đang đệm",
    "connState.stopped": "Đã dừng",
    "connState.starting": "Đang khởi động",
    "connState.failed": "Lỗi",
    "connState.ok": "Bình thường",
    "connState.stale": "Chậm cập nhật",
    "connState.down": "Mất kết nối",
  },
  en: {
    "feedState.ok": "OK",
    "feedState.idle": "Quiet",
    "feedState.quiet": "Quiet as expected",
    "feedState.stale": "Stale",
    "feedState.down": "Down",
    "quality.ok": "Data OK",
    "quality.stale": "Stale data",
    "quality.no_data": "No data",
    "quality.low_volume": "Low volume",
    "status.ok": "Normal",
    "status.warning": "Warning",
    "status.critical": "Critical",
    "status.no_data": "No data",
    "severity.info": "Info",
    "severity.warning": "Warning",
    "severity.critical": "Critical",
    "alertState.firing": "Firing",
    "alertState.acknowledged": "Acknowledged",
    "alertState.resolved": "Resolved",
    "role.operator": "Operator",
    "role.leader": "Leader",
    "role.engineer": "Engineer",
    "role.admin": "Administrator",
    "role.department": "Department",
    "level.province": "Province",
    "level.district": "District",
    "level.commune": "Commune/ward",
    "connState.running": "Running",
    "connState.live": "Live",
    "connState.backfilling": "Backfilling",
    "connState.spooling": "Spooling",
    "connState.stopped": "Stopped",
    "connState.starting": "Starting",
    "connState.failed": "Failed",
    "connState.ok": "OK",
    "connState.stale": "Stale",
    "connState.down": "Down",
  },
};

const dictionaries: Record<Lang, Record<Key, string>> = { vi, en };
const STORAGE_KEY = "ioc-board-lang";
export const TIME_ZONE = "Asia/Ho_Chi_Minh";

function initialLang(): Lang {
  try {
    return localStorage.getItem(STORAGE_KEY) === "en" ? "en" : "vi";
  } catch {
    return "vi";
  }
}

let current: Lang = initialLang();

export function lang(): Lang {
  return current;
}

export function setLang(next: Lang): void {
  current = next;
  try {
    localStorage.setItem(STORAGE_KEY, next);
  } catch {
    // Private mode: the choice lasts until the tab closes.
  }
  document.documentElement.lang = next;
}

/** The text of `key` in the current language, with `{name}` placeholders filled in. */
export function t(key: Key, params: Record<string, string | number> = {}): string {
  return dictionaries[current][key].replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in params ? String(params[name]) : whole,
  );
}

/** A code from the API (`feedState.ok`, `role.operator`) in words; the code itself if unknown. */
export function word(group: string, code: string | null | undefined): string {
  if (code == null) return t("noValue");
  return codes[current][`${group}.${code}`] ?? code;
}

/** The name of an area, KPI or alert in the current language (Vietnamese when no English). */
export function named(vi_: string | null | undefined, en_: string | null | undefined): string {
  if (current === "en" && en_) return en_;
  return vi_ ?? en_ ?? "";
}

// --- numbers -------------------------------------------------------------------------------

const locale = (): string => (current === "vi" ? "vi-VN" : "en-GB");
const formats = new Map<string, Intl.NumberFormat>();

function numberFormat(options: Intl.NumberFormatOptions): Intl.NumberFormat {
  const id = `${locale()}|${JSON.stringify(options)}`;
  let format = formats.get(id);
  if (!format) {
    format = new Intl.NumberFormat(locale(), options);
    formats.set(id, format);
  }
  return format;
}

/** A whole or decimal number with the language's separators: 1.234,5 (vi), 1,234.5 (en). */
export function fmtNumber(value: number | null | undefined, digits = 0): string {
  if (value == null || !Number.isFinite(value)) return t("noValue");
  return numberFormat({ minimumFractionDigits: digits, maximumFractionDigits: digits }).format(
    value,
  );
}

/** A fraction as a percentage: 0.953 → "95,3 %" (vi, with a no-break space) or "95.3%" (en). */
export function fmtPercent(fraction: number | null | undefined, digits = 1): string {
  if (fraction == null || !Number.isFinite(fraction)) return t("noValue");
  const text = fmtNumber(fraction * 100, digits);
  return current === "vi" ? `${text}\u00a0%` : `${text}%`;
}

/** A KPI value in its unit. */
export function fmtKpi(value: number | null | undefined, unit: string): string {
  if (unit === "percent") return fmtPercent(value);
  if (unit === "ratio") return fmtNumber(value, 3);
  return fmtNumber(value, 2);
}

/** A signed gap (value − target): percentage points for percent KPIs. */
export function fmtGap(gap: number | null | undefined, unit: string): string {
  if (gap == null || !Number.isFinite(gap)) return t("noValue");
  const scaled = unit === "percent" ? gap * 100 : gap;
  const digits = unit === "ratio" ? 3 : 1;
  const text = numberFormat({
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
    signDisplay: "exceptZero",
  })
    .format(scaled)
    .replace("-", "\u2212");
  return unit === "percent" ? `${text}\u00a0${t("points")}` : text;
}

// --- times (always Asia/Ho_Chi_Minh) ---------------------------------------------------------

const timeFormats = new Map<string, Intl.DateTimeFormat>();

function dateFormat(options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const id = `${locale()}|${JSON.stringify(options)}`;
  let format = timeFormats.get(id);
  if (!format) {
    format = new Intl.DateTimeFormat(locale(), { timeZone: TIME_ZONE, hourCycle: "h23", ...options });
    timeFormats.set(id, format);
  }
  return format;
}

function toDate(value: string | number | Date | null | undefined): Date | null {
  if (value == null) return null;
  const d = value instanceof Date ? value : new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** 14:05:09 */
export function fmtTime(value: string | number | Date | null | undefined): string {
  const d = toDate(value);
  return d
    ? dateFormat({ hour: "2-digit", minute: "2-digit", second: "2-digit" }).format(d)
    : t("noValue");
}

/** 14:05 */
export function fmtHourMinute(value: string | number | Date | null | undefined): string {
  const d = toDate(value);
  return d ? dateFormat({ hour: "2-digit", minute: "2-digit" }).format(d) : t("noValue");
}

/** 23/11/2026 14:05 */
export function fmtDateTime(value: string | number | Date | null | undefined): string {
  const d = toDate(value);
  if (!d) return t("noValue");
  const day = dateFormat({ day: "2-digit", month: "2-digit", year: "numeric" }).format(d);
  return `${day} ${fmtHourMinute(d)}`;
}

/** 31/12/2025 (a calendar date from the catalogue, not a moment: no time-zone shift). */
export function fmtDay(value: string | null | undefined): string {
  if (!value) return t("noValue");
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(value);
  return m ? `${m[3]}/${m[2]}/${m[1]}` : value;
}
