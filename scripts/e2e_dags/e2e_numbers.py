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
    "reply_wake": "+41791130006",
    "reply_other": "+41791130007",
    "leased": "+41791130099",
}
MAPPED = ["+41791120001", "+41791120002", "+41791120003"]
#: How many failures each latency figure is taken over.
BENCH_FAILURES = 20
#: How many of them fail at the same time.
BENCH_PARALLEL = 2
