"""Signed callback URLs: a callback URL good for one job and one kind, until an expiry.

Plain Python (no Airflow, no web framework), public so that other features that hand eCall
a URL to call back (approvals by SMS) sign and check theirs the same way.

A signed URL's path segment (where a hand-configured URL has its account-wide token) is
``s1.<JobID, base64url>.<expiry, Unix seconds>.<signature>``, the signature being
HMAC-SHA256 under a key from ``[ecall] callback_signing_keys`` over the kind, the JobID
and the expiry. Whoever holds the URL can call back about that job, as that kind, until
the expiry — nothing else: the receiver refuses another JobID, another kind, a later
time or a signature no configured key made. The URL never shows the key.

>>> signer = CallbackSigner(("k" * 32,))
>>> token = signer.sign("reply", "job-1", expires=2_000_000_000)
>>> signer.verify(token, "reply", now=1_900_000_000).job_id
'job-1'
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from airflow_provider_ecall.client.messages import is_part_of

#: The version prefix of a signed token (a new scheme gets a new prefix).
PREFIX: Final = "s1"
#: Keys shorter than this are refused: the key is what guards every signed URL.
MIN_KEY_LENGTH: Final = 32


class SignatureRefused(Exception):
    """A token that is not a valid signature for the callback (malformed, made by no
    configured key, for another kind, or expired). The reason names the rule only."""


class SignatureExpired(SignatureRefused):
    """A signature a configured key made, past its expiry."""


@dataclass(frozen=True)
class SignedCallback:
    """What a verified token vouches for.

    :param kind: the callback kind the URL was made for (``"reply"``, ``"delivery"``, …).
    :param job_id: the one JobID the URL may call back about.
    :param expires: when it stops being accepted (Unix seconds).
    """

    kind: str
    job_id: str
    expires: int

    def covers(self, job_id: str) -> bool:
        """Whether a callback naming ``job_id`` is about this URL's send: its JobID, or one
        of the ``<JobID>-<n>`` a send to many recipients is split into."""
        return is_part_of(job_id, self.job_id)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: str, kind: str, job_id: str, expires: int) -> str:
    message = f"{PREFIX}\x1f{kind}\x1f{job_id}\x1f{expires}".encode()
    return _b64(hmac.new(key.encode(), message, hashlib.sha256).digest())


def read_keys(setting: str) -> tuple[str, ...]:
    """The signing keys in a setting (space- or comma-separated; the first signs).

    :raises ValueError: a key is shorter than :data:`MIN_KEY_LENGTH` (never shown).
    """
    keys = tuple(k for k in setting.replace(",", " ").split() if k)
    for number, key in enumerate(keys, 1):
        if len(key) < MIN_KEY_LENGTH:
            raise ValueError(
                f"[ecall] callback_signing_keys: key {number} is shorter than "
                f"{MIN_KEY_LENGTH} characters"
            )
    return keys


@dataclass(frozen=True)
class CallbackSigner:
    """Signs and verifies callback tokens with the configured keys.

    :param keys: the keys, newest first: the first signs, every one verifies (so a key can
        be rotated without refusing URLs already handed out).
    """

    keys: Sequence[str] = field(repr=False)

    def sign(self, kind: str, job_id: str, *, expires: int) -> str:
        """The path token for a callback URL about ``job_id``.

        :param kind: the callback kind the URL is for.
        :param job_id: the JobID of the send the URL goes with.
        :param expires: until when it is accepted (Unix seconds).
        :raises ValueError: no key is configured.
        """
        if not self.keys:
            raise ValueError("[ecall] callback_signing_keys is not set: no URL can be signed")
        job = _b64(job_id.encode())
        return f"{PREFIX}.{job}.{expires}.{_mac(self.keys[0], kind, job_id, expires)}"

    def verify(self, token: str, kind: str, *, now: float) -> SignedCallback:
        """Check a token as the URL of a ``kind`` callback arriving at ``now``.

        :param token: the path segment as received.
        :param kind: the route the callback came to.
        :param now: the receiver's clock (Unix seconds).
        :raises SignatureRefused: malformed, no key's signature, or expired.
        """
        parts = token.split(".")
        if (
            len(parts) != 4
            or parts[0] != PREFIX
            or not parts[2].isdigit()
            or not parts[2].isascii()
        ):
            raise SignatureRefused("not a signed callback token")
        try:
            job_id = _unb64(parts[1]).decode("ascii")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise SignatureRefused("not a signed callback token") from None
        expires = int(parts[2])
        given = parts[3].encode()
        found = False
        for key in self.keys:
            found |= hmac.compare_digest(given, _mac(key, kind, job_id, expires).encode())
        if not found:
            raise SignatureRefused("no configured key made this signature")
        if now >= expires:
            raise SignatureExpired("the signed URL has expired")
        return SignedCallback(kind, job_id, expires)


def signed_callback_url(
    base_url: str, signer: CallbackSigner, kind: str, job_id: str, *, expires: int
) -> str:
    """The full callback URL eCall is given, e.g. ``…/ecall/callbacks/s1.…/reply``.

    :param base_url: the api-server as eCall reaches it (``[ecall] callback_base_url``).
    :param signer: the configured keys.
    :param kind: ``"reply"`` (an ``Answer`` URL) or ``"delivery"`` (``NotificationAddress``).
    :param job_id: the JobID of the send.
    :param expires: until when it is accepted (Unix seconds).
    """
    token = signer.sign(kind, job_id, expires=expires)
    return f"{base_url.rstrip('/')}/ecall/callbacks/{token}/{kind}"
