"""Template -> Markdown -> HTML -> PDF (Jinja2 with StrictUndefined, Python-Markdown, WeasyPrint)."""

from __future__ import annotations

import html
import tempfile
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import markdown

from monitoring.panels import dashboards as grafana_dashboards
from report import charts, criteria, data, diagrams, expectations, labels, shots
from report.fmt import FILTERS, ReportFieldError, field

TEMPLATES = Path(__file__).resolve().parent / "templates"
COMPONENT_HEALTH_PX = 940  # the page's first three rows of panels, at monitoring.live's 1400 px width
MARKDOWN_EXTENSIONS = ["tables", "fenced_code", "attr_list", "md_in_html", "toc", "sane_lists"]


@dataclass
class Built:
    pdf: Path
    pages: int


def esc(value: Any) -> str:
    """A value from the results inside Markdown (a table cell, a sentence): printed literally."""
    text = html.escape(str(field(value)), quote=False)
    return "".join({"|": "&#124;", "*": "&#42;", "_": "&#95;", "`": "&#96;", "[": "&#91;"}.get(c, c)
                   for c in text)


def code(value: Any) -> str:
    """A value from the results as inline code (HTML, so Markdown leaves its characters alone)."""
    return f"<code>{esc(value)}</code>"


def uri(path: Any) -> str:
    path = Path(field(path))
    if not path.is_file():
        raise data.ReportDataError(f"{path} is missing (an image the report shows)")
    return path.resolve().as_uri()


def passed(experiment: dict[str, Any], prefix: str) -> bool:
    """The outcome of the experiment's check whose name starts with `prefix` (the prose depends on it)."""
    found = [ok for name, ok in experiment["checks"].items() if name.startswith(prefix)]
    if len(found) != 1:
        raise data.ReportDataError(f"results/experiments/{experiment['name']}/latest.json has {len(found)} "
                                   f"checks named {prefix!r}...; update report/templates/relatorio.md.j2")
    return found[0]


def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), undefined=jinja2.StrictUndefined,
                             finalize=field, autoescape=False, keep_trailing_newline=True,
                             trim_blocks=True, lstrip_blocks=True)
    env.filters.update(FILTERS)
    env.filters.update({"esc": esc, "code": code, "uri": uri, "check": labels.check})
    env.globals.update(experiment_fault=labels.EXPERIMENTS, passed=passed, loadtest_config=labels.LOADTESTS,
                       shortfall=labels.SHORTFALL)
    return env


def context(root: Path, work: Path) -> dict[str, Any]:
    """Everything the template prints: the results, the criteria, and the figures drawn for it
    (written into `work`)."""
    ctx = data.load(root)
    ctx["targets"] = criteria.targets(ctx)
    ctx["expectations"] = expectations.expectations(ctx["loadtests"])
    ctx["dashboard_count"] = len(grafana_dashboards())
    sequence, ctx["step"] = diagrams.sequence(ctx["settings"], work / "sequencia.png")  # step: {key: n}
    ctx["fig"] = {
        "components": diagrams.components(ctx["settings"], ctx["dashboard_count"], work / "componentes.png"),
        "sequence": sequence,
        "scaling": charts.scaling(ctx, work / "escala.png"),
        "api_latency": charts.api_latency(ctx, work / "api-latencia.png"),
        "live_load_overview": ctx["live"]["load"]["shots"]["system-overview"],
        # Component Health down to the router's processing time (its rows: flow and lag, services, timings).
        "live_failover_health": shots.top(ctx["live"]["failover"]["shots"]["component-health"],
                                          COMPONENT_HEALTH_PX, work / "ao-vivo-failover.png"),
    }
    return ctx


def to_markdown(ctx: dict[str, Any], template: str = "relatorio.md.j2") -> str:
    try:
        return environment().get_template(template).render(**ctx)
    except (ReportFieldError, jinja2.UndefinedError) as exc:
        # Jinja rewrites the traceback onto the template's lines: name the line of the field.
        lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__) if f.filename.endswith(template)]
        where = f" (templates/{template}, line {lines[-1]})" if lines else ""
        raise type(exc)(f"{exc}{where}") from exc


def to_html(text: str) -> str:
    body = markdown.markdown(text, extensions=MARKDOWN_EXTENSIONS,
                             extension_configs={"toc": {"title": "Sumário", "toc_depth": "2"}})
    return ('<!DOCTYPE html><html lang="pt-BR"><head><meta charset="utf-8">'
            "<title>Chat4All — Relatório Técnico</title></head>"
            f"<body>{body}</body></html>")


def build(root: Path, out: Path, keep: Path | None = None) -> Built:
    """Render the report into `out` (PDF); `keep`: also write the Markdown, HTML and figures there."""
    with tempfile.TemporaryDirectory(prefix="chat4all-report-") as tmp:
        work = keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        return publish(context(root, work), root, out, keep)


def publish(ctx: dict[str, Any], root: Path, out: Path, keep: Path | None = None) -> Built:
    """Render a prepared context (`context()`, its figures still on disk) into `out` (PDF); `keep`:
    also write the Markdown and HTML there."""
    import weasyprint  # imported late: it loads pango through cffi

    text = to_markdown(ctx)
    page = to_html(text)
    if keep:
        keep.mkdir(parents=True, exist_ok=True)
        (keep / "relatorio.md").write_text(text)
        (keep / "relatorio.html").write_text(page)
    document = weasyprint.HTML(string=page, base_url=str(root)).render(
        stylesheets=[weasyprint.CSS(filename=str(TEMPLATES / "style.css"))])
    out.parent.mkdir(parents=True, exist_ok=True)
    document.write_pdf(out)
    return Built(out, len(document.pages))
