"""Airflow operators of the eCall provider."""
