"""Cross-cutting pieces every feature package uses: errors, clock, DNS resolver factory."""
