"""Delivery waiting in Airflow: the one owner of how a task waits for eCall to report its
messages final — used by the delivery sensor, the send operators' ``wait_for_delivery``,
the callback receiver's resume and the delivery trigger. Nothing is imported here."""
