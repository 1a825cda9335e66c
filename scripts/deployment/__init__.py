"""``make e2e``: the deployment check, see :mod:`scripts.deployment.__main__`. Its DAG
files are in ``dags/`` (the DAGs folder of the deployment)."""
