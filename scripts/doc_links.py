"""``make docs``'s link check: every internal link of the built site reaches a page that
exists, and an anchor that page has.

Sphinx's own warnings (``-W``, nitpicky) cover its cross-references; this covers what ends up
as a plain ``href`` or ``src``: Markdown links between pages, heading anchors, downloads,
static files. Links with a scheme (``https:``, ``mailto:``) are external and are not
fetched. Stdlib only.

``python -m scripts.doc_links docs/_build/html`` prints each broken link with the page it is
on and exits 1 when there is one.
"""

from __future__ import annotations

import argparse
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit


class _Page(HTMLParser):
    """The ids (anchors) a page defines and the links it makes."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        for name in ("id", "name") if tag == "a" else ("id",):
            if found.get(name):
                self.ids.add(str(found[name]))
        for name in ("href", "src"):
            value = found.get(name)
            if value is not None:
                self.links.append(value)


def _parse(page: Path) -> _Page:
    parsed = _Page()
    parsed.feed(page.read_text(encoding="utf-8"))
    return parsed


def broken_links(site: Path) -> tuple[int, list[str]]:
    """``(internal links checked, one line per broken link)`` of the HTML pages under
    ``site``."""
    pages = {page.resolve(): _parse(page) for page in sorted(site.rglob("*.html"))}
    checked = 0
    broken = []
    for page, parsed in pages.items():
        for link in parsed.links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or link.startswith("//"):
                continue  # external: not fetched
            checked += 1
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if target.is_dir():
                target = target / "index.html"
            where = f"{page.relative_to(site.resolve())}: {link}"
            if not target.exists():
                broken.append(f"{where} (no such file)")
            elif parts.fragment and target.suffix == ".html":
                ids = pages[target].ids if target in pages else _parse(target).ids
                if unquote(parts.fragment) not in ids:
                    broken.append(f"{where} (no anchor #{parts.fragment})")
    return checked, broken


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("site", type=Path, help="the built HTML site (docs/_build/html)")
    args = parser.parse_args(argv)
    if not any(args.site.rglob("*.html")):
        print(f"doc links: no HTML pages under {args.site}", file=sys.stderr)
        return 1
    checked, broken = broken_links(args.site)
    for line in broken:
        print(f"doc links: broken: {line}", file=sys.stderr)
    print(f"doc links: {checked} internal links checked, {len(broken)} broken")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
