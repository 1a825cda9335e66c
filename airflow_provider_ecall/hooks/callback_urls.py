"""Callback URLs the provider builds: ``answer=CALLBACK`` / ``notification_address=CALLBACK``.

Where an SMS names :data:`CALLBACK` as its ``answer`` or among its ``notification_address``
entries, the send puts in a URL of the callback receiver signed for the send's JobID, its
kind and ``[ecall] callback_url_lifetime_hours`` (see
:mod:`airflow_provider_ecall.plugins.signing`): a URL that leaks concerns one job for a
bounded time. Airflow's rendered fields keep the placeholder, never the URL, and the URL's
token is given to the secrets masker before the send. Needs ``[ecall] callback_base_url``
and ``[ecall] callback_signing_keys``.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Final

from airflow_provider_ecall.approvals.ids import APPROVAL
from airflow_provider_ecall.client import validation as check
from airflow_provider_ecall.client.errors import EcallValidationError
from airflow_provider_ecall.utils.compat import conf, mask_secret

if TYPE_CHECKING:
    from airflow_provider_ecall.utils.fields import SmsArguments

#: The placeholder for "the receiver's signed URL for this send".
CALLBACK: Final = "ecall:callback"


def _settings() -> tuple[str, str]:
    """``[ecall] callback_base_url`` and ``callback_signing_keys``, as set ("" when not)."""
    base = conf.get("ecall", "callback_base_url", fallback="") or ""
    return base.strip(), (conf.get("ecall", "callback_signing_keys", fallback="") or "").strip()


def callback_urls_configured() -> bool:
    """Whether a send can be given signed callback URLs (both settings set)."""
    return all(_settings())


def _url(kind: str, job_id: str) -> str:
    from airflow_provider_ecall.plugins.signing import (
        CallbackSigner,
        read_keys,
        signed_callback_url,
    )

    base, setting = _settings()
    keys = read_keys(setting)
    if not base or not keys:
        raise EcallValidationError(
            "notification_address" if kind == "delivery" else "answer",
            f"{CALLBACK!r} needs [ecall] callback_base_url and callback_signing_keys",
        )
    hours = conf.getint("ecall", "callback_url_lifetime_hours", fallback=168)
    signer = CallbackSigner(keys)
    url = signed_callback_url(base, signer, kind, job_id, expires=int(time.time()) + hours * 3600)
    mask_secret(url.rsplit("/", 2)[-2])
    return url


def put_callback_urls(fields: SmsArguments) -> None:
    """Replace :data:`CALLBACK` in an SMS's ``answer`` and ``notification_address`` (and
    :data:`APPROVAL` in its ``answer``) with signed URLs for its JobID, in place.

    :param fields: the SMS's fields and options.
    :raises EcallValidationError: the placeholder without a JobID or without the settings.
    """
    notify = fields.get("notification_address")
    entries = check.split_list("notification_address", notify) if notify else ()
    answer = fields.get("answer")
    if answer not in (CALLBACK, APPROVAL) and CALLBACK not in entries:
        return
    job_id = fields.get("job_id")
    if not job_id:
        named = answer if answer in (CALLBACK, APPROVAL) else CALLBACK
        raise EcallValidationError("job_id", f"is required where a URL is {named!r}")
    if answer in (CALLBACK, APPROVAL):
        fields["answer"] = _url("reply" if answer == CALLBACK else "approval", str(job_id))
    if CALLBACK in entries:
        delivery = _url("delivery", str(job_id))
        fields["notification_address"] = [delivery if e == CALLBACK else e for e in entries]
