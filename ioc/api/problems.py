"""Errors as RFC 9457 problem details (`application/problem+json`), one shape for every error."""

from __future__ import annotations

import html
import logging
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

__all__ = [
    "EXPLAINED",
    "PROBLEM_TYPE",
    "TITLES",
    "Problem",
    "explanation_page",
    "install_handlers",
    "problem_response",
]

# Relative to the API's own address (RFC 9457 §3.1.1): GET it on the same server for a page
# that explains the problem (:func:`explanation_page`).
PROBLEM_TYPE = "/problems/"
log = logging.getLogger(__name__)
TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Invalid request",
    429: "Too many requests",
    500: "Internal error",
    503: "Service unavailable",
}


class Problem(Exception):
    """An error the client can act on: raise it anywhere in a request, it becomes the response.

    Args:
        status: the HTTP status.
        slug: a short stable code, the last part of the problem's ``type`` URI.
        detail: exactly what was wrong and, where possible, what to do.
        headers: extra response headers (``WWW-Authenticate``, ``Retry-After``).
        errors: one ``{"loc": [...], "msg": ...}`` per problem when there are several (every
            bad row of an upload), as a 422 from validation lists its fields.
    """

    def __init__(
        self,
        status: int,
        slug: str,
        detail: str,
        headers: dict[str, str] | None = None,
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.slug = slug
        self.detail = detail
        self.headers = headers or {}
        self.errors = errors


def problem_response(
    status: int,
    slug: str,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> JSONResponse:
    """A problem+json response."""
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE + slug,
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(
        body, status_code=status, headers=headers, media_type="application/problem+json"
    )


# Every problem the API answers with: (Vietnamese, English) — what it means, what to do.
EXPLAINED: dict[str, tuple[str, str]] = {
    "bad-request": (
        "Yêu cầu không hợp lệ.",
        "The request is malformed.",
    ),
    "unauthorized": (
        "Thiếu khóa API hoặc khóa không hợp lệ/đã thu hồi. Gửi `Authorization: Bearer <khóa>`; "
        "quản trị viên tạo khóa bằng `ioc api keys create`.",
        "No API key, or an invalid or revoked one. Send `Authorization: Bearer <key>`; an "
        "admin creates keys with `ioc api keys create`.",
    ),
    "too-many-failed-authentications": (
        "Quá nhiều yêu cầu không có khóa hợp lệ từ địa chỉ này; chờ theo `Retry-After`.",
        "Too many requests without a valid key from this address; wait `Retry-After` seconds.",
    ),
    "rate-limited": (
        "Khóa này gửi quá nhiều yêu cầu mỗi phút; chờ theo `Retry-After`.",
        "This key made too many requests a minute; wait `Retry-After` seconds.",
    ),
    "forbidden": (
        "Vai trò của khóa không được phép làm việc này; xin quản trị viên một khóa phù hợp.",
        "The key's role may not do this; ask an admin for a key whose role allows it.",
    ),
    "out-of-scope": (
        "Địa bàn nằm ngoài phạm vi của khóa (khóa chỉ xem địa bàn của nó và cấp dưới).",
        "The area is outside the key's scope (a key sees its area and the areas below).",
    ),
    "silence-too-long": (
        "Khóa giới hạn theo địa bàn chỉ được tạm lặng cảnh báo trong thời gian ngắn hơn.",
        "A key limited to an area may silence for a shorter time only.",
    ),
    "not-found": ("Không có tài nguyên này.", "No such resource."),
    "unknown-alert": ("Không có cảnh báo này.", "No such alert."),
    "unknown-area": ("Không có địa bàn mang mã này.", "No area has this code."),
    "unknown-kpi": ("Không có chỉ tiêu (KPI) này; xem GET /api/v1/kpis.", "No such KPI."),
    "unknown-metric": ("Không có số đo này.", "No such metric: a metric is <feed>.<measure>."),
    "unknown-feed": ("Nguồn dữ liệu này không báo trạng thái điểm.", "The feed reports no states."),
    "unknown-report": (
        "Không có báo cáo này; hỏi ví dụ 2025-Q3.xlsx hoặc .pdf.",
        "No such report; ask for e.g. 2025-Q3.xlsx or .pdf.",
    ),
    "unknown-indicator": (
        "Không có chỉ tiêu định kỳ này; xem GET /api/v1/indicators.",
        "No such periodic indicator; see GET /api/v1/indicators.",
    ),
    "other-department": (
        "Chỉ tiêu này do sở, ngành khác báo cáo; khóa này chỉ nhập chỉ tiêu của sở, ngành mình.",
        "Another department reports this indicator; this key enters only its own department's.",
    ),
    "invalid-entry": (
        "Giá trị chỉ tiêu không nhập được; `errors` nêu từng trường và lý do (kỳ chưa kết "
        "thúc, địa bàn không báo cáo chỉ tiêu này, giá trị ngoài khoảng…).",
        "The indicator value cannot be entered; `errors` names each field and why (a period "
        "not ended yet, an area that does not report it, a value out of range…).",
    ),
    "invalid-upload": (
        "Tệp tải lên có dòng sai; `errors` liệt kê từng dòng, cột và lý do. Không dòng nào được "
        "nhập: sửa tệp rồi tải lại.",
        "The uploaded file has bad rows; `errors` lists each row, column and reason. Nothing "
        "was imported: fix the file and upload it again.",
    ),
    "upload-too-large": (
        "Tệp tải lên quá lớn; chia thành nhiều tệp nhỏ hơn.",
        "The upload is too large; split it into smaller files.",
    ),
    "unknown-silence": ("Không có lệnh tạm lặng này đang hiệu lực.", "No such silence in force."),
    "method-not-allowed": ("Phương thức HTTP không được hỗ trợ.", "Method not allowed here."),
    "not-firing": (
        "Cảnh báo không còn ở trạng thái đang phát (đã được xác nhận hoặc đã kết thúc).",
        "The alert is not firing (acknowledged or resolved already).",
    ),
    "conflict": ("Xung đột với trạng thái hiện tại.", "Conflicts with the current state."),
    "unsupported-media-type": ("Kiểu nội dung không được hỗ trợ.", "Unsupported media type."),
    "invalid-request": (
        "Tham số hoặc thân yêu cầu không hợp lệ; `errors` liệt kê từng trường và lý do.",
        "A parameter or the body is invalid; `errors` lists each field and why.",
    ),
    "invalid-value": (
        "Một tham số có giá trị cơ sở dữ liệu không nhận (ví dụ ký tự NUL).",
        "A parameter has a value the database refuses (e.g. a NUL character).",
    ),
    "invalid-cursor": (
        "Con trỏ trang không phải do API này cấp; bắt đầu lại từ trang đầu.",
        "The cursor was not given by this API; start again from the first page.",
    ),
    "invalid-span": ("Khoảng thời gian không hợp lệ.", "The span is invalid."),
    "ambiguous-span": (
        "Chỉ nêu bucket (kèm resolution) hoặc from và to, không cả hai.",
        "Give either bucket (with resolution) or from and to, not both.",
    ),
    "missing-span": (
        "Thiếu khoảng thời gian: nêu bucket hoặc from và to.",
        "The span is missing: give bucket, or from and to.",
    ),
    "resolution-without-bucket": (
        "resolution là độ rộng của một bucket: cần nêu cả bucket.",
        "resolution is the width of a bucket: give bucket too.",
    ),
    "export-too-large": (
        "Danh sách quá dài cho một tệp CSV; thu hẹp khoảng thời gian.",
        "The list is too long for one CSV file; narrow the range.",
    ),
    "bad-period": (
        "Kỳ không hợp lệ: 2025-07-14, 2025-07, 2025-Q3, 2025 hoặc ytd.",
        "Not a period: 2025-07-14, 2025-07, 2025-Q3, 2025 or ytd.",
    ),
    "empty-range": ("Thời điểm kết thúc phải sau thời điểm bắt đầu.", "end must be after start."),
    "range-too-long": (
        "Khoảng thời gian có quá nhiều điểm; dùng độ phân giải thô hơn hoặc khoảng ngắn hơn.",
        "Too many buckets; use a coarser resolution or a shorter range.",
    ),
    "too-many-requests": ("Quá nhiều yêu cầu; chờ rồi thử lại.", "Too many requests; wait."),
    "internal-error": (
        "Lỗi bên trong; nhật ký API có chi tiết.",
        "Internal error; the API log has the details.",
    ),
    "unavailable": (
        "Cơ sở dữ liệu không truy cập được; thử lại sau ít giây.",
        "The database is unreachable; retry shortly.",
    ),
    "service-unavailable": ("Dịch vụ tạm thời không sẵn sàng.", "Service unavailable; retry."),
    "not-ready": ("Cơ sở dữ liệu chưa trả lời.", "The database does not answer yet."),
    "starting": ("Luồng trực tiếp đang khởi động; thử lại.", "The live stream is starting; retry."),
    "dlq-loading": (
        "Chỉ mục thư lỗi (ioc.dlq) đang được đọc, hoặc broker chưa kết nối; thử lại.",
        "The dead-letter index is still reading ioc.dlq (or the broker is away); retry.",
    ),
}


def explanation_page(slug: str) -> str | None:
    """The HTML page a problem's ``type`` URI opens (None: no such problem)."""
    if slug not in EXPLAINED:
        return None
    vi, en = (html.escape(text) for text in EXPLAINED[slug])
    return (
        '<!doctype html><html lang="vi"><head><meta charset="utf-8">'
        f"<title>{slug} — ioc-monitor</title>"
        '<link rel="icon" href="/board/favicon.svg" type="image/svg+xml">'
        '<link rel="stylesheet" href="/docs/docs.css"></head><body>'
        f'<h1>{slug}</h1><p>{vi}</p><p lang="en">{en}</p>'
        '<p><a href="/docs">API</a></p></body></html>'
    )


def _slug(status: int) -> str:
    return TITLES.get(status, "error").lower().replace(" ", "-")


def install_handlers(app: FastAPI) -> None:
    """Turn every error — ours, FastAPI's validation, Starlette's 404/405 — into problem+json."""

    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        return problem_response(
            exc.status, exc.slug, exc.detail, headers=exc.headers, errors=exc.errors
        )

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(exc.status_code, "")
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no such endpoint: {request.method} {request.url.path}"
        return problem_response(
            exc.status_code, _slug(exc.status_code), detail, headers=dict(exc.headers or {})
        )

    async def on_invalid(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = [
            {"loc": [str(part) for part in e.get("loc", ())], "msg": str(e.get("msg", ""))}
            for e in exc.errors()
        ]
        detail = "; ".join(f"{'.'.join(e['loc'])}: {e['msg']}" for e in errors)
        return problem_response(422, "invalid-request", detail, errors=errors)

    async def on_unstorable(request: Request, exc: Exception) -> JSONResponse:
        # e.g. a NUL character in a query parameter, which PostgreSQL text cannot hold.
        return problem_response(
            422, "invalid-value", f"a parameter has a value the database refuses: {exc}"
        )

    async def on_unavailable(request: Request, exc: Exception) -> JSONResponse:
        # The database (or broker) went away mid-request: say so instead of a bare 500.
        log.warning("%s %s: %r", request.method, request.url.path, exc)
        return problem_response(
            503,
            "unavailable",
            "the database is unreachable; retry shortly",
            headers={"Retry-After": "5"},
        )

    async def on_bug(request: Request, exc: Exception) -> JSONResponse:
        log.exception("%s %s failed", request.method, request.url.path, exc_info=exc)
        return problem_response(500, "internal-error", "internal error; the API log has details")

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(asyncpg.DataError, on_unstorable)
    for unavailable in (OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError):
        app.add_exception_handler(unavailable, on_unavailable)
    app.add_exception_handler(Exception, on_bug)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_invalid)
