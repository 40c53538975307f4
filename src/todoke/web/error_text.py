"""Errors worded for a page in the reader's language.

Engine errors (`TodokeError`, a refused report file) keep their message as an English catalogue
template and its values; the API, the CLI and the logs answer the English text, and pages ask
here for the reader's. A mail server's own answer stays as the server wrote it, after a
sentence in the reader's language that says what kind of failure it was.
"""

from __future__ import annotations

from contextlib import contextmanager

from starlette.requests import Request
from starlette.responses import Response

from todoke import i18n
from todoke.core.errors import TodokeError, Translatable, english
from todoke.dmarc.intake import IngestSummary
from todoke.dmarc.schemas import IngestResult
from todoke.i18n import N_
from todoke.web.context import request_context
from todoke.web.templating import render


def worded(error: Translatable, locale: str) -> str:
    """The error's message in `locale`, or in English when the catalogue has none for it."""
    text = i18n.translations(locale).ugettext(error.template)
    if not error.values:
        return text
    try:
        return text % error.values
    except (KeyError, ValueError, TypeError):
        # A translation naming a value this error lacks must not break the page.
        return english(error.template, error.values)


def worded_result(summary: IngestSummary, locale: str) -> IngestResult:
    """An ingest's outcome for a page: the same figures, each refusal in the reader's words."""
    answer = summary.as_json()
    answer["errors"] = [
        {"file": error.file, "code": error.code, "error": worded(error, locale)}
        for error in summary.errors
    ]
    return IngestResult.model_validate(answer)


# Class names (not classes) so a reason stored by the worker as "ConnectionRefusedError: ..."
# is worded the same way as one caught here; the first name along the class's MRO wins.
_CONNECTION_FAILURES: dict[str, str] = {
    "ConnectionRefusedError": N_("The server refused the connection. Check the port."),
    "TimeoutError": N_("The server did not answer in time. Check the host name and the port."),
    "timeout": N_("The server did not answer in time. Check the host name and the port."),
    "gaierror": N_("The server's name was not found. Check the host name."),
    "SSLCertVerificationError": N_("The server's certificate could not be verified."),
    "SSLError": N_("The encrypted connection could not be set up. Check the encryption setting."),
    "error": N_("The server said no. The user name, the password or the folder may be wrong."),
    "abort": N_("The server ended the connection unexpectedly."),
    "ConnectionError": N_("The connection was lost."),
    "OSError": N_("The server could not be reached."),
}


def connection_failure(kind: str | type[BaseException], locale: str) -> str:
    """What a failed IMAP connection means, in `locale`, from its exception (or class name)."""
    names = [kind] if isinstance(kind, str) else [cls.__name__ for cls in kind.__mro__]
    for name in names:
        if name in _CONNECTION_FAILURES:
            return i18n.translations(locale).ugettext(_CONNECTION_FAILURES[name])
    return i18n.translations(locale).ugettext(N_("The connection failed."))


def stored_connection_failure(reason: str, locale: str) -> str:
    """A poll failure the worker stored as "ExceptionName: server text", worded for a page."""
    name, _, _ = reason.partition(":")
    return f"{connection_failure(name.strip(), locale)} ({reason})"


def _wants_html(request: Request) -> bool:
    # A browser following a link or sending a form asks for HTML; htmx, scripts and tests
    # ask for anything and keep the JSON error body.
    return "text/html" in request.headers.get("accept", "")


def error_page(request: Request, error: TodokeError) -> Response | None:
    """The error as a page in the reader's language, for a browser on a page (not the API)."""
    if request.url.path.startswith("/api/") or not _wants_html(request):
        return None
    with contextmanager(request_context)(request) as ctx:
        return render(
            ctx,
            "error.html",
            status_code=error.http_status,
            error=error,
            message=worded(error, ctx.locale),
        )
