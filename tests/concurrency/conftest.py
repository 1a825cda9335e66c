"""Concurrency settings (the callback contexts come from tests/contexts.py)."""

from __future__ import annotations

THREADS = 32
