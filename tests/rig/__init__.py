"""Real-network test rig: authoritative DNS server, SMTP sink, test certificate authority."""
