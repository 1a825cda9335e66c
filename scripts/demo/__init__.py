"""``make demo``: see :mod:`scripts.demo.__main__`."""
