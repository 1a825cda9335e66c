"""Recipients of the deployment check's messages (placeholders; the sandbox never delivers).

The driver greps every component's log for these numbers: none may appear in full.
"""

from __future__ import annotations

#: One recipient per scenario, so a message in the wrong place is visible.
NUMBERS = {
    "lost_answer": "+41791110001",
    "worker_killed": "+41791110002",
    "zombie_alert": "+41791110011",
    "error_window": "+41791110003",
    "exhausted": "+41791110004",
    "oncall": "+41791110005",
    "team_lead": "+41791110006",
    "deadline": "+41791110007",
    "rerun": "+41791110008",
    "bench_task": "+41791110009",
    "bench_dag": "+41791110010",
    # Hearing back (issue 13): who texts in, who is paged, who is called.
    "watcher": "+41791130001",
    "ack_primary": "+41791130002",
    "ack_second": "+41791130003",
    "callback_reply": "+41791130004",
    "delivery_wake": "+41791130005",
    "signed_wake": "+41791130009",
    "reply_wake": "+41791130006",
    "reply_other": "+41791130007",
    "leased": "+41791130099",
    # The watchdog (issue 17): its incident SMS, and the sweeper's and notifier's alerts.
    "watchdog_oncall": "+41791140001",
    "watchdog_team": "+41791140002",
    # Approvals by SMS (issue 19): the mapped approvers, and a number nobody mapped.
    "approver": "+41791150001",
    "approval_stranger": "+41791150002",
    "late_approver": "+41791150003",
}
#: ``[ecall] approval_responders`` of the deployment: who answers as which Airflow user.
APPROVERS = {"approver": "alice", "late_approver": "bob"}
MAPPED = ["+41791120001", "+41791120002", "+41791120003"]
#: How many failures each latency figure is taken over.
BENCH_FAILURES = 20
#: How many of them fail at the same time.
BENCH_PARALLEL = 2
