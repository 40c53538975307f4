"""Domain authentication: the owned-domain inventory, posture checks and SPF evaluation."""
