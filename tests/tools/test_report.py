"""`make report`: the PDF builds from the committed results, has 10 to 15 pages, and no field is empty.

The build uses the committed results (results/, results/loadtests/) and the dashboard panels that
`make render-dashboards` wrote to results/dashboards/.
"""

from __future__ import annotations

import math
import re
import shutil

import jinja2
import pytest
from pypdf import PdfReader

from devstack.layout import REPO_DIR
from report import criteria, dashboards, data, render
from report.fmt import ReportFieldError, field, num, ratio

# WeasyPrint warns that it will need the HarfBuzz subsetter (fonts are embedded whole without it).
pytestmark = pytest.mark.filterwarnings("ignore:HarfBuzz-Subset:DeprecationWarning")

DASHBOARDS = REPO_DIR / "results" / "dashboards"
SECTIONS = ["1 Introdução", "2 Arquitetura Implementada", "3 Decisões Técnicas", "4 Padrões Arquiteturais",
            "5 Testes de Carga e Resultados", "6 Escalabilidade Horizontal", "7 Tolerância a Falhas",
            "8 Observabilidade", "9 Limitações e Aprendizados", "10 Conclusão", "Apêndice A", "Apêndice B",
            "Apêndice C", "Apêndice D"]


@pytest.fixture(scope="session")
def context(tmp_path_factory) -> dict:
    return render.context(REPO_DIR, DASHBOARDS, tmp_path_factory.mktemp("figures"))


@pytest.fixture(scope="session")
def built(context, tmp_path_factory) -> tuple[render.Built, str]:
    work = tmp_path_factory.mktemp("report")
    result = render.publish(context, REPO_DIR, work / "relatorio-tecnico.pdf", keep=work / "build")
    return result, (work / "build" / "relatorio.md").read_text()


@pytest.mark.slow  # renders the PDF (once per run: the session's `built`)
def test_the_report_has_10_to_15_pages(built):
    result, _ = built
    pages = len(PdfReader(result.pdf).pages)
    assert pages == result.pages
    assert 10 <= pages <= 15, f"{pages} pages"


@pytest.mark.slow  # renders the PDF (once per run: the session's `built`)
def test_the_report_has_the_seeds_structure_and_no_empty_value(built):
    result, text = built
    pdf_text = " ".join(page.extract_text() for page in PdfReader(result.pdf).pages)
    for section in SECTIONS:
        assert section in pdf_text, section
    # The guard (finalize) stops a build with an empty field; this also catches what slips past it.
    assert not re.search(r"\b(None|nan|NaN|inf|Undefined)\b", text)
    assert "{{" not in text and "{%" not in text


@pytest.mark.slow  # renders the PDF (once per run: the session's `built`)
def test_every_number_of_the_results_is_the_one_printed(built):
    _, text = built
    bench = data.read_json(REPO_DIR, "results/bench/latest.json", "")
    scale_api = data.read_json(REPO_DIR, "results/experiments/scale-api/latest.json", "")
    assert f"{num(bench['e2e_delivered_per_s'])} msg/s" in text
    assert ratio(scale_api["figures"]["ratio"]) in text


@pytest.mark.parametrize("empty", [None, "", "  ", math.nan])
def test_a_field_without_a_value_stops_the_build(context, empty):
    ctx = dict(context, bench=dict(context["bench"], e2e_delivered_per_s=empty))
    with pytest.raises(ReportFieldError, match=r"line \d+"):
        render.to_markdown(ctx)


def test_a_missing_field_stops_the_build(context):
    experiments = context["experiments"]
    figures = {k: v for k, v in experiments["failover"]["figures"].items() if k != "recovery_s"}
    experiments = dict(experiments, failover=dict(experiments["failover"], figures=figures))
    with pytest.raises(jinja2.UndefinedError):
        render.to_markdown(dict(context, experiments=experiments))


