"""MTA-STS policy files (RFC 8461 §3.2) and MX pattern matching (§4.1), with the
postfix-mta-sts-resolver conformance policies (shared/testdata/mta-sts, MIT)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from todoke.domains.mta_sts_policy import (
    MAX_AGE_LIMIT,
    PolicyError,
    mx_matches,
    parse_policy,
    uncovered,
)

CONFORMANCE = Path(__file__).resolve().parents[4] / "shared" / "testdata" / "mta-sts"
POLICIES = CONFORMANCE / "policies"


def policy_file(name: str) -> bytes:
    return (POLICIES / name).read_bytes()


@pytest.mark.parametrize(
    ("name", "mode", "max_age", "mx"),
    [
        ("mta-sts.good.loc.txt", "enforce", 86400, ("mail.loc",)),
        ("mta-sts.testing.loc.txt", "testing", 86400, ("mail.loc",)),
        ("mta-sts.valid-none.loc.txt", "none", 86400, ()),
        ("mta-sts.fast-expire.loc.txt", "enforce", 1, ("mail.loc",)),
        # Served wrongly upstream (certificate, content type, status), but valid as text.
        ("mta-sts.bad-cert1.loc.txt", "enforce", 86400, ("mail.loc",)),
        ("mta-sts.bad-cert2.loc.txt", "enforce", 86400, ("mail.loc",)),
        ("mta-sts.bad-policy3.loc.txt", "enforce", 86400, ("mail.loc",)),
        ("mta-sts.bad-policy4.loc.txt", "enforce", 86400, ("mail.loc",)),
        (
            "rfc8461-example.txt",
            "enforce",
            604800,
            ("mail.example.com", "*.example.net", "backupmx.example.com"),
        ),
    ],
)
def test_valid_conformance_policies_parse(
    name: str, mode: str, max_age: int, mx: tuple[str, ...]
) -> None:
    policy = parse_policy(policy_file(name))
    assert (policy.mode, policy.max_age, policy.mx) == (mode, max_age, mx)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("mta-sts.bad-policy1.loc.txt", "line 1 is not 'name: value'"),
        ("mta-sts.bad-policy2.loc.txt", "no mx field"),
        ("mta-sts.bad-policy5.loc.txt", "max_age 'xxx' is not a number"),
        ("mta-sts.bad-policy6.loc.txt", "over the limit of 31557600"),
        ("mta-sts.bad-policy7.loc.txt", "the mode field is missing"),
        ("mta-sts.bad-policy8.loc.txt", "mode 'doubt' is not"),
    ],
)
def test_broken_conformance_policies_name_their_problem(name: str, reason: str) -> None:
    with pytest.raises(PolicyError, match=reason):
        parse_policy(policy_file(name))


def refdata_rows() -> list[tuple[str, str]]:
    """refdata.tsv rows about a policy file, as (domain, expected resolver answer).

    The resolver answers "secure match=mail.loc" only for a valid enforce policy; rows about
    next-hop syntax ([host]:port, a trailing dot), DNS records or certificates test a resolver,
    not a policy parser, and are left out.
    """
    rows = []
    for line in (CONFORMANCE / "refdata.tsv").read_text().splitlines():
        query, answer = line.split("\t")
        domain = query.split(" ", 1)[1]
        # bad-policy3 is served as text/html and bad-cert* with bad certificates: transport
        # failures behind a policy that parses.
        transport = "cert" in domain or domain == "bad-policy3.loc"
        if (POLICIES / f"mta-sts.{domain}.txt").exists() and not transport:
            rows.append((domain, answer.strip()))
    return rows


@pytest.mark.parametrize(("domain", "answer"), refdata_rows())
def test_parser_agrees_with_the_reference_resolver(domain: str, answer: str) -> None:
    try:
        policy = parse_policy(policy_file(f"mta-sts.{domain}.txt"))
    except PolicyError:
        secure = False
    else:
        secure = policy.mode == "enforce" and "mail.loc" in policy.mx
    assert secure == answer.startswith("OK secure match=mail.loc")


def test_refdata_rows_cover_good_and_broken_policies() -> None:
    assert {domain for domain, _ in refdata_rows()} == {
        "good.loc",
        "testing.loc",
        "valid-none.loc",
        "bad-policy1.loc",
        "bad-policy2.loc",
    }


def test_crlf_blank_lines_and_extensions_are_accepted() -> None:
    text = (
        "version: STSv1\r\n\r\nmode: testing\r\nmx: MX.Example.JP\r\n"
        "foo_bar: some value\r\nmax_age: 604800\r\n"
    )
    policy = parse_policy(text)
    assert (policy.mx, dict(policy.extensions)) == (("mx.example.jp",), {"foo_bar": "some value"})


def test_repeated_fields_keep_the_first_and_are_reported() -> None:
    policy = parse_policy(
        "version: STSv1\nmode: testing\nmode: enforce\nmx: a.example\nmax_age: 86400\n"
    )
    assert (policy.mode, policy.repeated) == ("testing", ("mode",))


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Version: STSv1\nmode: none\nmax_age: 1", "case-sensitive, write version"),
        ("version: STSv2\nmode: none\nmax_age: 1", "not STSv1"),
        ("version: STSv1\nmode: none\nmax_age: -1", "not a number"),
        ("version: STSv1\nmode: none\nmax_age: 12345678901", "not a number"),
        ("version: STSv1\nmode: enforce\nmx: mail..example\nmax_age: 1", "not a host name"),
        ("version: STSv1\nmode: enforce\nmx: mail.*.example\nmax_age: 1", "not a host name"),
        ("version: STSv1\nmode: enforce\nmx:\nmax_age: 1", "has no value"),
        ("mode: none\nmax_age: 1", "version field is missing"),
        (b"version: STSv1\nmode: none\xff\n", "not UTF-8"),
    ],
)
def test_invalid_policies_say_what_is_wrong(text: str | bytes, reason: str) -> None:
    with pytest.raises(PolicyError, match=reason):
        parse_policy(text)


def test_max_age_limit_itself_is_allowed() -> None:
    policy = parse_policy(f"version: STSv1\nmode: none\nmax_age: {MAX_AGE_LIMIT}")
    assert policy.max_age == MAX_AGE_LIMIT


@pytest.mark.parametrize(
    ("pattern", "host", "matches"),
    [
        ("mail.example.com", "mail.example.com", True),
        ("mail.example.com", "MAIL.Example.com.", True),
        ("*.example.net", "mx1.example.net", True),
        ("*.example.net", "example.net", False),
        ("*.example.net", "a.mx1.example.net", False),
        ("*.example.net", ".example.net", False),
        ("mail.example.com", "mail.example.co", False),
    ],
)
def test_mx_patterns_match_as_rfc_8461_section_4_1_says(
    pattern: str, host: str, matches: bool
) -> None:
    assert mx_matches(pattern, host) is matches


def test_uncovered_lists_hosts_in_mx_order() -> None:
    hosts = ("b.example.net", "mail.example.com", "x.y.example.net", "backup.example.org")
    assert uncovered(("mail.example.com", "*.example.net"), hosts) == (
        "x.y.example.net",
        "backup.example.org",
    )


@given(st.text(max_size=300))
def test_any_text_parses_or_gives_a_policy_error(text: str) -> None:
    try:
        policy = parse_policy(text)
    except PolicyError as error:
        problem = str(error)
    else:
        problem = ""
        assert policy.mode in ("enforce", "testing", "none")
    assert problem or text.count(":") >= 3


labels = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
hosts = st.lists(labels, min_size=2, max_size=4).map(".".join)


@given(
    st.sampled_from(["enforce", "testing"]),
    st.integers(0, MAX_AGE_LIMIT),
    st.lists(st.tuples(st.booleans(), hosts), min_size=1, max_size=5),
    st.sampled_from(["\n", "\r\n"]),
)
def test_written_policies_read_back(
    mode: str, max_age: int, mx: list[tuple[bool, str]], newline: str
) -> None:
    patterns = [("*." if wild else "") + host for wild, host in mx]
    lines = ["version: STSv1", f"mode: {mode}", *(f"mx: {p}" for p in patterns)]
    policy = parse_policy(newline.join([*lines, f"max_age: {max_age}"]))
    assert (policy.mode, policy.max_age) == (mode, max_age)
    assert policy.mx == tuple(dict.fromkeys(patterns))
    for pattern in patterns:
        host = pattern.replace("*", "mx1")
        assert not uncovered(policy.mx, [host])
