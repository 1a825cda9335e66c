"""What the Airflow-facing packages share: the one module that imports Airflow names
(:mod:`.compat`), the fields of each message kind (:mod:`.fields`), facts read from a task's
context (:mod:`.context`), masking of recipients (:mod:`.masking`) and lazy package
attributes (:mod:`.lazy`). Nothing is imported here: each module is imported where used."""
