"""Draws the images of `xinmai-kang.test`, the demo shop whose claims exist only in pictures (issue #20).

Run `python -m demo.ocr_images` after changing a text; the PNGs are committed (tests read them, and
Pillow's rendering may change between versions). `IMAGE_TEXTS` is also the ground truth `bench/ocr.py`
scores the engines against. Fonts: Debian's Noto Sans CJK (fonts-noto-cjk).
"""

from __future__ import annotations

import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

SITE = Path(__file__).with_name("sites") / "xinmai-kang.test" / "img"
FONT_REGULAR = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
FONT_BOLD = "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"
_SC = 2  # face index of "Noto Sans CJK SC" in the collections (JP, KR, SC, TC, HK)
_TC = 3

#: Every line drawn, per image, in reading order: what a perfect OCR returns.
IMAGE_TEXTS: dict[str, list[str]] = {
    "banner.png": ["心脉康 纯中药降压", "根治高血压 永不反弹"],
    "product.png": ["心脉康草本胶囊", "三个疗程 扔掉降压药", "60粒/盒 国际品质"],
    "detail-long.png": [
        "产品详情", "精选天麻、杜仲、钩藤等12味草本", "古法炮制 现代工艺",
        "为什么选择心脉康", "疏通血管 平稳血压", "服用三个疗程 血压恢复正常", "无任何副作用 老人可长期服用",
        "香港直郵 正品保證",
        "用户见证", "王先生 62岁：吃了两盒头不晕了", "李阿姨 58岁：降压药已经停了",
        "购买方式", "加微信下单 降压特效", "微信号：xmk2026",
    ],
    "qr.png": ["扫码加微信", "咨询购买降压药", "微信号：xmk2026"],
}


def _font(size: int, bold: bool = False, traditional: bool = False) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(FONT_BOLD if bold else FONT_REGULAR, size, index=_TC if traditional else _SC)


def _centred(draw: ImageDraw.ImageDraw, y: int, text: str, font: ImageFont.FreeTypeFont, fill: str,
             width: int) -> None:
    left, _, right, _ = draw.textbbox((0, 0), text, font=font)
    draw.text(((width - (right - left)) // 2, y), text, font=font, fill=fill)


def banner() -> Image.Image:
    """A wide hero banner: large bold text on a red gradient."""
    image = Image.new("RGB", (960, 300))
    draw = ImageDraw.Draw(image)
    for y in range(300):
        draw.line([(0, y), (960, y)], fill=(200 - y // 6, 16, 46))
    lines = IMAGE_TEXTS["banner.png"]
    _centred(draw, 40, lines[0], _font(72, bold=True), "#ffffff", 960)
    _centred(draw, 170, lines[1], _font(56, bold=True), "#ffd700", 960)
    return image


def product() -> Image.Image:
    """A product photo: a box, smaller text, sensor noise and a slight tilt (a photographed package)."""
    image = Image.new("RGB", (600, 600), "#f4efe6")
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((90, 60, 510, 540), radius=18, fill="#1f6e43", outline="#0d3b22", width=6)
    lines = IMAGE_TEXTS["product.png"]
    _centred(draw, 110, lines[0], _font(40, bold=True), "#ffffff", 600)
    _centred(draw, 260, lines[1], _font(32), "#ffe08a", 600)
    _centred(draw, 420, lines[2], _font(26), "#ffffff", 600)
    rng = random.Random(20)  # fixed seed: the committed PNG is reproducible
    pixels = image.load()
    assert pixels is not None
    for _ in range(25_000):
        x, y = rng.randrange(600), rng.randrange(600)
        shade = rng.randrange(-60, 60)
        r, g, b = pixels[x, y]  # type: ignore[misc]
        pixels[x, y] = (max(0, min(255, r + shade)), max(0, min(255, g + shade)), max(0, min(255, b + shade)))
    image = image.filter(ImageFilter.GaussianBlur(0.6))
    return image.rotate(3, resample=Image.Resampling.BICUBIC, expand=True, fillcolor="#f4efe6")


def detail_long() -> Image.Image:
    """A long detail image, as shops put under a product: 750 px wide, many sections, mixed sizes."""
    lines = IMAGE_TEXTS["detail-long.png"]
    headings = {"产品详情", "为什么选择心脉康", "用户见证", "购买方式"}
    image = Image.new("RGB", (750, 200 * len(lines) + 200), "#fffaf0")
    draw = ImageDraw.Draw(image)
    y = 120
    for text in lines:
        if text in headings:
            draw.rectangle((0, y - 30, 750, y + 90), fill="#b71c1c")
            _centred(draw, y, text, _font(48, bold=True), "#ffffff", 750)
        else:
            traditional = text == "香港直郵 正品保證"
            _centred(draw, y + 10, text, _font(34, traditional=traditional), "#333333", 750)
        y += 200
    return image


def qr_poster() -> Image.Image:
    """A QR poster: a code-like square (not a real QR code) with the lead around it."""
    image = Image.new("RGB", (500, 660), "#ffffff")
    draw = ImageDraw.Draw(image)
    lines = IMAGE_TEXTS["qr.png"]
    _centred(draw, 30, lines[0], _font(44, bold=True), "#07c160", 500)
    rng = random.Random(7)
    for row in range(25):
        for col in range(25):
            if rng.random() < 0.5:
                draw.rectangle((100 + col * 12, 120 + row * 12, 111 + col * 12, 131 + row * 12), fill="#000000")
    for x, y in ((100, 120), (304, 120), (100, 324)):  # the three finder squares
        draw.rectangle((x, y, x + 95, y + 95), fill="#000000")
        draw.rectangle((x + 12, y + 12, x + 83, y + 83), fill="#ffffff")
        draw.rectangle((x + 26, y + 26, x + 69, y + 69), fill="#000000")
    _centred(draw, 460, lines[1], _font(36), "#333333", 500)
    _centred(draw, 550, lines[2], _font(30), "#333333", 500)
    return image


DRAWINGS = {"banner.png": banner, "product.png": product, "detail-long.png": detail_long, "qr.png": qr_poster}


def main() -> None:
    SITE.mkdir(parents=True, exist_ok=True)
    for name, draw in DRAWINGS.items():
        draw().save(SITE / name, optimize=True)
        print(SITE / name)


if __name__ == "__main__":
    main()
