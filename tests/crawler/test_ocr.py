"""`crawler.ocr`: the OCR worker (own process, recycled, deadline per image), its cache, the engines on
the demo shop's images, and how OCR lines join a document."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from crawler.ocr import OcrError, OcrReader, OcrResult, ocr_origin, with_ocr_text
from crawler.ocr_engines import SLICE_HEIGHT, OcrLine, read_lines, slices, tesseract_lines
from demo.ocr_images import IMAGE_TEXTS, SITE
from rules import TextDocument

FAKE = "tests.crawler.ocr_fakes:"


# --------------------------------------------------------------------------------------------- no process


def test_ocr_lines_join_a_document_as_one_ocr_section_per_image_and_lead_back_to_their_box() -> None:
    page = TextDocument.from_parts([("title", "心脉康"), ("body", "商品详情请看下图")])
    banner = OcrResult("a" * 64, "fake", 0.1, [OcrLine("心脉康", 1.0, [[1, 2]] * 4),
                                               OcrLine("根治高血压", 0.9, [[5, 6]] * 4)])
    empty = OcrResult("b" * 64, "fake", 0.1, [])
    document, spans = with_ocr_text(page, [banner, empty])
    assert document.text == "心脉康\n商品详情请看下图\n心脉康\n根治高血压"
    assert [s.scope for s in document.sections] == ["title", "body", "ocr"]
    start = document.text.index("根治")
    assert document.scope_at(start, start + 5) == "ocr"
    origin = ocr_origin(spans, start, start + 5)
    assert origin is not None and (origin.sha256, origin.line, origin.box) == ("a" * 64, 1, [[5, 6]] * 4)
    assert ocr_origin(spans, 0, 3) is None  # the title, not an image
    # A plain text file's document has no sections (all body): it keeps being body.
    text_only, _ = with_ocr_text(TextDocument("正文"), [banner])
    assert text_only.scope_at(0, 2) == "body" and text_only.sections[-1].scope == "ocr"


def test_long_detail_images_are_read_in_overlapping_slices_and_each_line_is_kept_once() -> None:
    from PIL import Image

    assert slices(600, 600) == [(0, 600)]
    cuts = slices(4000, 750)
    assert cuts[0][0] == 0 and cuts[-1][1] == 4000 and all(b - a <= SLICE_HEIGHT for a, b in cuts)
    assert all(later[0] < earlier[1] for earlier, later in zip(cuts, cuts[1:], strict=False))  # they overlap

    def bars(part: Image.Image) -> list[OcrLine]:
        # A fake engine reading a "line" wherever a black bar lies whole in the slice it is shown.
        column = [part.getpixel((0, y)) for y in range(part.height)]
        found, top = [], None
        for y, pixel in enumerate([*column, (255, 255, 255)]):
            if pixel == (0, 0, 0) and top is None:
                top = y
            elif pixel != (0, 0, 0) and top is not None:
                if top > 0 and y < part.height:
                    found.append(OcrLine("bar", 1.0, [[0, top], [10, top], [10, y], [0, y]]))
                top = None
        return found

    image = Image.new("RGB", (750, 4000), "white")
    bar_tops = list(range(30, 3960, 97))  # 20 px bars, some inside the slices' overlaps
    for top in bar_tops:
        image.paste((0, 0, 0), (0, top, 750, top + 20))
    seen = read_lines(image, bars)
    assert [line.box[0][1] for line in seen] == bar_tops  # every bar once, in whole-image pixels


def test_the_page_image_reader_stays_in_the_page_folder(tmp_path: Path) -> None:
    from crawler.check import _page_image

    (tmp_path / "page_files").mkdir()
    (tmp_path / "page_files" / "a b.png").write_bytes(b"\x89PNG...")
    (tmp_path.parent / "secret.png").write_bytes(b"secret")
    assert _page_image(tmp_path, "page_files/a%20b.png") == b"\x89PNG..."
    assert _page_image(tmp_path, "/page_files/a%20b.png") == b"\x89PNG..."  # a mirrored site's root
    assert _page_image(tmp_path, "../secret.png") == "outside the page's folder: not read"
    assert _page_image(tmp_path, "missing.png") == "not found beside the page"
    assert "an address on the web" in str(_page_image(tmp_path, "https://cdn.example/x.png"))
    assert "an address on the web" in str(_page_image(tmp_path, "//cdn.example/x.png"))
    assert _page_image(tmp_path, "data:image/png;base64,aGVsbG8=") == b"hello"


def test_image_sources_include_lazy_loaded_pictures_and_image_buttons_once() -> None:
    from crawler.extract import image_sources

    html = ('<img src="a.png"><img src="blank.gif" data-original="real.jpg"><img src="a.png">'
            '<input type="image" src="btn.png"><input type="text" src="no.png">')
    assert image_sources(html) == ["a.png", "blank.gif", "real.jpg", "btn.png"]


# --------------------------------------------------------------------------------------------- the worker


@pytest.mark.slow
def test_the_worker_is_recycled_after_the_set_number_of_images() -> None:
    with OcrReader(FAKE + "pid", recycle_images=2) as reader:
        pids = [reader.read(f"image {n}".encode()).text for n in range(5)]
    assert pids[0] == pids[1] != pids[2] == pids[3] != pids[4]
    assert reader.stats.workers_started == 3 and reader.stats.recycled == 2


@pytest.mark.slow
def test_the_worker_is_recycled_once_it_holds_more_memory_than_allowed() -> None:
    with OcrReader(FAKE + "pid", recycle_mb=1) as reader:  # any Python process holds more than 1 MB
        pids = [reader.read(f"image {n}".encode()).text for n in range(3)]
    assert len(set(pids)) == 3 and reader.stats.recycled == 3
    assert reader.stats.peak_worker_mb > 1


@pytest.mark.slow
def test_a_hung_ocr_call_times_out_with_a_clear_message_and_the_next_image_gets_a_new_worker() -> None:
    with OcrReader(FAKE + "echo", timeout=1.5) as reader:
        assert reader.read(b"warm up").text == "warm up"
        stuck = reader._process
        with pytest.raises(OcrError, match=r"image [0-9a-f]{12}: OCR took longer than 1.5 s and was stopped"):
            reader.read(b"hang")
        assert stuck is not None and not stuck.is_alive()
        assert reader.read(b"next").text == "next"
    assert reader.stats.timeouts == 1 and reader.stats.workers_started == 2


@pytest.mark.slow
def test_an_engine_error_names_the_image_and_the_reason() -> None:
    with OcrReader(FAKE + "fail") as reader, pytest.raises(OcrError, match="engine failed on purpose"):
        reader.read(b"x")


@pytest.mark.slow
def test_results_are_cached_by_sha256_in_memory_and_on_disk(tmp_path: Path) -> None:
    data = "扫码加微信\n微信号：xmk2026".encode()
    with OcrReader(FAKE + "echo", cache_dir=tmp_path) as reader:
        first, second = reader.read(data), reader.read(data)
    assert not first.cached and second.cached and second.lines == first.lines
    assert first.sha256 == hashlib.sha256(data).hexdigest()
    assert reader.stats.images == 1 and reader.stats.cache_hits == 1
    with OcrReader(FAKE + "echo", cache_dir=tmp_path) as later:  # another run: read from disk, no worker
        again = later.read(data)
    assert again.cached and again.text == first.text and later.stats.workers_started == 0


@pytest.mark.slow
def test_rapidocr_reads_every_demo_image_with_its_box(tmp_path: Path) -> None:
    with OcrReader(cache_dir=tmp_path) as reader:
        for name, truth in IMAGE_TEXTS.items():
            result = reader.read((SITE / name).read_bytes())
            assert result.engine.startswith("rapidocr ")
            read = "".join(result.text.split())
            for line in truth:
                assert "".join(line.split()) in read, (name, line, result.text)
            assert all(len(line.box) == 4 for line in result.lines)
        not_an_image = pytest.raises(OcrError, match="not a readable image")
        with not_an_image:
            reader.read(b"<html>not an image</html>")
    assert reader.stats.peak_worker_mb < 1500


@pytest.mark.slow
def test_tesseract_reads_the_demo_qr_poster() -> None:
    lines = tesseract_lines((SITE / "qr.png").read_bytes(), langs="chi_sim+eng")
    assert "扫码加微信" in [line.text for line in lines]
