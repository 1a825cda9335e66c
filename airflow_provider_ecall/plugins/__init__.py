"""The eCall callback receiver: an Airflow 3 api-server plugin."""
