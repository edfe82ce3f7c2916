"""Reading PDFs back in tests: the text (pypdf), and the rendered glyphs (pypdfium2).

A font without a character draws the same empty box (.notdef) for every missing one. So the
check renders the page, crops the box of each of a few different CJK characters, and requires
each crop to have ink and every two crops to differ: boxes would all look alike.
"""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pypdfium2 as pdfium
from PIL import Image, ImageChops
from pypdf import PdfReader

SCALE = 3.0


def pdf_text(data: bytes) -> list[str]:
    """Each page's text with all whitespace removed (pypdf spaces CJK characters, and puts
    NULs between the two-byte codes of an embedded CID font)."""
    reader = PdfReader(BytesIO(data))
    return [
        "".join(ch for ch in page.extract_text() or "" if not ch.isspace() and ch != "\x00")
        for page in reader.pages
    ]


def embedded_fonts(data: bytes) -> set[str]:
    """The base names of the fonts on the first page."""
    reader = PdfReader(BytesIO(data))
    fonts = reader.pages[0]["/Resources"]["/Font"]  # type: ignore[index]
    return {str(fonts[key].get_object()["/BaseFont"]) for key in fonts}


def render_page(data: bytes, index: int, path: Path | None = None) -> Image.Image:
    """The page as an image (saved to ``path`` when given, to look at)."""
    doc = pdfium.PdfDocument(data)
    try:
        image = doc[index].render(scale=SCALE).to_pil().convert("L")
    finally:
        doc.close()
    if path is not None:
        image.save(path)
    return image


def glyph_crops(data: bytes, index: int, chars: str) -> dict[str, Image.Image]:
    """The rendered box of the first occurrence of each character on the page."""
    doc = pdfium.PdfDocument(data)
    try:
        page = doc[index]
        image = page.render(scale=SCALE).to_pil().convert("L")
        height = page.get_height()
        text = page.get_textpage()
        count = text.count_chars()
        crops: dict[str, Image.Image] = {}
        for i in range(count):
            ch = text.get_text_range(i, 1)
            if ch in chars and ch not in crops:
                left, bottom, right, top = text.get_charbox(i)
                box = (
                    int(left * SCALE),
                    int((height - top) * SCALE),
                    int(right * SCALE) + 1,
                    int((height - bottom) * SCALE) + 1,
                )
                crops[ch] = image.crop(box).resize((32, 32))
        text.close()
        page.close()
    finally:
        doc.close()
    return crops


def _gray_count(image: Image.Image, low: int, high: int) -> int:
    """How many pixels of a gray (mode "L") image have a value in ``range(low, high)``."""
    assert image.mode == "L", image.mode
    return sum(image.histogram()[low:high])


def assert_cjk_glyphs(data: bytes, index: int, chars: str) -> None:
    """Each character is drawn (ink in its box) and no two look alike (not .notdef boxes)."""
    crops = glyph_crops(data, index, chars)
    assert set(crops) == set(chars), f"not found on page {index}: {set(chars) - set(crops)}"
    for ch, crop in crops.items():
        dark = _gray_count(crop, 0, 128)
        assert dark > 15, f"{ch!r} has no ink"
    items = list(crops.items())
    for n, (a, image_a) in enumerate(items):
        for b, image_b in items[n + 1 :]:
            diff = ImageChops.difference(image_a, image_b)
            changed = _gray_count(diff, 65, 256)
            assert changed > 40, f"{a!r} and {b!r} render alike: missing glyphs?"
