"""The ja/en texts of the DMARC analysis, read from the TOML files in `todoke/dmarc/advice/`.

The machinery (filling, fallbacks, locales) is `todoke.core.texts`; this module only knows where
the DMARC files live.
"""

from __future__ import annotations

from pathlib import Path

from todoke.core.texts import (
    LOCALES,
    Locale,
    Table,
    as_locale,
    fallbacks,
    fill,
    load_file,
    placeholders,
    table,
    text,
)

ADVICE_DIR = Path(__file__).resolve().parent.parent / "advice"

__all__ = [
    "ADVICE_DIR",
    "LOCALES",
    "Locale",
    "Table",
    "as_locale",
    "fallbacks",
    "fill",
    "load",
    "placeholders",
    "table",
    "text",
]


def load(name: str) -> Table:
    """A TOML file of the DMARC advice directory, parsed once."""
    return load_file(ADVICE_DIR / name)
