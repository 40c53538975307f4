"""Tamper-evident audit trail: `record_audit` inside every state change, `verify_chains`."""

from todoke.audit.models import AuditChainHead, AuditEvent
from todoke.audit.services import BrokenLink, ChainVerification, record_audit, verify_chains

__all__ = [
    "AuditChainHead",
    "AuditEvent",
    "BrokenLink",
    "ChainVerification",
    "record_audit",
    "verify_chains",
]
