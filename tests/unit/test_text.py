"""Bidirectional controls are removed from shown text; everything else is kept."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from markupsafe import Markup

from ticketd.routing.text import BIDI_CONTROLS, neutralise_bidi, neutralise_shown


def test_every_explicit_embedding_override_and_isolate_is_removed() -> None:
    controls = "".join(chr(c) for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)])
    assert set(controls) == BIDI_CONTROLS
    assert neutralise_bidi(f"invoice{controls}fdp.exe") == "invoicefdp.exe"


def test_implicit_marks_and_ordinary_text_are_kept() -> None:
    text = "שלום\u200f (RLM) مرحبا\u061c hello\u200e 똠햏뷁"
    assert neutralise_bidi(text) == text


def test_escaped_markup_stays_escaped_markup() -> None:
    shown = neutralise_shown(Markup("<b>a\u202eb</b>"))
    assert isinstance(shown, Markup) and shown == Markup("<b>ab</b>")
    assert neutralise_shown(24) == 24


@given(st.text())
def test_no_control_survives_and_nothing_else_changes(text: str) -> None:
    cleaned = neutralise_bidi(text)
    assert not BIDI_CONTROLS & set(cleaned)
    assert cleaned == "".join(ch for ch in text if ch not in BIDI_CONTROLS)
