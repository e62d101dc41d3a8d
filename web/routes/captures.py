"""A capture's evidence shown to monitors: its screenshot (PNG) and its stored page, served so that the
page can do nothing.

The page route answers with `Content-Security-Policy: sandbox` (no scripts, no forms, no same-origin:
a unique origin that cannot read our cookies or call our API) plus `default-src 'none'` (it cannot
load anything either, so a seller's server never sees a regulator open its page), `nosniff`, and
may be framed by our own pages only; the case page frames it in `<iframe sandbox>` as well. The body
is decoded as the crawler decoded it (`crawler.charset.decode_html`) and served as UTF-8.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from crawler.charset import decode_html
from storage.blobs import BlobStore
from storage.models import Capture
from web.deps import DbSession, Monitor

router = APIRouter()
CAPTURED_PAGE_CSP = ("sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                     "frame-ancestors 'self'; form-action 'none'; base-uri 'none'")


def _blob(request: Request, sha256: str | None, suffix: str) -> bytes:
    blobs = BlobStore(request.app.state.config.blob_dir)
    if not sha256 or not blobs.path(sha256, suffix).exists():
        raise HTTPException(404, "this capture has no such evidence file")
    return blobs.get(sha256, suffix)


@router.get("/captures/{capture_id}/screenshot")
def screenshot(request: Request, db: DbSession, user: Monitor, capture_id: int) -> Response:
    capture = db.get(Capture, capture_id)
    if capture is None:
        raise HTTPException(404, f"no capture {capture_id}")
    return Response(_blob(request, capture.screenshot_sha256, ".png"), media_type="image/png",
                    headers={"Content-Security-Policy": "default-src 'none'; frame-ancestors 'self'",
                             "X-Frame-Options": "SAMEORIGIN"})


@router.get("/captures/{capture_id}/page")
def captured_page(request: Request, db: DbSession, user: Monitor, capture_id: int) -> Response:
    capture = db.get(Capture, capture_id)
    if capture is None:
        raise HTTPException(404, f"no capture {capture_id}")
    html = decode_html(_blob(request, capture.body_sha256, ".html"), capture.url)
    return Response(html.encode("utf-8"), media_type="text/html; charset=utf-8",
                    headers={"Content-Security-Policy": CAPTURED_PAGE_CSP, "X-Content-Type-Options": "nosniff",
                             "X-Frame-Options": "SAMEORIGIN", "Referrer-Policy": "no-referrer",
                             "Cross-Origin-Resource-Policy": "same-origin"})
