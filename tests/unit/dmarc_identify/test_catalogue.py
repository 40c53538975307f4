"""The packaged sender catalogue and its loader's checks."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from todoke.dmarc.identify.catalogue import CatalogueError, load_catalogue, parse_catalogue

VALID = """
[[sender]]
key = "acme"
name = "Acme Mail"
name_ja = "アクメメール"
category = "esp"
ptr_suffixes = ["acme-mail.example"]
spf_includes = ["_spf.acme-mail.example"]
fix_en = "In Acme, authenticate {domain}."
fix_ja = "Acme で {domain} を認証してください。"
"""


def test_packaged_catalogue_loads_with_at_least_25_senders() -> None:
    catalogue = load_catalogue()
    assert len(catalogue) >= 25
    for key in ("google", "microsoft", "amazon_ses", "sendgrid", "mailchimp", "haihaimail"):
        assert key in catalogue


def test_default_catalogue_is_read_once() -> None:
    assert load_catalogue() is load_catalogue()


def test_every_entry_has_japanese_and_english_texts_naming_the_domain() -> None:
    for entry in load_catalogue():
        assert entry.name, entry.key
        assert entry.name_ja, entry.key
        english, japanese = (
            entry.fix("en", "kyokai.example.jp"),
            entry.fix("ja", "kyokai.example.jp"),
        )
        assert "kyokai.example.jp" in english, entry.key
        assert "kyokai.example.jp" in japanese, entry.key
        # Japanese advice must actually be Japanese, not a copy of the English text.
        assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", japanese), entry.key
        assert english != japanese


def test_every_entry_can_be_recognised_by_something() -> None:
    for entry in load_catalogue():
        assert entry.ptr_suffixes or entry.spf_includes or entry.dkim_domains, entry.key


def test_ptr_suffix_matches_only_at_a_label_boundary() -> None:
    catalogue = load_catalogue()
    assert catalogue.match_ptr("mail-wr1-f41.google.com.") is catalogue["google"]
    assert catalogue.match_ptr("GOOGLE.COM") is catalogue["google"]
    assert catalogue.match_ptr("evilgoogle.com") is None
    assert catalogue.match_ptr("google.com.evil.example") is None


def test_dkim_and_bounce_domains_match_subdomains() -> None:
    catalogue = load_catalogue()
    assert catalogue.match_dkim_domain("example-com.20230601.gappssmtp.com") is catalogue["google"]
    assert catalogue.match_bounce_domain("eu-west-1.amazonses.com") is catalogue["amazon_ses"]
    assert catalogue.match_bounce_domain("notamazonses.com") is None


def test_loader_reads_a_file_given_by_path(tmp_path: Path) -> None:
    path = tmp_path / "senders.toml"
    path.write_text(VALID, encoding="utf-8")
    catalogue = load_catalogue(path)
    assert [entry.key for entry in catalogue] == ["acme"]
    assert catalogue["acme"].identity("ptr").name_ja == "アクメメール"


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ('category = "esp"', 'category = "bank"', "category"),
        ('name_ja = "アクメメール"', 'name_ja = ""', "name_ja"),
        ('name_ja = "アクメメール"', "", "name_ja"),
        ('["acme-mail.example"]', '["Acme-Mail.example."]', "ptr_suffixes"),
        ('["acme-mail.example"]', '"acme-mail.example"', "ptr_suffixes"),
        ('["acme-mail.example"]', '["example"]', "ptr_suffixes"),
        ('{domain}."\nfix_ja', '{domian}."\nfix_ja', "fix_en"),
        ('key = "acme"', 'key = "Acme Mail"', "key"),
        ('category = "esp"', 'category = "esp"\ndocs_url = "http://x.example"', "docs_url"),
        ('category = "esp"', 'category = "esp"\nptr_sufixes = ["a.example"]', "ptr_sufixes"),
    ],
)
def test_broken_entry_error_names_the_entry_and_field(old: str, new: str, field: str) -> None:
    assert old in VALID
    with pytest.raises(CatalogueError) as caught:
        parse_catalogue(VALID.replace(old, new, 1), source="broken.toml")
    assert caught.value.field == field
    # The entry is named by its key as written, or by position when the key is unusable.
    assert caught.value.entry in ("acme", "Acme Mail", "#1")
    assert str(caught.value).startswith("broken.toml: sender ")
    assert repr(field) in str(caught.value)


def test_suffix_claimed_by_two_entries_is_rejected() -> None:
    second = VALID.replace('key = "acme"', 'key = "acme_two"')
    with pytest.raises(CatalogueError, match="already belongs to acme") as caught:
        parse_catalogue(VALID + second)
    assert (caught.value.entry, caught.value.field) == ("acme_two", "ptr_suffixes")


def test_duplicate_key_is_rejected() -> None:
    second = VALID.replace('"acme-mail.example"', '"other.example"')
    with pytest.raises(CatalogueError, match="key used by two entries"):
        parse_catalogue(VALID + second)


def test_entry_with_nothing_to_match_is_rejected() -> None:
    text = VALID.replace('ptr_suffixes = ["acme-mail.example"]\n', "").replace(
        'spf_includes = ["_spf.acme-mail.example"]\n', ""
    )
    with pytest.raises(CatalogueError, match="needs at least one of") as caught:
        parse_catalogue(text)
    assert caught.value.entry == "acme"


def test_invalid_toml_names_the_file() -> None:
    with pytest.raises(CatalogueError, match=r"^bad\.toml: not valid TOML"):
        parse_catalogue("[[sender]\n", source="bad.toml")
