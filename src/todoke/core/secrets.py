"""Secrets at rest (mailbox passwords, later DKIM private keys and API credentials).

Values are encrypted with Fernet (AES-128-CBC + HMAC-SHA256, from `cryptography`) under a key
derived from the installation's secret key with HKDF, one derived key per purpose, so a value
encrypted for one purpose cannot be replayed as another. Rotating the secret key makes old
values unreadable: that is stated where the key is configured (docs/deployment.md).
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from todoke.core.errors import TodokeError


class SecretUnreadable(TodokeError):
    code = "secret_unreadable"
    http_status = 500


class SecretBox:
    """Encrypts and decrypts text for one purpose (e.g. "dmarc.mailbox.password")."""

    def __init__(self, secret_key: bytes, purpose: str) -> None:
        derived = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=b"todoke-secrets-v1", info=purpose.encode()
        ).derive(secret_key)
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))
        self._purpose = purpose

    def seal(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode("ascii")

    def open(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode()
        except (InvalidToken, ValueError):
            raise SecretUnreadable(
                f"a stored {self._purpose} cannot be decrypted: was the secret key changed?"
            ) from None
