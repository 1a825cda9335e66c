"""Approvals by SMS (Airflow's human-in-the-loop tasks, 3.1+): the request's texts, JobIDs
and short codes, and how a reply is read — plain Python, shared by the notifier that asks
(:mod:`airflow_provider_ecall.notifications.hitl`) and the receiver that records the answer
(:mod:`airflow_provider_ecall.plugins.approvals`). Nothing is imported here."""
