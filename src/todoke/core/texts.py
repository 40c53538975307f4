"""Japanese and English texts kept as TOML data files beside the package that shows them.

The words are data, not code, so the people who write them (and check the Japanese) edit one
file per topic. Templates name their values as `{domain}`; filling never raises: a value that is
missing gets a readable phrase from the file's `[fallback]` table, and a name nobody knows is
left as written (tests make sure our own files use only known names). Values are inserted as
plain text and never re-read as templates; escaping for HTML is the web layer's job.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Literal, cast

Locale = Literal["ja", "en"]
LOCALES: tuple[Locale, ...] = ("ja", "en")

PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")

Table = dict[str, object]


def as_locale(locale: str | None) -> Locale:
    """`ja`, `ja-JP` and `ja_JP` mean Japanese; anything else falls back to English."""
    if locale and locale.replace("_", "-").lower().split("-")[0] == "ja":
        return "ja"
    return "en"


@cache
def load_file(path: Path) -> Table:
    """A TOML text file, parsed once per process."""
    with path.open("rb") as handle:
        return tomllib.load(handle)


def table(data: Mapping[str, object], *keys: str) -> Table:
    """A nested table, or a KeyError naming the full path (a broken file, found by the tests)."""
    node: object = data
    for key in keys:
        if not isinstance(node, dict) or key not in node:
            raise KeyError(".".join(keys))
        node = node[key]
    if not isinstance(node, dict):
        raise KeyError(".".join(keys))
    return cast(Table, node)


def text(data: Mapping[str, object], *keys: str) -> str:
    """A string leaf of the file; a missing or non-string leaf is a KeyError naming the path."""
    *parents, leaf = keys
    value = table(data, *parents).get(leaf)
    if not isinstance(value, str):
        raise KeyError(".".join(keys))
    return value


def placeholders(template: str) -> set[str]:
    return set(PLACEHOLDER.findall(template))


def fill(
    template: str,
    values: Mapping[str, object | None],
    fallbacks: Mapping[str, str] | None = None,
) -> str:
    """`template` with each known `{name}` replaced; never raises on missing values."""
    fallbacks = fallbacks or {}

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        value = values.get(name)
        if value is not None and str(value) != "":
            return str(value)
        if name in fallbacks:
            return fallbacks[name]
        return match.group(0)

    return PLACEHOLDER.sub(replace, template)


def fallbacks(data: Mapping[str, object], locale: Locale) -> dict[str, str]:
    """The file's `[fallback.<locale>]` phrases for values that are not known."""
    try:
        found = table(data, "fallback", locale)
    except KeyError:
        return {}
    return {key: value for key, value in found.items() if isinstance(value, str)}
