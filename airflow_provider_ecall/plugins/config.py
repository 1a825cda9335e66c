"""The ``[ecall]`` settings, as the provider info declares them to Airflow (``config``).

Declared settings are listed by ``airflow config list``; those marked ``sensitive`` are
shown hidden there, may come from ``AIRFLOW__ECALL__<NAME>_SECRET`` / ``_CMD``, and are
given to every component's secrets masker at start. Plain data: no import.
"""

from __future__ import annotations

from typing import Any, Final


def _option(description: str, default: str, *, kind: str = "string", **more: Any) -> dict[str, Any]:
    return {
        "description": description,
        "version_added": "0.1.0",
        "type": kind,
        "example": more.pop("example", None),
        "default": default,
        **more,
    }


CONFIG: Final[dict[str, Any]] = {
    "ecall": {
        "description": "The eCall callback receiver (api-server plugin) and the callback "
        "URLs the provider builds.",
        "options": {
            "callback_signing_keys": _option(
                "Keys (32+ characters, space-separated) that sign the per-job callback URLs "
                "the provider builds; the first signs, every one verifies (rotation).",
                "",
                sensitive=True,
            ),
            "callback_tokens": _option(
                "Account-wide URL tokens (32+ characters, space-separated) for callback URLs "
                "configured by hand; such a URL is good for any job until the token is removed.",
                "",
                sensitive=True,
            ),
            "callback_base_url": _option(
                "The api-server's address as eCall reaches it; the provider's callback URLs "
                "start with it.",
                "",
                example="https://airflow.example.com",
            ),
            "callback_url_lifetime_hours": _option(
                "How long a signed callback URL is accepted after the send.", "168", kind="integer"
            ),
            "callback_repeat_window_hours": _option(
                "How long a callback is remembered, so that a repeat is not taken again.",
                "168",
                kind="integer",
            ),
            "approval_responders": _option(
                "Who may answer approvals (human-in-the-loop requests) by SMS: phone numbers "
                "mapped to Airflow users, space- or comma-separated NUMBER=USER_ID or "
                "NUMBER=USER_ID:NAME (NAME defaults to USER_ID). A reply is recorded as that "
                "user, and only where the user may answer (assigned_users); unmapped numbers "
                "answer nothing.",
                "",
                example="+41791112233=alice +41794445566=7:bob",
                sensitive=True,
            ),
            "approval_conn_id": _option(
                "The eCall connection the callback receiver sends approval confirmations and "
                "refusals through.",
                "ecall_default",
            ),
            "hitl_reminder_interval": _option(
                "Seconds between the api-server's scans for approval reminders and "
                "escalation calls due (EcallHITLNotifier remind_every / escalate_after); "
                "a reminder goes out at most this late.",
                "30",
                kind="integer",
            ),
            "callback_reply_asset": _option(
                "The asset replies are recorded on.", "ecall_callback_replies"
            ),
            "callback_delivery_asset": _option(
                "The asset delivery notifications are recorded on.", "ecall_delivery_reports"
            ),
        },
    }
}
