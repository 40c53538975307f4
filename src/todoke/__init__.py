"""Todoke: self-hosted, security-first email delivery with DMARC intelligence."""

__version__ = "0.1.0"
