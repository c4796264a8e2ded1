"""The dashboard's SVG charts: values and labels shown, every label escaped, nothing
broken by empty data, zeros or missing values."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from markupsafe import Markup

from ticketd.web.staff.charts import Series, bar_chart, hbar, line_chart, number, stacked_bars

HOSTILE = '<script>alert("x")</script>&'
SVG = "{http://www.w3.org/2000/svg}"


def parsed(markup: Markup) -> ET.Element:
    """The chart as XML (it must be well-formed), after checking its accessible name."""
    root = ET.fromstring(str(markup))
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    assert root.get("aria-label") and root.find(f"{SVG}title") is not None
    assert "Noto Sans KR" in (root.get("font-family") or "")
    return root


def heights(root: ET.Element) -> list[float]:
    return [float(r.get("height") or 0) for r in root.iter(f"{SVG}rect")]


def test_bars_show_values_labels_and_a_taller_bar_for_a_bigger_value() -> None:
    chart = bar_chart(
        "문의량", ["03-01", "03-02"], [Series("신규", [1200, 300]), Series("해결", [5, None])]
    )
    root = parsed(chart)
    assert "1,200" in chart and "03-02" in chart and "신규" in chart
    first, second, third = heights(root)
    assert first > second > third > 0
    assert "NaN" not in chart and "inf" not in chart


def test_every_label_and_title_is_escaped() -> None:
    charts = [
        bar_chart(HOSTILE, [HOSTILE], [Series(HOSTILE, [1])]),
        line_chart(HOSTILE, [HOSTILE], [Series(HOSTILE, [1.5])]),
        hbar(HOSTILE, [(HOSTILE, 2)]),
        stacked_bars(HOSTILE, [(HOSTILE, {"bug": 1})], ["bug"], [HOSTILE]),
    ]
    for chart in charts:
        assert "<script>" not in chart
        root = parsed(chart)
        assert HOSTILE in "".join(root.itertext())


def test_empty_zero_and_missing_data_draw_a_frame_without_nan() -> None:
    charts = [
        bar_chart("빈 차트", [], []),
        bar_chart("0", ["a", "b"], [Series("x", [0, 0])]),
        line_chart("없음", ["a", "b"], [Series("x", [None, None])]),
        line_chart("하나", ["a"], [Series("x", [0.0])]),
        hbar("빈", []),
        hbar("0", [("a", 0)]),
        stacked_bars("빈", [], ["bug"]),
        stacked_bars("0", [("a", {})], ["bug"]),
    ]
    for chart in charts:
        root = parsed(chart)
        assert not re.search(r"nan|inf", str(chart), re.IGNORECASE)
        assert all(h > 0 for h in heights(root))


def test_lines_leave_a_gap_and_label_each_value() -> None:
    chart = line_chart("첫 응답", ["1", "2", "3"], [Series("중앙값", [2.25, None, 10])])
    root = parsed(chart)
    assert len(list(root.iter(f"{SVG}circle"))) == 2
    assert "2.2" in chart and "10.0" in chart


def test_stacked_bars_split_each_row_in_order() -> None:
    chart = stacked_bars(
        "분류", [("배송/파손", {"bug": 3, "question": 1})], ["bug", "feature", "question"]
    )
    root = parsed(chart)
    widths = [float(r.get("width") or 0) for r in root.iter(f"{SVG}rect")]
    assert len(widths) == 2 and widths[0] == 3 * widths[1]
    assert "배송/파손" in chart and ">4<" in chart


def test_numbers_have_thousands_separators() -> None:
    assert number(1234567) == "1,234,567" and number(None) == "—" and number(2.345, 1) == "2.3"
