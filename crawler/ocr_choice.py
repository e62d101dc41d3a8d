"""Which images of a captured page a scan reads (issue #20): plain functions, no Scrapy.

A page's images are read when its own text already makes it drug-related or suspicious (the text
analysis comes first), when another page of its site was flagged in this crawl, or when its visible
text is mostly images (little text beside a large picture: the evasion OCR exists for). Images too
small to hold a readable line (spacers, icons, flat placeholders) are skipped by bytes, then by
pixels; the full-page screenshot is read as well when the page is mostly images (text drawn by CSS
backgrounds or canvas never appears as an `<img>`). Every skip has a reason, recorded in the
capture's `ocr` blocks.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from rules import Analysis, TextDocument

#: Signals of the text analysis that make a page drug-related even without a finding.
DRUG_SIGNALS = ("sells_drugs", "shows_licence", "drug_approval_numbers", "shows_health_food_number",
                "shows_trading_licence")
#: The reason recorded for each image of a page whose images are not read.
PAGE_NOT_CHOSEN = ("page not read: its text is neither drug-related nor suspicious, and it is not mostly "
                   "images")


@dataclass(frozen=True)
class ImageChoice:
    """The thresholds (`OCR_MIN_IMAGE_*`, `OCR_MOSTLY_IMAGES_TEXT_CHARS` in crawler/settings.py)."""

    min_bytes: int = 1024
    min_side: int = 32
    min_pixels: int = 20_000
    mostly_images_text_chars: int = 200

    def why_read(self, analysis: Analysis | None, *, site_flagged: bool = False) -> str | None:
        """Why a page's images are worth reading from what its text says, or None."""
        if analysis is not None and analysis.flagged:
            return "page flagged by its text"
        if analysis is not None and analysis.findings:
            return "page text has findings (" + ", ".join(sorted({hit.rule_id for hit in analysis.findings})) + ")"
        if analysis is not None:
            drug = [name for name in DRUG_SIGNALS if analysis.signals.get(name)]
            if drug:
                return "page text is drug-related (" + ", ".join(drug) + ")"
            if analysis.scoped:
                return "page text has drug claims set aside by their scope"
        if site_flagged:
            return "another page of the site was flagged in this crawl"
        return None

    def little_text(self, body_chars: int) -> bool:
        """Less visible body text than the threshold (titles, alts and the URL do not count)."""
        return body_chars < self.mostly_images_text_chars

    @staticmethod
    def body_chars(document: TextDocument) -> int:
        """The characters of a document's visible body text."""
        if not document.sections:
            return len(document.text)
        return sum(s.end - s.start for s in document.sections if s.scope == "body")

    def too_small(self, data: bytes) -> str | None:
        """Why an image is too small to hold a readable line, or None (also None when Pillow cannot read
        its size: the OCR step then says what is wrong with it)."""
        if len(data) < self.min_bytes:
            return f"image of {len(data)} bytes, under {self.min_bytes} (icon, spacer or flat placeholder)"
        try:
            with Image.open(io.BytesIO(data)) as image:  # reads the header only
                width, height = image.size
        except (UnidentifiedImageError, OSError, ValueError):
            return None
        if min(width, height) < self.min_side or width * height < self.min_pixels:
            return (f"image of {width}x{height} pixels, under {self.min_side} px a side or "
                    f"{self.min_pixels} pixels (icon)")
        return None
