"""``make test-compat``: see :mod:`scripts.compat_matrix.__main__`."""
