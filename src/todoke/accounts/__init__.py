"""Organisations, users, roles, login sessions."""

from todoke.accounts.models import LoginThrottle, Organisation, Role, User, WebSession

__all__ = ["LoginThrottle", "Organisation", "Role", "User", "WebSession"]
