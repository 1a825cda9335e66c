"""What the phones do in the demo's sandbox: the numbers the newer example DAGs use there, a
report SMS that is never delivered, an engineer who answers the call with ACK, and two SMS
commands. Everything goes through the sandbox's public API, as a test would."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from airflow_provider_ecall.client.privacy import mask_address

if TYPE_CHECKING:
    from airflow_provider_ecall.sandbox import EcallSandbox, SandboxMessage

#: A phone that never gets the report SMS of ``ecall_delivery_fallback`` (delivery fails).
UNREACHABLE = "+41790000021"
#: ``ecall_ack_escalation``'s default on-call engineer; ``ecall_sms_commands``' allowed sender.
ONCALL = "+41790000011"
#: ``ecall_ack_escalation``'s default second person.
SECOND = "+41790000012"
#: A number ``ecall_sms_commands`` does not take commands from.
STRANGER = "+41795550123"
#: The account's own number, which the phones answer to.
LEASED = "+41790000000"
COMMAND = "RERUN ecall_pipeline_report"
ACK_DAG, COMMANDS_DAG = "ecall_ack_escalation", "ecall_sms_commands"
#: The on-call recipe, and the number its SMS go out from (replies go there; its waits read
#: only that number, so the ACK left in the cache by ``ecall_ack_escalation`` is not theirs).
RECIPE_DAG, RECIPE_REPLY_NUMBER = "ecall_oncall_recipe", "+41790000098"
#: ``ecall_sms_approval``'s approver (``ECALL_APPROVER``), and the Airflow user the
#: api-server's receiver maps that number to (``[ecall] approval_responders``).
APPROVAL_DAG, APPROVER, APPROVER_USER = "ecall_sms_approval", "+41790000031", "alice"
#: Who ``ecall_sms_approval``'s escalation calls (``ECALL_ON_CALL``).
APPROVAL_ON_CALL = "+41790000032"
#: The DAGs whose reply waits the on-call engineer answers after the call.
ANSWERED_DAGS = {ACK_DAG: LEASED, RECIPE_DAG: RECIPE_REPLY_NUMBER}


@dataclass(frozen=True)
class Inbound:
    """An SMS a phone sent to the account (put into the sandbox's inbound cache)."""

    dag_id: str
    label: str
    message_id: str
    sender: str
    text: str

    def row(self, outcome: str) -> str:
        """One line of the demo's inbound list."""
        shown = f"{self.text!r:<32}"
        return f"{self.dag_id:<22} {self.label:<24} {mask_address(self.sender)}  {shown} {outcome}"


@dataclass
class Phones:
    """The sandbox's phones, bound to one sandbox; ``current`` names the DAG that runs."""

    sandbox: EcallSandbox | None = None
    current: str | None = None
    inbound: list[Inbound] = field(default_factory=list)

    def attach(self, sandbox: EcallSandbox) -> None:
        """Bind to the sandbox: the unreachable phone's deliveries fail."""
        self.sandbox = sandbox
        sandbox.configure_delivery(failing=[UNREACHABLE])

    def echo(self, message: SandboxMessage) -> None:
        """Called by the sandbox for every accepted message: the on-call engineer, called by
        ``ecall_ack_escalation``, replies ACK (once).

        The reply wait matches it, but under ``airflow dags test`` the reply stays in the
        cache: the in-line trigger's event loop ends before the drain deletes it (a
        triggerer's loop goes on and deletes it). The demo runs ``ecall_sms_commands``
        before, so its watcher does not get this reply as one more SMS."""
        called = message.kind == "voice" and ONCALL in message.addresses
        dag_id = self.current
        if dag_id in ANSWERED_DAGS and called and not self._sent(dag_id):
            to = ANSWERED_DAGS[dag_id]
            self._send(dag_id, "reply after the call", ONCALL, "ACK, on my way", to=to)

    def before(self, dag_id: str) -> None:
        """Get ready for one DAG: SMS commands go into the cache before ``ecall_sms_commands``."""
        self.current = dag_id
        if dag_id == COMMANDS_DAG:
            self._send(COMMANDS_DAG, "command, allowed sender", ONCALL, COMMAND)
            self._send(COMMANDS_DAG, "command, unknown sender", STRANGER, COMMAND)

    def of(self, dag_id: str) -> list[Inbound]:
        """The SMS the phones sent for one DAG."""
        return [sms for sms in self.inbound if sms.dag_id == dag_id]

    def taken(self) -> set[str]:
        """The message ids somebody deleted from the cache (took)."""
        assert self.sandbox is not None
        return {
            r.params.get("MessageID", "")
            for r in self.sandbox.requests
            if r.endpoint == "cache_delete" and r.result_code == 0
        }

    def outcomes(
        self, runs: Mapping[str, str], matched: set[str]
    ) -> list[tuple[Inbound, str, bool]]:
        """What became of each SMS the phones sent, and whether that is what should happen.

        :param runs: the state of each run ``ecall_sms_commands`` started, by run id.
        :param matched: the message ids ``ecall_ack_escalation``'s reply waits matched.
        """
        taken = self.taken()
        found = []
        for sms in self.inbound:
            run = runs.get(f"sms__{sms.message_id}")
            if sms.dag_id in ANSWERED_DAGS:
                ok = sms.message_id in matched
                found.append((sms, "matched: the chain stops" if ok else "NOT MATCHED", ok))
            elif sms.message_id not in taken:
                found.append((sms, "NOT TAKEN: still in the cache", False))
            elif sms.sender == ONCALL:
                outcome = f"ran ecall_pipeline_report as sms__{sms.message_id[:8]}…: {run}"
                outcome = outcome if run else "NO RUN of ecall_pipeline_report"
                found.append((sms, outcome, run == "success"))
            else:
                found.append((sms, "refused: not an allowed sender", run is None))
        return found

    def _sent(self, dag_id: str) -> bool:
        return bool(self.of(dag_id))

    def _send(self, dag_id: str, label: str, sender: str, text: str, to: str = LEASED) -> None:
        assert self.sandbox is not None
        message_id = self.sandbox.add_inbound(address_from=sender, address_to=to, message=text)
        self.inbound.append(Inbound(dag_id, label, message_id, sender, text))
