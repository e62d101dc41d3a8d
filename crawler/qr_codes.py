"""QR codes in a page's screenshot: the WeChat contact, payment and landing targets sellers show as images.

Owns `qr_targets()`. Sellers put their WeChat id and payment account into QR codes precisely because text
filters cannot read them; the full-page screenshot of a rendered page shows every QR image as the visitor
saw it (no extra fetch, no image the page only references). Decoded with zxing-cpp (Apache-2.0, a wheel
from PyPI). Very tall screenshots are read in overlapping bands so a page of 30,000 pixels costs what its
bands cost and a code on a band's edge is still read whole.
"""

from __future__ import annotations

import io
from typing import Final

import zxingcpp
from PIL import Image

#: Bands of a tall screenshot: height and overlap in pixels (a QR code on a page is far smaller than the overlap).
BAND: Final = 4000
OVERLAP: Final = 600
#: A screenshot larger than this many pixels is not decoded (a hostile page can be arbitrarily tall).
MAX_PIXELS: Final = 200_000_000


def qr_targets(png: bytes) -> list[str]:
    """The text of every QR code in the image, sorted, without repeats (empty if it cannot be read)."""
    try:
        image = Image.open(io.BytesIO(png))
        if image.width * image.height > MAX_PIXELS:
            return []
        image = image.convert("L")
    except (OSError, ValueError, Image.DecompressionBombError):
        return []
    found: set[str] = set()
    top = 0
    while True:
        band = image.crop((0, top, image.width, min(top + BAND, image.height)))
        for result in zxingcpp.read_barcodes(band, formats=zxingcpp.BarcodeFormat.QRCode):
            if result.text:
                found.add(result.text.strip())
        if top + BAND >= image.height:
            break
        top += BAND - OVERLAP
    return sorted(found)
