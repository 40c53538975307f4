"""Shapes and senders as the tests describe them: only what a case is about is spelled out."""

from __future__ import annotations

from typing import get_args

from hypothesis import strategies as st

from todoke.dmarc.analysis.alignment import aligned
from todoke.dmarc.shapes import AuthShape, SenderCategory, SenderIdentity

DOMAIN = "example.jp"
Result = tuple[str | None, str | None]


def shape(
    *,
    spf: Result = (DOMAIN, "pass"),
    dkim: Result = (DOMAIN, "pass"),
    header_from: str = DOMAIN,
    selector: str | None = "s1",
    override: str | None = None,
    spf_aligned: bool | None = None,
    dkim_aligned: bool | None = None,
) -> AuthShape:
    """A shape whose aligned verdicts follow relaxed alignment unless given explicitly."""
    spf_domain, spf_result = spf
    dkim_domain, dkim_result = dkim
    if spf_aligned is None:
        spf_aligned = spf_result == "pass" and aligned(spf_domain, header_from)
    if dkim_aligned is None:
        dkim_aligned = dkim_result == "pass" and aligned(dkim_domain, header_from)
    return AuthShape(
        header_from=header_from,
        dkim_aligned=dkim_aligned,
        spf_aligned=spf_aligned,
        spf_domain=spf_domain,
        spf_result=spf_result,
        dkim_domain=dkim_domain,
        dkim_selector=selector if dkim_domain else None,
        dkim_result=dkim_result,
        override=override,
        disposition="none",
    )


def sender(category: SenderCategory, key: str = "svc", name: str = "Service") -> SenderIdentity:
    return SenderIdentity(
        key=key,
        name=name,
        name_ja=f"{name}（日本語名）",
        category=category,
        matched_by="own_source" if category == "own" else "ptr",
    )


NOTHING: Result = (None, None)


RESULTS = st.sampled_from(
    [None, "pass", "fail", "softfail", "neutral", "none", "policy", "temperror", "permerror", "x"]
)
DOMAINS = st.sampled_from(
    [None, DOMAIN, "mail.example.jp", "sendgrid.net", "lists.example.org", "co.jp"]
)
OVERRIDES = st.sampled_from([None, "forwarded", "mailing_list", "local_policy", "sampled_out"])
SENDERS = st.one_of(
    st.none(),
    st.sampled_from(get_args(SenderCategory)).map(lambda category: sender(category)),
)


@st.composite
def any_shape(draw: st.DrawFn) -> AuthShape:
    return AuthShape(
        header_from=DOMAIN,
        dkim_aligned=draw(st.booleans()),
        spf_aligned=draw(st.booleans()),
        spf_domain=draw(DOMAINS),
        spf_result=draw(RESULTS),
        dkim_domain=draw(DOMAINS),
        dkim_selector=draw(st.sampled_from([None, "s1"])),
        dkim_result=draw(RESULTS),
        override=draw(OVERRIDES),
        disposition="none",
    )
