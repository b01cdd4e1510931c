"""Charger passwords and API tokens: how they are hashed and checked, and which configuration
names carry a charger's password.

Charger passwords get scrypt (slow, salted), because a leaked database must not give away the
credentials that chargers in the field use. API tokens are 256-bit random strings, so a plain
SHA-256 is enough to store them and lets a request be checked with one indexed lookup.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

__all__ = [
    "VerifiedPasswords",
    "hash_api_token",
    "hash_password",
    "is_password_key",
    "is_password_variable",
    "new_api_token",
    "new_api_token_id",
    "verify_password",
]

_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


def is_password_key(key: str) -> bool:
    """An OCPP 1.6 configuration key that sets the Basic Auth password: AuthorizationKey.

    Keys are CiString50 (OCPP 1.6 §7.9: case-insensitive), so "authorizationkey" is the same key
    to a charger, and must be masked and followed the same way.
    """
    return key.lower() == "authorizationkey"


def is_password_variable(component: str | None, variable: str) -> bool:
    """An OCPP 2.0.1 variable that sets the Basic Auth password: SecurityCtrlr.BasicAuthPassword.

    Component and variable names are case-insensitive (2.0.1 ComponentType/VariableType: "Case
    Insensitive"). ``component`` None: a name not yet tied to a component, taken as a password.
    """
    return variable.lower() == "basicauthpassword" and (
        component is None or component.lower() == "securityctrlr"
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: bytes) -> str:
    """Hash password bytes (1.6 AuthorizationKeys need not be UTF-8, so bytes, not str)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password, salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=32)
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: bytes, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password, salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), dklen=len(expected)
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def new_api_token() -> str:
    return secrets.token_urlsafe(32)


def new_api_token_id() -> str:
    """A token's public id: random, so ids reveal neither the token nor how many exist."""
    return f"tok_{secrets.token_hex(12)}"


def hash_api_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class VerifiedPasswords:
    """Remembers which password already verified against which stored hash.

    scrypt costs tens of milliseconds on purpose; paying it again for every reconnect of every
    charger would let a reconnect storm of a few hundred chargers a second saturate the CPU. A
    charger whose password verified once is recognised by a fast digest until its stored hash
    changes (a new password gets a new salt, hence a new key here).
    """

    def __init__(self, capacity: int = 200_000) -> None:
        self._capacity = capacity
        self._digests: dict[str, bytes] = {}

    def known(self, password: bytes, stored: str) -> bool:
        digest = self._digests.get(stored)
        return digest is not None and hmac.compare_digest(digest, _digest(password))

    def remember(self, password: bytes, stored: str) -> None:
        if len(self._digests) >= self._capacity:
            self._digests.clear()
        self._digests[stored] = _digest(password)


def _digest(password: bytes) -> bytes:
    return hashlib.sha256(password).digest()
