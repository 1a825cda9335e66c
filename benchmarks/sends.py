"""Send overheads against the sandbox (in its own process), each beside a bare-``requests``
baseline posting the same form to the same endpoint.

- per send: ``EcallHook.send_sms`` vs ``Session.post`` (both keep-alive);
- a 10,000-recipient SMS in batches vs the same batches as bare POSTs;
- a failure-callback notifier ``EcallSmsNotifier(...)(context)`` vs a one-shot
  ``requests.post`` (a callback runs once: neither side has a warm connection).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import requests
from common import Pair, Sandbox, paired

NUMBER = "+41791112233"
RECIPIENTS = [f"+4179{n:07d}" for n in range(10_000)]
TEXT = "Airflow: task etl.load failed (try 1)\nrun scheduled__2026-01-01T00:00:00+00:00"


def connect(sandbox: Sandbox, conn_id: str, **extra: object) -> None:
    """Point the Airflow connection ``conn_id`` at the sandbox (an environment variable)."""
    os.environ[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps(
        {
            "conn_type": "ecall",
            "host": sandbox.base_url,
            "login": sandbox.username,
            "password": sandbox.password,
            "extra": extra,
        }
    )


def bare_poster(sandbox: Sandbox, session: requests.Session | None) -> Callable[[str], None]:
    """A minimal hand-written send: POST the form, insist on HTTP 200, read the body."""
    url = f"{sandbox.base_url}/Api/Sms"
    post = session.post if session is not None else requests.post

    def send(address: str) -> None:
        form = {
            "UserName": sandbox.username,
            "Password": sandbox.password,
            "Address": address,
            "Message": TEXT,
            "JobID": uuid.uuid4().hex,
        }
        response = post(url, data=form, timeout=10)
        if response.status_code != 200 or b"<ResultCode>0<" not in response.content:
            raise RuntimeError(f"sandbox refused: {response.status_code}")

    return send


@contextlib.contextmanager
def info_logging() -> Iterator[None]:
    """Let the provider's INFO lines through, formatted by a stdlib handler into /dev/null
    (what a send's log line costs without a console to draw it on)."""
    logger = logging.getLogger("airflow_provider_ecall")
    with open(os.devnull, "w") as sink:
        handler = logging.StreamHandler(sink)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        saved = (logger.level, logger.propagate, logging.root.manager.disable)
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
        logging.disable(logging.NOTSET)
        try:
            yield
        finally:
            logger.removeHandler(handler)
            logger.setLevel(saved[0])
            logger.propagate = saved[1]
            logging.disable(saved[2])


def per_send(sandbox: Sandbox, *, rounds: int, per_round: int) -> Pair:
    """``EcallHook.send_sms`` vs a bare keep-alive ``Session.post``, per send."""
    from airflow_provider_ecall.hooks.ecall import EcallHook

    connect(sandbox, "ecall_default")
    hook = EcallHook()
    session = requests.Session()
    bare = bare_poster(sandbox, session)
    try:
        return paired(
            lambda: hook.send_sms(address=NUMBER, message=TEXT),
            lambda: bare(NUMBER),
            rounds=rounds,
            per_round=per_round,
        )
    finally:
        session.close()
        hook.get_client().close()


@dataclass(frozen=True)
class BigSend:
    """A 10,000-recipient SMS at one batch size."""

    batch_size: int
    requests: int
    timing: Pair


def big_send(sandbox: Sandbox, batch_size: int | None, *, rounds: int) -> BigSend:
    """One 10,000-recipient SMS through the hook vs the same batches as bare POSTs.

    :param batch_size: the connection's ``batch_size`` extra (None: the default).
    """
    from airflow_provider_ecall.hooks.ecall import EcallHook

    conn_id = f"ecall_batch_{batch_size or 'default'}"
    connect(sandbox, conn_id, **({} if batch_size is None else {"batch_size": batch_size}))
    hook = EcallHook(ecall_conn_id=conn_id)
    size = hook.get_client().batch_size
    batches = [";".join(RECIPIENTS[i : i + size]) for i in range(0, len(RECIPIENTS), size)]
    session = requests.Session()
    bare = bare_poster(sandbox, session)
    made: list[int] = []

    def ours() -> None:
        made.append(hook.send_sms(address=RECIPIENTS, message=TEXT).sent_count)

    def base() -> None:
        for batch in batches:
            bare(batch)

    try:
        timing = paired(ours, base, rounds=rounds, per_round=1)
    finally:
        session.close()
        hook.get_client().close()
    assert set(made) == {len(batches)}, made
    return BigSend(size, len(batches), timing)


def notifier(sandbox: Sandbox, *, rounds: int, per_round: int) -> Pair:
    """``EcallSmsNotifier(address=…)(context)`` (default alert text) vs one-shot POSTs."""
    from airflow_provider_ecall.notifications.ecall import EcallSmsNotifier

    connect(sandbox, "ecall_default")
    from airflow.sdk import DAG

    from tests.contexts import failure_context

    alert = EcallSmsNotifier(address=NUMBER)
    context = failure_context(DAG("etl", schedule=None), 0)
    bare = bare_poster(sandbox, None)
    return paired(lambda: alert(context), lambda: bare(NUMBER), rounds=rounds, per_round=per_round)


def local_work(sandbox: Sandbox, *, rounds: int, per_round: int) -> float:
    """Seconds per send of what the hook adds around the HTTP call, without the network:
    building and validating the message, planning its batches, parsing the answer."""
    import statistics
    import time

    from airflow_provider_ecall.client.messages import SmsMessage
    from airflow_provider_ecall.client.responses import parse_result
    from airflow_provider_ecall.hooks.ecall import EcallHook

    connect(sandbox, "ecall_default")
    hook = EcallHook()
    client = hook.get_client()
    answer = (
        b'<Result xmlns="http://schemas.datacontract.org/2004/07/eCallHttp.Models" '
        b'xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><AdditionalInfo i:nil="true"/>'
        b"<ResultCode>0</ResultCode><ResultText>OK</ResultText></Result>"
    )
    kept = []
    for number in range(rounds + 1):
        started = time.perf_counter()
        for _ in range(per_round):
            callback = hook.settings.default_callback
            message = SmsMessage(address=NUMBER, message=TEXT, callback=callback)
            for part in client.plan(message):
                part.to_params()
                parse_result(answer)
        if number:
            kept.append((time.perf_counter() - started) / per_round)
    client.close()
    return statistics.median(kept)
