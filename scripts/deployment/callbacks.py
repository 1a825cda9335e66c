"""The "hearing back" scenarios of ``make e2e`` (issue 13), callback side: eCall calls the
receiver (``EcallCallbackPlugin``) on the real api-server, as the sandbox's helpers make the
call (GET, Windows-1252, eCall's time format).

- ``callback_reply``: a reply callback runs the DAG scheduled on the reply asset once; the
  same callback five times more at once answers 200 each and records nothing (the repeat
  key in PostgreSQL); an unknown token answers 404.
- ``callback_delivery_wake``: a send waiting, deferred, for delivery with an hour between
  status polls finishes soon after the delivery callback names its JobID.
- ``callback_signed_wake``: the same wait, its ``NotificationAddress`` a URL the provider
  signed for its JobID: a forged signature, an expired URL signed with the right key, the URL
  of another kind and the right URL naming another JobID are refused (404, 410, 404, 403) and
  leave the task waiting; the sandbox's own delivery notification to the URL wakes it.
- ``callback_reply_wake``: of two reply waits that hear the cache hourly, the one whose rule
  a reply callback matches finishes soon after it; the other waits on to its timeout.

Every reply callback is also recorded on the reply asset, so ``callback_reply`` counts only
the events and runs about its own JobID: another reply (``callback_reply_wake``'s) may run
that DAG too.

The tokens, the signing key and the signed URLs' tokens never appear in any component's log
(``judge_logs`` greps for :attr:`secrets`), nor in the task's rendered fields.
"""

from __future__ import annotations

import functools
import json
import secrets
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from airflow_provider_ecall.client.privacy import mask_address
from airflow_provider_ecall.plugins.signing import CallbackSigner
from airflow_provider_ecall.sandbox import EcallSandbox
from airflow_provider_ecall.sandbox.callbacks import call_callback, delivery_params, reply_params
from scripts.deployment.components import Api, Deployment
from scripts.deployment.dags.e2e_numbers import NUMBERS
from scripts.deployment.hearing import FINISHED_TI, cache_empty, ti_state
from scripts.deployment.scenarios import RUN_TIMEOUT, Verdict, journal_line, requests_to, wait_until

REPLY_DAG = "e2e_callback_reply"
REPLY_ASSET = "ecall_callback_replies"
WAKE_DAG = "e2e_delivery_wake"
SIGNED_DAG = "e2e_signed_wake"
REPLY_WAKE_DAG = "e2e_reply_wake"
#: The reply that ends ``wait_ack`` (its rule: that number, the word ACK).
REPLY_TEXT = "ack, on my way"
#: The JobID of the SMS the reply callback answers.
REPLY_JOB = "e2e-reply-job"
#: How long an undeclared asset (a DAG not yet synced) may answer 503 before it is a failure.
RECORD_TIMEOUT = 60.0
#: After the repeat, this long for a second run to show up if the repeat had made one.
SETTLE = 10.0
#: How long the woken task may take after the callback; polling alone takes an hour.
WAKE_LIMIT = 120.0
DELIVERED = (8, "Delivered")


def callback_settings(token: str, signing_key: str) -> dict[str, str]:
    """``[ecall]`` for every process: the receiver on, with one token and one signing key
    (``callback_base_url`` is the api-server's, set with its port)."""
    return {
        "AIRFLOW__ECALL__CALLBACK_TOKENS": token,
        "AIRFLOW__ECALL__CALLBACK_SIGNING_KEYS": signing_key,
    }


def _call_until_recorded(url: str, params: Mapping[str, str]) -> tuple[int, int]:
    """Call until the receiver stops answering 503; ``(last status, calls made)``."""
    deadline = time.monotonic() + RECORD_TIMEOUT
    calls = 1
    status = call_callback(url, params)
    while status == 503 and time.monotonic() < deadline:
        time.sleep(1)
        calls += 1
        status = call_callback(url, params)
    return status, calls


def _events_about(api: Api, job_id: str) -> int:
    """How many asset events on the reply asset answer the SMS ``job_id``."""
    path = f"/assets/events?name_pattern={REPLY_ASSET}&limit=100"
    events = api.call("GET", path)["asset_events"]
    payloads = [(event.get("extra") or {}).get("payload") or {} for event in events]
    return sum(1 for payload in payloads if payload.get("job_id") == job_id)


