"""Parse ``example_dags/`` in a fresh interpreter and print what happened as JSON.

Run as a script by ``test_example_dags.py``: a fresh process is the only place where every
import-time warning fires again (modules already imported by other tests stay silent).
Airflow itself is imported before recording starts, so the warnings recorded are the ones
parsing the DAG files (and the provider modules they import) caused.
"""

from __future__ import annotations

import json
import sys
import warnings

try:
    from airflow.dag_processing.dagbag import DagBag
except ImportError:  # Airflow 2.11 to 3.1
    from airflow.models.dagbag import DagBag


def main(dag_folder: str) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bag = DagBag(dag_folder=dag_folder)
    dags = {
        dag_id: {
            "fileloc": dag.fileloc,
            "tags": sorted(dag.tags),
            "doc_md": dag.doc_md or "",
            "catchup": dag.catchup,
            "timetable": type(dag.timetable).__name__,
            "tasks": sorted(dag.task_ids),
        }
        for dag_id, dag in bag.dags.items()
    }
    print(
        json.dumps(
            {
                "import_errors": {str(k): str(v) for k, v in bag.import_errors.items()},
                # DagBag records each file's warnings (with their category in the text) and
                # re-emits them as UserWarning, so both views are kept.
                "file_warnings": [
                    line for lines in bag.captured_warnings.values() for line in lines
                ],
                "warnings": [
                    {
                        "category": w.category.__name__,
                        "message": str(w.message),
                        "where": f"{w.filename}:{w.lineno}",
                    }
                    for w in caught
                ],
                "dags": dags,
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1])
