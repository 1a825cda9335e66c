"""The link check of ``make docs`` (``scripts/doc_links.py``) finds what it is there for: a
link to a page that does not exist and an anchor a page does not have; external links are not
its business."""

from __future__ import annotations

from pathlib import Path

from scripts.doc_links import broken_links, main


def _site(root: Path, pages: dict[str, str]) -> Path:
    for name, body in pages.items():
        page = root / name
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(f"<html><body>{body}</body></html>", encoding="utf-8")
    return root


def test_links_between_pages_and_to_their_anchors_pass(tmp_path: Path) -> None:
    site = _site(
        tmp_path,
        {
            "index.html": '<a href="guide/a.html#setup">a</a> <a href="#top">top</a>'
            '<h1 id="top">t</h1> <a href="https://example.org/x.html#y">out</a>'
            '<img src="_static/logo.png"> <a href="guide/">dir</a>',
            "guide/a.html": '<section id="setup"></section><a href="../index.html">up</a>',
            "guide/index.html": "",
            "_static/logo.png": "",
        },
    )
    checked, broken = broken_links(site)
    assert (checked, broken) == (5, [])
    assert main([str(site)]) == 0


def test_a_missing_page_and_a_missing_anchor_are_reported(tmp_path: Path) -> None:
    site = _site(
        tmp_path,
        {
            "index.html": '<a href="gone.html">x</a> <a href="a.html#nowhere">y</a>'
            '<a href="#also-nowhere">z</a>',
            "a.html": '<h2 id="somewhere"></h2>',
        },
    )
    _, broken = broken_links(site)
    assert broken == [
        "index.html: gone.html (no such file)",
        "index.html: a.html#nowhere (no anchor #nowhere)",
        "index.html: #also-nowhere (no anchor #also-nowhere)",
    ]
    assert main([str(site)]) == 1


def test_an_empty_site_fails(tmp_path: Path) -> None:
    assert main([str(tmp_path)]) == 1
