"""Airflow notifiers of the eCall provider."""