def test_a_failed_check_is_printed_as_failed(context):
    ex = context["experiments"]["failover"]
    failed = dict(ex, checks=dict.fromkeys(ex["checks"], False), passed=False)
    text = render.to_markdown(dict(context, experiments=dict(context["experiments"], failover=failed)))
    row = next(line for line in text.splitlines() if line.startswith("| <code>failover</code>"))
    assert row.count('<span class="fail">✗') == len(ex["checks"])
    assert "✓" not in row


def test_events_that_did_not_happen_are_printed_as_failures(context):
    """An experiment records None for an event that never came (circuit never opened, API never healthy
    again...): the report says so instead of stopping or printing nothing."""
    ex = {name: dict(r, figures=dict(r["figures"])) for name, r in context["experiments"].items()}
    ex["failover"]["figures"]["recovery_s"] = None
    ex["circuit-breaker"]["figures"].update(open_after_s=None, closed_after_fix_s=None)
    ex["health-detection"]["figures"].update(detection_s=None, recovery_s=None)
    ex["store-and-forward"]["figures"]["delivered_after_restart_s"] = None
    ctx = dict(context, experiments=ex)
    text = render.to_markdown(dict(ctx, targets=criteria.targets(ctx)))
    for failure in ("**o circuito não abriu**", "**não\nfechou**", "**não respondeu 503**",
                    "**não voltou a ficar saudável**", "não se recuperou"):
        assert failure in text, failure


@pytest.mark.slow  # renders the PDF (once per run: the session's `built`)
def test_every_path_of_the_component_map_exists(built):
    """The component → code table (section 2.3) names files and directories from the repository root."""
    _, text = built
    table = text[text.index('id="t-map"'):].split("\n\n")[1]  # the paragraph after the caption
    rows = table.splitlines()[2:]  # without the header and the separator
    paths = [path for row in rows for path in re.findall(r"`([^`]+)`", row.rstrip(" |").rsplit("|", 1)[1])]
    assert len(paths) >= len(rows) > 5
    missing = [path for path in paths if not list(REPO_DIR.glob(path.rstrip("/")))]
    assert not missing, missing


def test_field_guard():
    assert field(0) == 0 and field("x") == "x"
    for empty in (None, "", " ", math.nan):
        with pytest.raises(ReportFieldError):
            field(empty)


def test_without_dashboard_panels_the_build_says_to_render_them(tmp_path):
    with pytest.raises(data.ReportDataError, match="make render-dashboards"):
        dashboards.collect(tmp_path / "dashboards")
    (tmp_path / "dashboards").mkdir()
    with pytest.raises(data.ReportDataError, match="make render-dashboards"):
        dashboards.collect(tmp_path / "dashboards")


def test_a_missing_results_file_is_named(tmp_path):
    with pytest.raises(data.ReportDataError, match=r"results/bench/latest.json is missing: run `make bench`"):
        data.load(tmp_path)
    shutil.copytree(REPO_DIR / "results", tmp_path / "results",
                    ignore=shutil.ignore_patterns("dashboards", "*.png", "*.ndjson"))
    (tmp_path / "results" / "experiments" / "failover" / "latest.json").unlink()
    with pytest.raises(data.ReportDataError, match=r"failover/latest\.json is missing.*NAME=failover"):
        data.load(tmp_path)


def test_experiments_measured_at_one_commit_share_a_provenance_row():
    from report.data import merged_experiments

    def row(source: str, when: str, sha: str) -> dict[str, str]:
        return {"source": source, "when": when, "sha": sha}

    rows = [row("results/bench/latest.json", "t0", "aaa"),
            row("results/experiments/failover/latest.json", "t1", "bbb"),
            row("results/experiments/min-isr/latest.json", "t5", "ccc"),
            row("results/experiments/broker-kill/latest.json", "t3", "bbb")]
    assert merged_experiments(rows) == [
        row("results/bench/latest.json", "t0", "aaa"),
        row("results/experiments/{failover, broker-kill}/latest.json", "t3", "bbb"),
        row("results/experiments/min-isr/latest.json", "t5", "ccc")]
