"""The rows of a generated aggregate report: what kind of mail each one describes, and how the
reporter's quirks shape what it says about it (see corpus.py).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Literal

from todoke.dmarc import corpus_senders as senders
from todoke.dmarc.corpus_reporters import Reporter
from todoke.dmarc.corpus_senders import spoof_address
from todoke.dmarc.report_types import (
    AggregateRecord,
    DkimAuthResult,
    PolicyOverride,
    PolicyPublished,
    SpfAuthResult,
)

RowKind = Literal["aligned", "forwarded", "third_party", "misconfigured", "dkim_broken", "spoofing"]
ROW_KINDS: tuple[RowKind, ...] = (
    "aligned",
    "forwarded",
    "third_party",
    "misconfigured",
    "dkim_broken",
    "spoofing",
)
ROW_WEIGHTS = (55, 12, 12, 6, 5, 10)
_POLICIES = ("none", "quarantine", "reject")


def policy_for(domain: str, index: int, reporter: Reporter) -> PolicyPublished:
    p = _POLICIES[index % len(_POLICIES)]
    if reporter.schema == "rfc9990":
        # RFC 9990 drops pct and adds np, t= (testing) and the discovery method used.
        discovery = "treewalk" if reporter.name_has_id else "psl"
        return PolicyPublished(
            domain,
            p,
            sp=p,
            np="reject",
            adkim="r",
            aspf="r",
            testing=False,
            discovery_method=discovery,
        )
    return PolicyPublished(
        domain, p, sp=p, adkim="r", aspf="r", pct=100, fo="1" if reporter.spf_scope else None
    )


def _count(rng: random.Random) -> int:
    # Most rows are a handful of messages; a few carry a whole newsletter run.
    u = rng.random()
    if u < 0.72:
        return rng.randint(1, 5)
    if u < 0.93:
        return rng.randint(6, 60)
    if u < 0.99:
        return rng.randint(61, 900)
    return rng.randint(1000, 15000)


class RowMaker:
    """Builds one report's records, applying the reporter's quirks to what it reports."""

    def __init__(self, rng: random.Random, reporter: Reporter, policy: PolicyPublished):
        self.rng = rng
        self.reporter = reporter
        self.domain = policy.domain
        # RFC 7489 §6.6.4 with pct=100: failing mail gets the published policy.
        self.fail_disposition = policy.p

    def make(self, kind: RowKind) -> AggregateRecord:
        return getattr(self, kind)()  # type: ignore[no-any-return]

    def _record(
        self,
        ip: str,
        count: int,
        disposition: str,
        dkim_aligned: bool,
        spf_aligned: bool,
        mail_from: str,
        dkim: Sequence[DkimAuthResult],
        spf: SpfAuthResult,
        override: PolicyOverride | None = None,
    ) -> AggregateRecord:
        rep = self.reporter
        if not rep.all_dkim:
            dkim = dkim[:1]
        if rep.schema == "draft":
            # The pre-RFC draft reported no DKIM selector.
            dkim = [DkimAuthResult(d.domain, None, d.result) for d in dkim]
        spf_results: tuple[SpfAuthResult, ...] = (
            SpfAuthResult(
                spf.domain, "mfrom" if rep.spf_scope else None, spf.result, spf.human_result
            ),
        )
        if rep.helo_spf:
            helo = SpfAuthResult(mail_from, "helo", "pass" if spf.result == "pass" else "none")
            spf_results += (helo,)
        return AggregateRecord(
            source_ip=ip,
            count=count,
            disposition="none" if dkim_aligned or spf_aligned else disposition,
            dkim_aligned="pass" if dkim_aligned else "fail",
            spf_aligned="pass" if spf_aligned else "fail",
            header_from=self.domain,
            envelope_from=mail_from if rep.envelope_from else None,
            envelope_to=rep.envelope_to,
            overrides=(override,) if override else (),
            dkim=tuple(dkim),
            spf=spf_results,
        )

    def _human(self, text: str) -> str | None:
        return text if self.reporter.human_results else None

    def aligned(self) -> AggregateRecord:
        rng, domain = self.rng, self.domain
        sender = rng.choices(
            [s for s, _ in senders.ALIGNED_SENDERS], [w for _, w in senders.ALIGNED_SENDERS]
        )[0]
        # ESPs use a custom MAIL FROM subdomain, which aligns in relaxed mode (RFC 7489 §3.1.2).
        mail_from = f"bounce.{domain}" if sender.bounce_domain else domain
        dkim = [DkimAuthResult(domain, sender.custom_selector, "pass")]
        if sender.dkim_domain:
            dkim.append(DkimAuthResult(sender.dkim_domain, sender.dkim_selector, "pass"))
        spf = SpfAuthResult(mail_from, None, "pass")
        return self._record(
            sender.address(rng), _count(rng), "none", True, True, mail_from, dkim, spf
        )

    def forwarded(self) -> AggregateRecord:
        rng, domain = self.rng, self.domain
        forwarder = rng.choice(senders.FORWARDERS)
        dkim = [DkimAuthResult(domain, senders.OWN.custom_selector, "pass")]
        if forwarder.bounce_domain:
            # Relays and lists rewrite the envelope (SRS or list bounces): SPF passes unaligned.
            spf = SpfAuthResult(forwarder.bounce_domain, None, "pass")
        else:
            spf = SpfAuthResult(domain, None, rng.choice(("fail", "softfail")))
        override = None
        u = rng.random()
        if forwarder is senders.MAILING_LIST and u < 0.5:
            override = PolicyOverride("mailing_list", self._human("list traffic"))
        elif u < 0.3:
            override = PolicyOverride("forwarded", None)
        count = rng.randint(1, 40)
        return self._record(
            forwarder.address(rng), count, "none", True, False, spf.domain, dkim, spf, override
        )

    def third_party(self) -> AggregateRecord:
        rng = self.rng
        sender = rng.choice(senders.THIRD_PARTY_SENDERS)
        assert sender.dkim_domain
        assert sender.bounce_domain
        dkim = [DkimAuthResult(sender.dkim_domain, sender.dkim_selector, "pass")]
        spf = SpfAuthResult(sender.bounce_domain, None, "pass")
        return self._record(
            sender.address(rng),
            _count(rng),
            self.fail_disposition,
            False,
            False,
            spf.domain,
            dkim,
            spf,
        )

    def misconfigured(self) -> AggregateRecord:
        rng, domain = self.rng, self.domain
        sender = rng.choice((senders.OWN, senders.GOOGLE, senders.JP_ESP))
        spf = SpfAuthResult(domain, None, "softfail")
        return self._record(
            sender.address(rng), _count(rng), self.fail_disposition, False, False, domain, (), spf
        )

    def dkim_broken(self) -> AggregateRecord:
        rng, domain = self.rng, self.domain
        broken = DkimAuthResult(
            domain, senders.OWN.custom_selector, "fail", self._human("body hash did not verify")
        )
        variant = rng.randrange(3)
        if variant == 0:
            # A list footer or subject tag breaks the body hash (RFC 6376 §8.2).
            spf = SpfAuthResult(senders.MAILING_LIST.bounce_domain or "", None, "pass")
            override = PolicyOverride("mailing_list", None) if rng.random() < 0.5 else None
            return self._record(
                senders.MAILING_LIST.address(rng),
                rng.randint(1, 30),
                "none",
                False,
                False,
                spf.domain,
                [broken],
                spf,
                override,
            )
        if variant == 1:
            sender = rng.choice((senders.SENDGRID, senders.AMAZON_SES, senders.JP_ESP))
            assert sender.dkim_domain
            assert sender.bounce_domain
            dkim = [broken, DkimAuthResult(sender.dkim_domain, sender.dkim_selector, "pass")]
            spf = SpfAuthResult(sender.bounce_domain, None, "pass")
            return self._record(
                sender.address(rng),
                _count(rng),
                self.fail_disposition,
                False,
                False,
                spf.domain,
                dkim,
                spf,
            )
        spf = SpfAuthResult(domain, None, "pass")
        return self._record(
            senders.OWN.address(rng), _count(rng), "none", False, True, domain, [broken], spf
        )

    def spoofing(self) -> AggregateRecord:
        rng, domain = self.rng, self.domain
        dkim = []
        if rng.random() < 0.3:
            dkim.append(DkimAuthResult(rng.choice(senders.SPOOF_DOMAINS), "default", "fail"))
        if rng.random() < 0.6:
            spf = SpfAuthResult(domain, None, "fail")
        else:
            spf = SpfAuthResult(rng.choice(senders.SPOOF_DOMAINS), None, "none")
        count = rng.choice((1, 1, 1, 1, 2, 2, 3, 5, 12))
        return self._record(
            spoof_address(rng), count, self.fail_disposition, False, False, spf.domain, dkim, spf
        )
