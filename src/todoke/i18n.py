"""Japanese and English messages (Babel catalogues) and language negotiation.

Catalogues are read from the `.po` files at start-up and compiled in memory, so a checkout or an
installed wheel needs no separate compile step and cannot serve stale `.mo` files.
"""

from __future__ import annotations

import io
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from todoke.settings import SUPPORTED_LOCALES

LOCALE_DIR = Path(__file__).with_name("locale")
_current: ContextVar[str] = ContextVar("todoke_locale", default="en")


@lru_cache(maxsize=len(SUPPORTED_LOCALES))
def translations(locale: str) -> Translations:
    po_path = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def set_locale(locale: str) -> None:
    _current.set(locale if locale in SUPPORTED_LOCALES else "en")


def current_locale() -> str:
    return _current.get()


def N_(message: str) -> str:  # noqa: N802 - the conventional marker name
    """Mark a message for extraction where it is defined; translate it where it is shown."""
    return message


def gettext(message: str, **variables: object) -> str:
    text = translations(_current.get()).ugettext(message)
    return text % variables if variables else text


def lookup(message: str) -> str:
    """The translation alone, variables left in (templates fill them in)."""
    return translations(_current.get()).ugettext(message)


def lookup_plural(singular: str, plural: str, count: int) -> str:
    return translations(_current.get()).ungettext(singular, plural, count)


def ngettext(singular: str, plural: str, count: int, **variables: object) -> str:
    text = translations(_current.get()).ungettext(singular, plural, count)
    return text % {"num": count, **variables}


def negotiate_locale(user_locale: str | None, accept_language: str | None, default: str) -> str:
    """The user's own choice, else the browser's best supported language, else the default."""
    if user_locale in SUPPORTED_LOCALES:
        return user_locale
    preferred: list[tuple[float, str]] = []
    for position, part in enumerate((accept_language or "").split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        try:
            language = Locale.parse(tag.strip().replace("-", "_")).language if tag.strip() else ""
        except (ValueError, UnknownLocaleError):
            language = tag.strip().split("-")[0].lower()
        if language in SUPPORTED_LOCALES and quality > 0:
            preferred.append((-quality + position * 1e-6, language))
    return min(preferred)[1] if preferred else default
