"""Lazy package attributes (PEP 562): a package names its public classes without importing
their modules until first use. Plain Python; used by the client and the sandbox packages,
which DAG files and the pytest plugin import on every parse or run."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def lazy_attributes(
    package: str, namespace: dict[str, Any], locations: Mapping[str, str]
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """Build a package's ``__getattr__`` and ``__dir__``.

    :param package: the package's ``__name__`` (for error messages).
    :param namespace: the package's ``globals()``; a loaded name is cached there.
    :param locations: public name -> the module that defines it.
    :return: ``(__getattr__, __dir__)``.
    """

    def __getattr__(name: str) -> object:
        module_name = locations.get(name)
        if module_name is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(module_name), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *locations})

    return __getattr__, __dir__
