"""The one module that imports Airflow: base classes and version-dependent names.

Everything else in the package imports Airflow names from here (ruff TID251 enforces it),
so a change of location between Airflow versions is absorbed in this file only.
Checked on Airflow 3.3.2 (task SDK 1.3.2).
"""

from __future__ import annotations

from airflow.sdk import DAG, BaseHook, BaseNotifier, BaseOperator, Context
from airflow.sdk.exceptions import AirflowFailException
from airflow.sdk.log import mask_secret

__all__ = [
    "DAG",
    "AirflowFailException",
    "BaseHook",
    "BaseNotifier",
    "BaseOperator",
    "Context",
    "mask_secret",
]
