"""The worker process: periodic jobs now; delivery and ingest jobs as their issues land."""
