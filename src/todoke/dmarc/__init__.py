"""DMARC aggregate, failure and SMTP TLS reports: ingest, storage, identification, analysis."""