def _runs_about(api: Api, job_id: str) -> list[tuple[str, list[str]]]:
    """``(state, JobIDs seen)`` of each run of the reply DAG that saw ``job_id``, once it has
    finished; a run that did not succeed left no XCom, so it counts too, as ``(state, [])``."""
    about = []
    for run in api.runs(REPLY_DAG):
        state = api.wait_run(REPLY_DAG, run["dag_run_id"], RUN_TIMEOUT)
        saw = api.xcom(REPLY_DAG, run["dag_run_id"], "replied") if state == "success" else []
        if job_id in saw or state != "success":
            about.append((state, list(saw)))
    return about


class Callbacks:
    """The callback scenarios against the api-server of ``deployment``.

    :param token: the configured ``[ecall] callback_tokens``.
    :param signing_key: the configured ``[ecall] callback_signing_keys``.
    """

    def __init__(
        self,
        deployment: Deployment,
        sandboxes: Mapping[str, EcallSandbox],
        token: str,
        signing_key: str,
    ) -> None:
        self.deployment = deployment
        self.sandboxes = sandboxes
        self.token = token
        self.signing_key = signing_key
        self.stranger = secrets.token_urlsafe(32)
        self.signed_tokens: list[str] = []

    @property
    def secrets(self) -> list[str]:
        """What no log may show: the token, the signing key, the signed URLs' tokens seen
        (the MAC part), and the unknown token the scenario tries."""
        macs = [token.rsplit(".", 1)[-1] for token in self.signed_tokens]
        return [self.token, self.signing_key, *macs, self.stranger]

    def signed_url_seen(self, url: str) -> None:
        """Remember a signed callback URL's token, so that the log check looks for it."""
        self.signed_tokens.append(url.rstrip("/").rsplit("/", 2)[-2])

    def url(self, kind: str, token: str | None = None) -> str:
        """The receiver's URL for ``kind`` (``reply`` / ``delivery``)."""
        return f"{self.deployment.api_url}/ecall/callbacks/{token or self.token}/{kind}"

    def reply(self) -> Verdict:
        """One reply callback, the same again, one with an unknown token; only the events
        and runs about its JobID count (every reply callback is recorded)."""
        api = Api(self.deployment)
        params = reply_params(
            address_from=NUMBERS["callback_reply"],
            address_to=NUMBERS["leased"],
            message="ACK",
            job_id=REPLY_JOB,
        )
        first, calls = _call_until_recorded(self.url("reply"), params)
        wait_until(lambda: bool(_runs_about(api, REPLY_JOB)), RUN_TIMEOUT)
        # Five more at once, as a retrying eCall or two replicas' clients might: the metadata
        # database's key (PostgreSQL here) takes none of them again.
        with ThreadPoolExecutor(max_workers=5) as pool:
            repeats = list(pool.map(lambda _: call_callback(self.url("reply"), params), range(5)))
        repeat = max(repeats) if len(set(repeats)) == 1 else -1
        unknown = call_callback(self.url("reply", self.stranger), params)
        time.sleep(SETTLE)
        about = _runs_about(api, REPLY_JOB)
        events = _events_about(api, REPLY_JOB)
        states = ", ".join(state for state, _ in about) or "-"
        ok = (first, repeat, unknown) == (200, 200, 404) and events == 1
        ok = ok and [(state, saw.count(REPLY_JOB)) for state, saw in about] == [("success", 1)]
        showed = (
            f"{first} ({calls} call), 5 simultaneous repeats {repeats}, unknown token {unknown}; "
            f"{events} asset event, {len(about)} run ({states}) saw job {REPLY_JOB!r}"
        )
        expected = "200, 5 simultaneous repeats 200, unknown 404; 1 event, 1 run"
        return Verdict("callback_reply", expected, showed, ok)

    def delivery_wake(self) -> Verdict:
        """Once the send waits deferred and the sandbox reports it delivered, the delivery
        callback for its JobID; the task must finish long before its next poll."""
        api, box = Api(self.deployment), self.sandboxes["delivery_wake"]
        run_id = api.trigger(WAKE_DAG)

        def send_state() -> str | None:
            return ti_state(api, WAKE_DAG, run_id, "send")

        if not wait_until(lambda: send_state() == "deferred", RUN_TIMEOUT):
            return Verdict("callback_delivery_wake", "-", "the send never deferred", False)
        job_id = str(box.messages[0].job_id)
        box.set_status(job_id, *DELIVERED)
        params = delivery_params(
            number=NUMBERS["delivery_wake"],
            result_code=DELIVERED[0],
            result_text=DELIVERED[1],
            job_id=job_id,
        )
        status, _ = _call_until_recorded(self.url("delivery"), params)
        called = time.monotonic()
        wait_until(lambda: send_state() in FINISHED_TI, WAKE_LIMIT)
        took = time.monotonic() - called
        state = api.wait_run(WAKE_DAG, run_id, 30)
        ok = status == 200 and state == "success" and took < WAKE_LIMIT
        ok = ok and len(box.messages) == 1 and requests_to(box, "state") <= 2
        showed = f"{journal_line(box)}; callback {status}, run {state} {took:.0f} s after it"
        expected = f"callback 200; success within {WAKE_LIMIT:.0f} s, <= 2 Api/State"
        return Verdict("callback_delivery_wake", expected, showed, ok)

    def signed_wake(self) -> Verdict:
        """The delivery wait of ``e2e_signed_wake``, its URL signed for its JobID: four
        forgeries refused while it waits, then the sandbox's notification to the URL wakes it."""
        api, box = Api(self.deployment), self.sandboxes["signed_wake"]
        # Not delivered until the scenario says so: a first status poll that comes late (a
        # busy machine) would otherwise find the sandbox's own delivery (2 s) and finish.
        box.configure_delivery(never=[NUMBERS["signed_wake"]])
        run_id = api.trigger(SIGNED_DAG)

        def send_state() -> str | None:
            return ti_state(api, SIGNED_DAG, run_id, "send")

        if not wait_until(lambda: send_state() == "deferred", RUN_TIMEOUT):
            return Verdict("callback_signed_wake", "-", "the send never deferred", False)
        sent = box.messages[0]
        job_id, url = str(sent.job_id), sent.params.get("NotificationAddress", "")
        base = f"{self.deployment.api_url}/ecall/callbacks/"
        if not url.startswith(base) or not url.endswith("/delivery"):
            return Verdict("callback_signed_wake", "-", f"not a signed URL: {url[:40]}…", False)
        token = url[len(base) : -len("/delivery")]
        self.signed_tokens.append(token)
        params = delivery_params(
            number=NUMBERS["signed_wake"],
            result_code=DELIVERED[0],
            result_text=DELIVERED[1],
            job_id=job_id,
        )
        signer = CallbackSigner([self.signing_key])
        expired = signer.sign("delivery", job_id, expires=int(time.time()) - 60)
        self.signed_tokens.append(expired)
        forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
        refused = {
            "forged": call_callback(self.url("delivery", forged), params),
            "expired": call_callback(self.url("delivery", expired), params),
            "other kind": call_callback(self.url("reply", token), params),
            "other job": call_callback(url, {**params, "JobID": f"{job_id}-other"}),
        }
        time.sleep(SETTLE)
        waiting = send_state()
        rendered = json.dumps(api.call("GET", _ti_path(run_id)))
        shown = token in rendered or token.rsplit(".", 1)[-1] in rendered
        # Delivered only now: had a forgery woken the task, its poll would have found the
        # job still pending and it would have gone on waiting (checked above).
        box.set_status(job_id, *DELIVERED)
        statuses = box.notify_delivery(job_id)
        called = time.monotonic()
        wait_until(lambda: send_state() in FINISHED_TI, WAKE_LIMIT)
        took = time.monotonic() - called
        state = api.wait_run(SIGNED_DAG, run_id, 30)
        expected_refusals = {"forged": 404, "expired": 410, "other kind": 404, "other job": 403}
        ok = refused == expected_refusals and waiting == "deferred" and not shown
        ok = ok and statuses == [200] and state == "success" and took < WAKE_LIMIT
        ok = ok and len(box.messages) == 1 and requests_to(box, "state") <= 2
        answers = ", ".join(f"{name} {status}" for name, status in refused.items())
        showed = (
            f"{journal_line(box)}; {answers}; task {waiting} after them; URL in the task's "
            f"fields: {shown}; the sandbox's notification {statuses}, run {state} "
            f"{took:.0f} s after it"
        )
        expected = "forged 404, expired 410, other kind 404, other job 403; then success"
        return Verdict("callback_signed_wake", expected, showed, ok)

    def reply_wake(self) -> Verdict:
        """Once both reply waits are deferred in the triggerer, a reply callback from
        ``wait_ack``'s number: that wait must end long before its next poll; ``wait_other``
        (another number) must stay deferred through it and end at its own timeout, skipped."""
        api, box = Api(self.deployment), self.sandboxes["reply_wake"]
        run_id = api.trigger(REPLY_WAKE_DAG)
        state = functools.partial(ti_state, api, REPLY_WAKE_DAG, run_id)

        def both_held() -> bool:
            return _held_by_triggerer(api, run_id) == {"wait_ack", "wait_other"}

        if not wait_until(both_held, RUN_TIMEOUT):
            showed = f"not both in a triggerer: {state('wait_ack')}, {state('wait_other')}"
            return Verdict("callback_reply_wake", "-", showed, False)
        params = reply_params(
            address_from=NUMBERS["reply_wake"], address_to=NUMBERS["leased"], message=REPLY_TEXT
        )
        status, _ = _call_until_recorded(self.url("reply"), params)
        called, other_then = time.monotonic(), state("wait_other")
        wait_until(lambda: state("wait_ack") in FINISHED_TI, WAKE_LIMIT)
        took, ack = time.monotonic() - called, state("wait_ack")
        got = api.xcom(REPLY_WAKE_DAG, run_id, "wait_ack") if ack == "success" else {}
        run = api.wait_run(REPLY_WAKE_DAG, run_id, RUN_TIMEOUT)
        seen = ReplyWake(status, ack, took, got, other_then, state("wait_other"), run, box)
        return seen.verdict()


