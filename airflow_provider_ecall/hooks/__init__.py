"""Airflow hooks of the eCall provider."""
