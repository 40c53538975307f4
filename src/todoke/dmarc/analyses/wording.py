"""The sentences people read about an analysis (how fresh it is, which page), in Japanese
and English, shared by the CLI and the pages."""

from __future__ import annotations

from datetime import datetime
from typing import Final

_TEXTS: Final[dict[str, dict[str, str]]] = {
    "as_of": {
        "ja": "{time} 時点の集計です（ワーカーが 5 分ごとに更新します）",
        "en": "as of {time} (the worker brings it up to date every 5 minutes)",
    },
    "digest_as_of": {
        "ja": "{time} 時点の集計です（ワーカーが 5 分ごとに更新します。"
        "大きなドメインの今月分は 1 時間ごと）",
        "en": "as of {time} (the worker brings it up to date every 5 minutes, a big domain's "
        "running month hourly)",
    },
    "live": {
        "ja": "この期間はいま集計しました",
        "en": "computed now for this period",
    },
    "page": {
        "ja": "{page} / {pages} ページ（該当する送信元 {total:,} 件）",
        "en": "page {page} of {pages} ({total:,} matching sources)",
    },
    "no_failures": {
        "ja": "{domain} では、この期間に DMARC 不合格のメールはありません。",
        "en": "No failing mail for {domain} in this period.",
    },
}


def wording(key: str, locale: str, **values: object) -> str:
    return _TEXTS[key]["ja" if locale == "ja" else "en"].format(**values)


def freshness(computed_at: datetime | None, locale: str, *, digest: bool = False) -> str:
    """When the stored analysis (or monthly digest) was computed, or that it was computed for
    the request."""
    if computed_at is None:
        return wording("live", locale)
    key = "digest_as_of" if digest else "as_of"
    return wording(key, locale, time=f"{computed_at:%Y-%m-%d %H:%M} UTC")
