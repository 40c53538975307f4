"""The server-side SVG bar chart: well-formed, escaped, stacked to scale, axis labelled."""

from __future__ import annotations

from xml.etree import ElementTree

import pytest
from hypothesis import given
from hypothesis import strategies as st

from todoke.web.svg_charts import Series, nice_ceiling, stacked_bars

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ElementTree.Element:
    return ElementTree.fromstring(svg)  # our own output, parsed to check it


def test_the_axis_top_is_round_and_at_or_above_the_largest_bar() -> None:
    assert [nice_ceiling(value) for value in (0, 1, 4, 5, 99, 101, 1234)] == [
        4, 4, 4, 8, 100, 200, 2000,
    ]  # fmt: skip


@given(st.integers(min_value=0, max_value=10**12))
def test_the_axis_top_covers_every_value_in_whole_ticks(value: int) -> None:
    top = nice_ceiling(value)
    assert top >= value
    assert top % 4 == 0
    assert top <= max(4 * value, 8) * 3  # never absurdly far above


def test_bars_stack_pass_under_fail_with_heights_in_proportion() -> None:
    root = parse(
        stacked_bars(
            ["04-01"],
            [Series("pass", "#0a0", [30]), Series("fail", "#a00", [10])],
            title="t",
            height=240,
        )
    )
    bars = [rect for rect in root.iter(f"{SVG}rect") if rect.find(f"{SVG}title") is not None]
    low, high = (float(bar.get("height", "0")) for bar in bars)
    assert low == pytest.approx(3 * high)
    assert float(bars[1].get("y", "0")) + high == pytest.approx(float(bars[0].get("y", "0")))


def test_labels_and_titles_are_escaped() -> None:
    svg = stacked_bars(
        ['<script>alert("x")</script>'], [Series("a&b <i>", "#000", [1])], title="</svg><x>"
    )
    parse(svg)  # still well-formed
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    assert "a&amp;b &lt;i&gt;" in svg


def test_the_value_axis_is_labelled_from_zero_to_the_top() -> None:
    root = parse(stacked_bars(["a", "b"], [Series("n", "#000", [1200, 300])], title="t"))
    texts = [node.text for node in root.iter(f"{SVG}text")]
    assert "0" in texts
    assert "2,000" in texts


def test_many_days_are_labelled_sparsely_so_they_never_overlap() -> None:
    labels = [f"d{n:02}" for n in range(90)]
    root = parse(stacked_bars(labels, [Series("n", "#000", [1] * 90)], title="t", width=720))
    shown = [node.text for node in root.iter(f"{SVG}text") if (node.text or "").startswith("d")]
    assert shown[0] == "d00"
    assert 5 < len(shown) < 45


def test_a_series_of_the_wrong_length_or_a_negative_value_is_refused() -> None:
    with pytest.raises(ValueError, match="has 1 values for 2"):
        stacked_bars(["a", "b"], [Series("n", "#000", [1])], title="t")
    with pytest.raises(ValueError, match="negative"):
        stacked_bars(["a"], [Series("n", "#000", [-1])], title="t")


def test_an_empty_chart_is_still_a_drawing() -> None:
    root = parse(stacked_bars([], [], title="no data"))
    assert root.find(f"{SVG}title") is not None
