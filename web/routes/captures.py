"""A capture's evidence shown to monitors: its screenshot (PNG), its stored page, served so that the
page can do nothing, and the images OCR read in it (the original, or with a finding's lines outlined).

The page route answers with `Content-Security-Policy: sandbox` (no scripts, no forms, no same-origin:
a unique origin that cannot read our cookies or call our API) plus `default-src 'none'` (it cannot
load anything either, so a seller's server never sees a regulator open its page), `nosniff`, and
may be framed by our own pages only; the case page frames it in `<iframe sandbox>` as well. The body
is decoded as the crawler decoded it (`crawler.charset.decode_html`) and served as UTF-8.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from cases.evidence.report import image_extension, ocr_regions, outlined_rendering
from crawler.charset import decode_html
from storage.blobs import BlobStore
from storage.models import Capture, Finding
from web.deps import DbSession, Monitor

router = APIRouter()
CAPTURED_PAGE_CSP = ("sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                     "frame-ancestors 'self'; form-action 'none'; base-uri 'none'")


IMAGE_HEADERS = {"Content-Security-Policy": "default-src 'none'; frame-ancestors 'self'",
                 "X-Frame-Options": "SAMEORIGIN", "X-Content-Type-Options": "nosniff"}
IMAGE_TYPES = {"png": "image/png", "jpg": "image/jpeg", "gif": "image/gif", "webp": "image/webp", "bmp": "image/bmp"}


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


@router.get("/captures/{capture_id}/images/{sha256}")
def ocr_image(request: Request, db: DbSession, user: Monitor, capture_id: int, sha256: str,
              finding: int | None = None) -> Response:
    """An image OCR read in the capture, as kept; with `?finding=ID`, a rendering with that finding's
    matched lines outlined (PNG). Only images the capture's OCR blocks name are served."""
    capture = db.get(Capture, capture_id)
    if capture is None:
        raise HTTPException(404, f"no capture {capture_id}")
    if sha256 not in {block.get("sha256") for block in capture.ocr or [] if isinstance(block, dict)}:
        raise HTTPException(404, "this capture has no such image")
    data = _blob(request, sha256, ".img")
    if finding is None:
        # Served as the type Pillow reads, never as the seller's server declared: nosniff, no SVG, no HTML.
        kind = IMAGE_TYPES.get(image_extension(data))
        if kind is None:
            raise HTTPException(415, "this image is kept as evidence but is not shown in the browser")
        return Response(data, media_type=kind, headers=IMAGE_HEADERS)
    row = db.get(Finding, finding)
    if row is None or row.capture_id != capture_id:
        raise HTTPException(404, f"no finding {finding} on capture {capture_id}")
    boxes = ocr_regions({"ocr": row.ocr}).get(sha256)
    if not boxes:
        raise HTTPException(404, f"finding {finding} was not read in this image")
    return Response(outlined_rendering(data, boxes), media_type="image/png", headers=IMAGE_HEADERS)
