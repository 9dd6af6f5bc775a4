"""The report registry: each kind of report says its columns, how to read its parameters and how
to produce its rows; the runner (audit.reports.run) does formats, background runs and My Reports.

A package registers its kinds with :func:`register` from its ``init_app`` (audit registers the
auditor reports; workflows registers turnaround, which reads request data audit may not import;
the SER core can register its own). Kinds are stored on the app, so two apps never share them.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app

from edlink.errors import NotFound

REGISTRY_KEY = "audit.report_kinds"


@dataclass(frozen=True)
class Field:
    """One input of a report's form (the page) and query parameter (the API)."""

    name: str
    label: str
    kind: str = "text"  # text | select | datetime
    help: str = ""
    choices: Callable[[], list[tuple[str, str]]] | None = None  # (value, label); "" is "any"
    required: bool = False


@dataclass
class Prepared:
    """A report ready to produce: the scope it covers (checked), how many rows, and the rows.

    ``rows`` is an iterable of tuples in ``kind.columns + kind.extras`` order, iterated once;
    ``count`` is exact (used for the progress bar and the background threshold).
    """

    scope: str
    count: int
    rows: Iterable[tuple]
    org: str | None = None


@dataclass(frozen=True)
class ReportKind:
    code: str                      # used in URLs and in report.generated's details
    title: str
    columns: tuple[str, ...]       # what every format shows, in order
    parse: Callable[[Mapping[str, str]], dict[str, Any]]  # query args -> params (raises Invalid)
    prepare: Callable[[Any, dict[str, Any]], Prepared]    # (requester, params); raises Forbidden outside scope
    extras: tuple[str, ...] = ()   # more keys JSON rows carry (usernames, codes, ids)
    date_columns: frozenset[str] = frozenset()   # values are dates or datetimes (real dates in Excel)
    widths: Mapping[str, int] = field(default_factory=dict)  # Excel column widths (characters)
    fields: tuple[Field, ...] = ()
    description: str = ""
    visible: Callable[[], bool] | None = None  # show its form on the Reports page to this reader

    def target_org(self, params: dict[str, Any]) -> str | None:
        value = params.get("org")
        return value if isinstance(value, str) else None


def register(app: Flask, kind: ReportKind) -> None:
    kinds = app.extensions.setdefault(REGISTRY_KEY, {})
    if kind.code in kinds and kinds[kind.code] is not kind:
        raise ValueError(f"report kind {kind.code!r} is registered twice")
    kinds[kind.code] = kind


def kinds() -> list[ReportKind]:
    return list(current_app.extensions.get(REGISTRY_KEY, {}).values())


def get(code: str) -> ReportKind:
    kind = current_app.extensions.get(REGISTRY_KEY, {}).get(code)
    if kind is None:
        raise NotFound("unknown_report", f"There is no report called {code!r}.")
    return kind


def text_arg(args: Mapping[str, str], name: str) -> str | None:
    return (args.get(name) or "").strip() or None
