"""Render leaderboard tables as Markdown, CSV (upstream schema) or standalone HTML.

Output is deterministic (no timestamps, no absolute paths) so committed tables can be diffed in CI.
"""

from __future__ import annotations

import html
import io
from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

FORMATS = ("md", "csv", "html")


@dataclass(frozen=True)
class Section:
    """One titled table of a rendered document."""

    title: str
    table: pd.DataFrame
    index: bool = False
    note: str = ""


@dataclass(frozen=True)
class Document:
    """A leaderboard document: a title, an introduction, titled tables and closing notes."""

    title: str
    intro: str
    sections: list[Section]
    notes: list[str] = field(default_factory=list)


def round3(table: pd.DataFrame) -> pd.DataFrame:
    """Round every float column to 3 decimals, as the published BOOM files are."""
    return table.round(3)


def to_csv(table: pd.DataFrame, *, index: bool = False, full_precision: bool = False) -> str:
    """The upstream CSV form: values rounded to 3 decimals, Python float repr (``0.0``, ``14.49``); with
    ``full_precision`` the values unrounded (shortest repr that round-trips the float64)."""
    buf = io.StringIO()
    (table if full_precision else round3(table)).to_csv(buf, index=index, lineterminator="\n")
    return buf.getvalue()


def _md_table(table: pd.DataFrame, *, index: bool) -> str:
    return round3(table).to_markdown(index=index, floatfmt=".3f", disable_numparse=False)


def to_markdown(doc: Document) -> str:
    """Render ``doc`` as GitHub-flavoured Markdown."""
    parts = [f"# {doc.title}", "", doc.intro.strip(), ""]
    for section in doc.sections:
        parts += [f"## {section.title}", ""]
        if section.note:
            parts += [section.note.strip(), ""]
        parts += [_md_table(section.table, index=section.index), ""]
    if doc.notes:
        parts += ["## Notes", ""]
        parts += [f"- {note}" for note in doc.notes]
        parts.append("")
    return "\n".join(parts)


_CSS = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
table { border-collapse: collapse; margin: 1rem 0 2rem; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.3rem 0.6rem; text-align: right; }
th { background: #f3f3f3; }
td:first-child, th:first-child { text-align: left; }
tr:nth-child(even) td { background: #fafafa; }
"""


def _fmt3(value: float) -> str:
    return f"{value:.3f}"


def to_html(doc: Document) -> str:
    """Render ``doc`` as one standalone HTML page (inline CSS, no scripts, no external assets)."""
    body = [f"<h1>{html.escape(doc.title)}</h1>", f"<p>{html.escape(doc.intro.strip())}</p>"]
    for section in doc.sections:
        body.append(f"<h2>{html.escape(section.title)}</h2>")
        if section.note:
            body.append(f"<p>{html.escape(section.note.strip())}</p>")
        body.append(round3(section.table).to_html(index=section.index, float_format=_fmt3, border=0))
    if doc.notes:
        body.append("<h2>Notes</h2><ul>")
        body += [f"<li>{html.escape(note)}</li>" for note in doc.notes]
        body.append("</ul>")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(doc.title)}</title><style>{_CSS}</style></head>\n<body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )


def render(doc: Document, fmt: str) -> str:
    """Render ``doc`` in ``fmt`` (one of :data:`FORMATS`). CSV concatenates the sections' tables."""
    if fmt == "md":
        return to_markdown(doc)
    if fmt == "html":
        return to_html(doc)
    if fmt == "csv":
        return "\n".join(to_csv(s.table, index=s.index) for s in doc.sections)
    raise ValueError(f"unknown format {fmt!r}; valid formats: {', '.join(FORMATS)}")


def join_names(names: Sequence[str]) -> str:
    """``a, b, c`` for notes."""
    return ", ".join(names)
