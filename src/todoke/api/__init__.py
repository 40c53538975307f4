"""The JSON API under /api/v1: thin routes over the feature packages' services."""