def _ti_path(run_id: str) -> str:
    """The REST path of ``e2e_signed_wake``'s send in ``run_id`` (its rendered fields too)."""
    return f"/dags/{SIGNED_DAG}/dagRuns/{run_id}/taskInstances/send"


def _held_by_triggerer(api: Api, run_id: str) -> set[str]:
    """The tasks of the ``e2e_reply_wake`` run that are deferred, their trigger taken by a
    triggerer (which has subscribed it to the inbound cache's drain, or is about to)."""
    held = set()
    for ti in api.task_instances(REPLY_WAKE_DAG, run_id):
        trigger = ti.get("trigger") or {}
        if ti["state"] == "deferred" and trigger.get("triggerer_id") is not None:
            held.add(str(ti["task_id"]))
    return held


@dataclass
class ReplyWake:
    """What ``callback_reply_wake`` saw, to judge once the run is over.

    :param status: the callback's answer.
    :param ack: ``wait_ack``'s state once it finished (or at the limit).
    :param took: seconds from the callback's answer to that state.
    :param got: ``wait_ack``'s XCom.
    :param other_then: ``wait_other``'s state right after the callback's answer.
    :param other: its state at the end of the run.
    :param run: the run's state.
    :param sandbox: the waits' sandbox (its inbound cache).
    """

    status: int
    ack: str | None
    took: float
    got: dict[str, Any]
    other_then: str | None
    other: str | None
    run: str
    sandbox: EcallSandbox

    def verdict(self) -> Verdict:
        """The row: the matching wait woke in time with the reply, masked; the other did not;
        nothing came from the cache."""
        untouched, cache = _cache_unused(self.sandbox)
        message, sender = self.got.get("message"), self.got.get("sender")
        ok = self.status == 200 and self.ack == "success" and self.took < WAKE_LIMIT
        ok = ok and message == REPLY_TEXT and sender == mask_address(NUMBERS["reply_wake"])
        ok = ok and (self.other_then, self.other, self.run) == ("deferred", "skipped", "success")
        showed = (
            f"callback {self.status}; wait_ack {self.ack} {self.took:.0f} s after it, XCom "
            f"{message!r} from {sender}; wait_other {self.other_then} after it, then "
            f"{self.other}; run {self.run}; {cache}"
        )
        expected = f"match: success < {WAKE_LIMIT:.0f} s; other: deferred, skipped; cache unused"
        return Verdict("callback_reply_wake", expected, showed, ok and untouched)


def _cache_unused(sandbox: EcallSandbox) -> tuple[bool, str]:
    """Whether nothing was taken from the sandbox's inbound cache and it is empty (the
    reply came only by callback); and that in words, with the drain's reads."""
    reads, deletes = requests_to(sandbox, "cache_get"), requests_to(sandbox, "cache_delete")
    empty = cache_empty(sandbox)
    words = f"cache {'empty' if empty else 'NOT empty'}, {reads} reads, {deletes} deletes"
    return empty and deletes == 0, words
