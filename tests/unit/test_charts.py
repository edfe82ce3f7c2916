"""Charts: each function returns a PNG 1080 px wide that decodes, has ink, and draws Chinese
with real glyphs (a missing glyph would raise: pytest turns matplotlib's warning into an
error; and two different titles of the same length must not draw the same pixels, which is
what tofu boxes would do)."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from PIL import Image, ImageChops

from bot import charts

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _image(png: bytes) -> Image.Image:
    assert png.startswith(PNG_MAGIC)
    img = Image.open(io.BytesIO(png))
    img.load()
    return img.convert("RGB")


def _ink(img: Image.Image, box: tuple[int, int, int, int] | None = None) -> int:
    """Pixels that are not (near) white."""
    region = img.crop(box) if box else img
    grey = region.convert("L")
    hist = grey.histogram()
    return sum(hist[:200])


def _title_box(img: Image.Image) -> tuple[int, int, int, int]:
    return (0, 0, img.width, 70)


CHARTS: dict[str, Callable[[str], bytes]] = {
    "satisfaction": lambda title: charts.satisfaction_chart(
        title, [("第一党支部", 30, 4, 1), ("张三", 20, 5, 10), ("李四", 1, 1, 0)]
    ),
    "fulfilment": lambda title: charts.fulfilment_chart(
        title, [("第一党支部", 8, 10), ("第二党支部", 2, 10), ("新支部", 0, 0)]
    ),
    "status": lambda title: charts.status_chart(
        title, fulfilled=12, in_progress=7, overdue=2, claimed=3
    ),
    "monthly": lambda title: charts.monthly_activity_chart(
        title, [(2026, m, m * 3 % 7) for m in range(1, 13)]
    ),
    "evaluations": lambda title: charts.evaluations_chart(
        title, [("2026年一季度", 33, 35), ("2026年二季度", 20, 30), ("2026年三季度", 3, 4)]
    ),
}


@pytest.mark.parametrize("name", sorted(CHARTS))
def test_chart_is_a_phone_sized_png_with_ink(name: str) -> None:
    img = _image(CHARTS[name]("第一党支部兑现情况"))
    assert img.width == charts.WIDTH_PX
    assert 360 <= img.height <= 4000
    total = img.width * img.height
    ink = _ink(img)
    assert 0.03 * total < ink < 0.8 * total, f"{name}: {ink / total:.1%} ink"


@pytest.mark.parametrize("name", sorted(CHARTS))
def test_chinese_title_is_drawn_with_real_glyphs(name: str) -> None:
    a = _image(CHARTS[name]("第一党支部兑现情况"))
    b = _image(CHARTS[name]("群众满意率评议结果"))
    assert _ink(a, _title_box(a)) > 2000
    # Tofu boxes look alike for every character; real glyphs differ.
    diff = ImageChops.difference(a.crop(_title_box(a)), b.crop(_title_box(b)))
    assert diff.getbbox() is not None


def test_missing_glyphs_are_replaced_not_drawn_as_tofu() -> None:
    assert charts.clean("党员👍") == "党员?"
    assert charts.clean("收入$5") == r"收入\$5"
    # An emoji in a name would warn "Glyph missing" (an error under pytest) if not cleaned.
    _image(charts.fulfilment_chart("🎉 第一党支部", [("王🌟明", 3, 4)]))


def test_long_names_are_shortened() -> None:
    assert charts.shorten("一二三四五六七八九十") == "一二三四五六七八…"
    assert charts.shorten("  第一  党支部 ") == "第一 党支部"


def test_satisfaction_hides_subjects_under_five_votes() -> None:
    shown = _image(charts.satisfaction_chart("评议", [("张三", 2, 1, 1)]))
    same_votes_other_split = _image(charts.satisfaction_chart("评议", [("张三", 4, 0, 0)]))
    # With fewer than 5 votes nothing about the split may show: the images are identical.
    assert ImageChops.difference(shown, same_votes_other_split).getbbox() is None
    five = _image(charts.satisfaction_chart("评议", [("张三", 4, 0, 1)]))
    assert ImageChops.difference(shown, five).getbbox() is not None


def test_evaluations_hide_results_under_five_votes() -> None:
    a = _image(charts.evaluations_chart("评议", [("一季度", 1, 4)]))
    b = _image(charts.evaluations_chart("评议", [("一季度", 4, 4)]))
    assert ImageChops.difference(a, b).getbbox() is None


def test_fulfilment_cuts_many_rows_to_best_and_worst() -> None:
    rows = [(f"第{i}支部", i, 400) for i in range(1, 301)]
    img = _image(charts.fulfilment_chart("兑现率", rows, limit=20))
    few = _image(charts.fulfilment_chart("兑现率", rows[:20], limit=20))
    # 20 bars plus the gap row: taller than 20 bars by one row, not 300 rows tall.
    assert few.height < img.height < few.height + 100


def test_empty_inputs_still_render() -> None:
    for png in (
        charts.fulfilment_chart("兑现率", []),
        charts.satisfaction_chart("评议", []),
        charts.evaluations_chart("评议", []),
        charts.monthly_activity_chart("进展", [(2026, m, 0) for m in range(1, 13)]),
        charts.status_chart("状态", fulfilled=0, in_progress=0, overdue=0, claimed=0),
    ):
        assert _image(png).width == charts.WIDTH_PX


def test_english_labels() -> None:
    img = _image(
        charts.status_chart("Items", fulfilled=1, in_progress=1, overdue=0, claimed=0, locale="en")
    )
    assert img.width == charts.WIDTH_PX


def test_committee_with_300_branches_renders() -> None:
    """300 branches' chart is drawn whole (its speed is bench/bench_stats.py's target)."""
    rows = [(f"第{i}党支部", i % 21, 20) for i in range(300)]
    for png in (
        charts.fulfilment_chart("各支部兑现率", rows),
        charts.status_chart("状态", fulfilled=3000, in_progress=2000, overdue=100, claimed=50),
        charts.monthly_activity_chart("进展", [(2026, m, m * 100) for m in range(1, 13)]),
    ):
        assert _image(png).width == charts.WIDTH_PX


def test_digits_count_half_when_shortening() -> None:
    assert charts.shorten("2026年12月31日") == "2026年12月31日"
    assert charts.shorten("第一二三四五六七八九党支部") == "第一二三四五六七…"
    assert charts.label("黄思村党总支\n2026年5月16日\n多余") == "黄思村党总支\n2026年5月16日"


def test_charts_drawn_from_threads_at_once_are_identical() -> None:
    from concurrent.futures import ThreadPoolExecutor

    def draw(_: int) -> bytes:
        return charts.satisfaction_chart(
            "第一党支部评议", [("张三", 30, 4, 1), ("李四", 20, 5, 5)]
        )

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(draw, range(8)))
    assert len(set(results)) == 1


def test_a_large_branch_evaluation_fits_telegram_photo_limits() -> None:
    rows = [(f"党员{n}", 20 + n % 7, 5, n % 4) for n in range(200)]
    img = _image(charts.satisfaction_chart("第一党支部党员评议", rows))
    assert img.width + img.height <= 10_000
    assert img.height / img.width <= 20
    one = _image(charts.satisfaction_chart("评议", rows[:1]))
    assert one.height >= charts.MIN_HEIGHT_PX
