"""The "hearing back" scenarios of ``make e2e`` (issue 13), inbound SMS side: an asset
watcher draining the inbound cache, and the acknowledge-by-SMS escalation example.

Each scenario drives itself (injects a reply when the time comes, triggers the next run) in
a thread of its own, side by side with the other scenarios, and returns its verdict. The
callback scenarios are in ``callbacks.py``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping

from airflow_provider_ecall.client.client import EcallClient
from airflow_provider_ecall.client.privacy import mask_address
from airflow_provider_ecall.sandbox import EcallSandbox
from scripts.deployment.components import Api, Deployment
from scripts.deployment.dags.e2e_numbers import NUMBERS
from scripts.deployment.scenarios import RUN_TIMEOUT, Verdict, requests_to, safely_all, wait_until

#: Inbound SMS the watcher scenario injects, one at a time.
WATCHED = 3
WATCHER_DAG = "e2e_watcher"
ESCALATION_DAG = "ecall_ack_escalation"
#: The example's wait for ACK, in seconds (half of it again after the call): short, so the
#: path without a reply adds little wall time.
ACK_TIMEOUT = 20
FINISHED_TI = {"success", "failed", "skipped", "upstream_failed"}


def example_settings() -> dict[str, str]:
    """What ``example_dags/ecall_ack_escalation.py`` reads at parse, for every process."""
    return {
        "ECALL_ONCALL_PRIMARY": NUMBERS["ack_primary"],
        "ECALL_ONCALL_SECOND": NUMBERS["ack_second"],
        "ECALL_ACK_TIMEOUT": str(ACK_TIMEOUT),
        "ECALL_REPLY_POLL": "1",
        # The example's SMS go out from this number and its waits read only replies to it.
        "ECALL_REPLY_NUMBER": NUMBERS["leased"],
    }


def cache_empty(sandbox: EcallSandbox) -> bool:
    """Whether the sandbox's inbound cache is empty, asked the way eCall is asked."""
    with EcallClient(sandbox.base_url, sandbox.username, sandbox.password) as client:
        return client.get_next_inbound() is None


def _run_count_reaches(api: Api, dag_id: str, count: int) -> Callable[[], bool]:
    return lambda: len(api.runs(dag_id)) >= count


def ti_state(api: Api, dag_id: str, run_id: str, task_id: str) -> str | None:
    """The state of one (unmapped) task instance of a run; None before it has one."""
    found = [ti for ti in api.task_instances(dag_id, run_id) if ti["task_id"] == task_id]
    return str(found[0]["state"]) if found and found[0]["state"] else None


def _sent(sandbox: EcallSandbox, run_id: str) -> list[tuple[str, str]]:
    """``(kind, recipient)`` of the run's messages, in the order the sandbox accepted them."""
    mine = [message for message in sandbox.messages if run_id in message.message]
    return [(message.kind, message.addresses[0]) for message in mine]


def _shown(sent: list[tuple[str, str]]) -> str:
    return " > ".join(f"{kind} {mask_address(to)}" for kind, to in sent) or "nothing"


