"""``make dist``: the release artifacts, built, checked and proven installed (``__main__``)."""