class Hearing:
    """The inbound-SMS scenarios; ``sandboxes`` by connection name.

    :param deployment: for an API client per scenario thread (a session is not shared).
    """

    def __init__(self, deployment: Deployment, sandboxes: Mapping[str, EcallSandbox]) -> None:
        self.deployment = deployment
        self.sandboxes = sandboxes

    def watcher(self) -> Verdict:
        """Inject SMS one by one, each once the previous one started its run; each run saw
        one MessageID, the three runs all three, and the cache is empty."""
        api, box = Api(self.deployment), self.sandboxes["watcher"]
        injected: list[str] = []
        for index in range(WATCHED):
            injected.append(
                box.add_inbound(
                    address_from=NUMBERS["watcher"],
                    address_to=NUMBERS["leased"],
                    message=f"inbound {index + 1} of {WATCHED}",
                )
            )
            if not wait_until(_run_count_reaches(api, WATCHER_DAG, index + 1), RUN_TIMEOUT):
                break
        runs = api.runs(WATCHER_DAG)
        states = [api.wait_run(WATCHER_DAG, run["dag_run_id"], RUN_TIMEOUT) for run in runs]
        seen = [api.xcom(WATCHER_DAG, run["dag_run_id"], "seen") for run in runs]
        runs = api.runs(WATCHER_DAG)  # again, now that every event had its chance
        empty = cache_empty(box)
        ok = len(runs) == WATCHED and {run["run_type"] for run in runs} == {"asset_triggered"}
        ok = ok and set(states) == {"success"} and [len(ids) for ids in seen] == [1] * WATCHED
        ok = ok and sorted(id_ for ids in seen for id_ in ids) == sorted(injected) and empty
        showed = (
            f"{len(runs)} runs ({', '.join(sorted({run['run_type'] for run in runs}))}), "
            f"{' / '.join(str(len(ids)) for ids in seen)} MessageID per run, "
            f"{len({id_ for ids in seen for id_ in ids} & set(injected))} of {len(injected)} "
            f"injected; {requests_to(box, 'cache_delete')} Api/Cache/DeleteMessage, "
            f"cache {'empty' if empty else 'NOT empty'}"
        )
        return Verdict("watcher", f"{WATCHED} SMS: {WATCHED} runs, 1 MessageID each", showed, ok)

    def _reply_once_paged(self, box: EcallSandbox, run_id: str) -> bool:
        """Once the run's SMS is out, its recipient answers "Ack" (into the inbound cache)."""
        if not wait_until(lambda: bool(_sent(box, run_id)), RUN_TIMEOUT):
            return False
        box.add_inbound(
            address_from=NUMBERS["ack_primary"],
            address_to=NUMBERS["leased"],
            message="Ack, on my way",
        )
        return True

    def ack_escalation(self) -> Verdict:
        """The example, both paths, on one sandbox: an ACK in time stops the chain; a run
        started after that reply (so the reply is older than the run and not its answer)
        escalates: nobody answers it."""
        api, box = Api(self.deployment), self.sandboxes["ack_escalation"]
        acked = api.trigger(ESCALATION_DAG)
        self._reply_once_paged(box, acked)
        silent = api.trigger(ESCALATION_DAG)
        acked_state = api.wait_run(ESCALATION_DAG, acked, RUN_TIMEOUT)
        waited = ti_state(api, ESCALATION_DAG, acked, "wait_for_ack")
        silent_state = api.wait_run(ESCALATION_DAG, silent, RUN_TIMEOUT)
        primary, second = NUMBERS["ack_primary"], NUMBERS["ack_second"]
        chain = [("sms", primary), ("voice", primary), ("sms", second), ("voice", second)]
        empty = cache_empty(box)
        ok = _sent(box, acked) == [("sms", primary)] and waited == "success"
        ok = ok and _sent(box, silent) == chain and empty
        showed = (
            f"ACK: {_shown(_sent(box, acked))} (wait {waited}, run {acked_state}); "
            f"none: {_shown(_sent(box, silent))} (run {silent_state}); "
            f"cache {'empty' if empty else 'NOT empty'}"
        )
        return Verdict("ack_escalation", "ACK: 1 SMS; none: SMS, call, SMS, call", showed, ok)


class Background:
    """Scenarios running in daemon threads (each ends at its own timeouts; Ctrl-C does not
    wait for them); their verdicts once all are done.

    :param plays: the scenarios by name, each returning its verdict (or the verdicts of the
        scenarios it plays in one go).
    :param done: told each scenario's name when it has its verdict (a progress line).
    """

    def __init__(
        self,
        plays: Mapping[str, Callable[[], Verdict | list[Verdict]]],
        done: Callable[[str], None],
    ) -> None:
        self._done = done
        self._verdicts: dict[str, list[Verdict]] = {}
        self._names = list(plays)
        self._threads = [
            threading.Thread(target=self._play, args=(name, play), name=f"e2e-{name}", daemon=True)
            for name, play in plays.items()
        ]
        for thread in self._threads:
            thread.start()

    def _play(self, name: str, play: Callable[[], Verdict | list[Verdict]]) -> None:
        def listed() -> list[Verdict]:
            found = play()
            return found if isinstance(found, list) else [found]

        self._verdicts[name] = safely_all(name, listed)
        self._done(name)

    def verdicts(self) -> list[Verdict]:
        """Every scenario's verdicts, in the order given (waits for the last one)."""
        for thread in self._threads:
            thread.join()
        return [verdict for name in self._names for verdict in self._verdicts[name]]
