"""Live dashboards without Grafana: the Grafana dashboards as Prometheus console templates.

    python -m monitoring.consoles           # (re)write monitoring/consoles/ and console_libraries/
    python -m monitoring.consoles --check   # exit 1 if the committed files are not what this builds

Prometheus serves them itself (`--web.console.templates`): http://127.0.0.1:9090/consoles/index.html.
They are made from the committed Grafana JSON (monitoring/panels.py reads it), so a panel exists
once, in monitoring/dashboards.py, and both views show the same queries. Graphs are Prometheus's
own console graphs (prom_console.js on Rickshaw, shipped with Debian's Prometheus); a page
re-queries every REFRESH_S seconds, so it follows a load test live. Panels that show one value
per series in Grafana (stat, gauge, pie, bar gauge) are a table of current values here.

Console templates are Go templates: no `{{` may reach the generated text except our own actions,
which is why Grafana's `{{label}}` legends are written as `[[label]]` (filled in by chat4all.lib).
"""

from __future__ import annotations

import html
import json
import re
import sys
from pathlib import Path
from typing import Any

import markdown

from monitoring import generated
from monitoring.panels import dashboards, panels

ROOT = Path(__file__).resolve().parent
CONSOLES = ROOT / "consoles"
LIBRARIES = ROOT / "console_libraries"
RUNBOOKS = ROOT.parent / "docs" / "runbooks.md"
REFRESH_S = 10
# Grafana's unit -> (axis title suffix, formatter name in chat4all.lib).
UNITS = {"mps": ("msg/s", "humanize"), "reqps": ("req/s", "humanize"), "s": ("s", "seconds"),
         "percentunit": ("%", "percent"), "bytes": ("bytes", "bytes"), "short": ("", "humanize")}
# Panel types Grafana reduces to one value per series; everything else is drawn over time.
SINGLE_VALUE = {"stat", "gauge", "piechart", "bargauge"}


def legend(fmt: str) -> str:
    """Grafana's `{{label}}` placeholders as `[[label]]` (safe inside a Go template)."""
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", r"[[\1]]", fmt)


def value_texts(panel: dict[str, Any]) -> dict[str, list[str]]:
    """{"0": [text, colour]} from a panel's value mappings (e.g. 0 -> DOWN, red)."""
    texts: dict[str, list[str]] = {}
    for mapping in panel.get("fieldConfig", {}).get("defaults", {}).get("mappings") or []:
        for value, result in (mapping.get("options") or {}).items():
            texts[value] = [result.get("text", value), result.get("color", "")]
    return texts


def panel_spec(panel: dict[str, Any]) -> dict[str, Any]:
    """What chat4all.lib needs to draw one panel: its queries, legends, unit and value texts."""
    unit = panel.get("fieldConfig", {}).get("defaults", {}).get("unit") or "short"
    units, formatter = UNITS.get(unit, ("", "humanize"))
    return {"exprs": [t["expr"] for t in panel["targets"]],
            "names": [legend(t.get("legendFormat", "")) for t in panel["targets"]],
            "units": units, "format": formatter, "texts": value_texts(panel)}


def panel_html(panel: dict[str, Any], element_id: str) -> tuple[str, str]:
    """(the panel's markup, the script line that fills it)."""
    width = panel.get("gridPos", {}).get("w", 12)
    kind = "values" if panel["type"] in SINGLE_VALUE else "graph"
    markup = (f'<section class="c4a-panel c4a-{kind}" style="grid-column: span {width}">'
              f'<h2>{html.escape(panel["title"])}</h2><div id="{element_id}"></div></section>')
    spec = json.dumps(panel_spec(panel))
    return markup, f"C4A.when_ready(function () {{ C4A.{kind}({json.dumps(element_id)}, {spec}); }});"


def nav(boards: dict[str, dict[str, Any]]) -> str:
    links = "".join(f'<a href="{slug}.html">{html.escape(board["title"])}</a>'
                    for slug, board in boards.items())
    return (f'<nav class="c4a-nav"><a href="index.html"><b>Chat4All</b></a>{links}'
            '<span class="c4a-right"><a href="runbooks.html">Runbooks</a>'
            '<a data-ui="alerts" href="/classic/alerts">Alerts</a>'
            '<a data-ui="targets" href="/classic/targets">Targets</a>'
            '<a data-ui="graph" href="/classic/graph">Graph</a></span></nav>')


def dashboard_page(slug: str, board: dict[str, Any], boards: dict[str, dict[str, Any]]) -> str:
    parts = [panel_html(panel, f"{slug}-{i}") for i, panel in enumerate(panels(board))]
    return "\n".join([
        f'{{{{ template "chat4all_head" "{html.escape(board["title"])}" }}}}',
        nav(boards),
        f'<header><h1>{html.escape(board["title"])}</h1><p>{html.escape(board.get("description", ""))}'
        f' Updated every {REFRESH_S} s <span id="c4a-updated"></span>.'
        ' Time range: <a href="?range=5m">5m</a> <a href="?range=15m">15m</a> <a href="?range=1h">1h</a>'
        ' <a href="?range=6h">6h</a>.</p></header>',
        '<main class="c4a-grid">', *(markup for markup, _ in parts), "</main>",
        "<script>", *(script for _, script in parts), "</script>",
        '{{ template "chat4all_tail" }}', ""])


def index_page(boards: dict[str, dict[str, Any]]) -> str:
    items = "".join(f'<li><a href="{slug}.html">{html.escape(board["title"])}</a>: '
                    f'{html.escape(board.get("description", ""))}</li>' for slug, board in boards.items())
    # Server-side at each load: the alerts firing now, straight from Prometheus' ALERTS series.
    firing = ('<h2>Alerts firing now</h2><table class="c4a-table"><tr><th>Alert</th><th>Severity'
              '</th><th>Labels</th></tr>{{ range query `ALERTS{alertstate="firing"}` }}<tr><td>'
              '{{ .Labels.alertname }}</td><td>{{ .Labels.severity }}</td><td>{{ .Labels }}</td></tr>'
              '{{ else }}<tr><td colspan="3">none</td></tr>{{ end }}</table>')
    return "\n".join([
        '{{ template "chat4all_head" "Dashboards" }}', nav(boards),
        "<header><h1>Chat4All dashboards</h1><p>The panels of the Grafana dashboards "
        "(monitoring/grafana/dashboards), live from this Prometheus.</p></header>",
        f"<main><ul>{items}</ul>{firing}",
        '<p>Alert rules: <a data-ui="rules" href="/classic/rules">rules</a>; '
        '<a href="runbooks.html">runbooks</a>; Alertmanager: http://127.0.0.1:9095/api/v2/alerts.</p></main>',
        '{{ template "chat4all_tail" }}', ""])


def runbooks_page(boards: dict[str, dict[str, Any]]) -> str:
    """docs/runbooks.md as a page Prometheus serves: each alert's runbook_url opens its section
    (the headings' ids are the anchors GitHub gives them). Literal `{{` is kept from Go."""
    body = markdown.markdown(RUNBOOKS.read_text(), extensions=["toc", "tables", "fenced_code"])
    body = body.replace("{{", '{{ "{{" }}')
    return "\n".join(['{{ template "chat4all_head" "Runbooks" }}', nav(boards),
                      f'<main class="c4a-doc">{body}</main>', '{{ template "chat4all_tail" }}', ""])


def generate() -> dict[Path, str]:
    boards = dashboards()
    files = {CONSOLES / f"{slug}.html": dashboard_page(slug, board, boards)
             for slug, board in boards.items()}
    files[CONSOLES / "index.html"] = index_page(boards)
    files[CONSOLES / "runbooks.html"] = runbooks_page(boards)
    files[LIBRARIES / "chat4all.lib"] = LIBRARY.replace("REFRESH_MS", str(REFRESH_S * 1000))
    return files


# The page frame and the drawing code every console shares. Rickshaw, d3 and prom_console.js are
# Debian's (served by Prometheus under /classic/static); C4A adds names, units, value tables and
# the periodic refresh.
LIBRARY = """{{/* Generated by monitoring/consoles.py: edit there. */}}
{{ define "chat4all_head" }}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ . }} - Chat4All</title>
<link rel="stylesheet" href="{{ pathPrefix }}/classic/static/rickshaw/rickshaw.min.css">
<link rel="stylesheet" href="{{ pathPrefix }}/classic/static/vendor/rickshaw/rickshaw.min.css">
<link rel="stylesheet" href="{{ pathPrefix }}/classic/static/css/prom_console.css">
<script>var PATH_PREFIX = "{{ pathPrefix }}";</script>
<style>
body { font-family: sans-serif; margin: 0 1em 2em; color: #222; }
.c4a-nav { padding: .6em 0; border-bottom: 1px solid #ccc; }
.c4a-nav a { margin-right: 1.2em; }
.c4a-right { float: right; }
header h1 { font-size: 1.4em; margin: .6em 0 .2em; }
header p { margin: 0 0 .8em; color: #555; }
.c4a-grid { display: grid; grid-template-columns: repeat(24, 1fr); gap: 12px; }
.c4a-panel { border: 1px solid #ddd; border-radius: 4px; padding: 6px 8px; min-width: 0; }
.c4a-panel h2 { font-size: 1em; margin: 0 0 4px; }
.c4a-table { border-collapse: collapse; }
.c4a-table td, .c4a-table th { border-bottom: 1px solid #eee; padding: 2px 10px 2px 0; text-align: left; }
.c4a-bar { display: inline-block; height: .8em; background: #7eb26d; }
.c4a-doc { max-width: 60em; line-height: 1.45; }
.c4a-doc pre { background: #f5f5f5; padding: .5em; overflow-x: auto; }
.c4a-doc table { border-collapse: collapse; }
.c4a-doc td, .c4a-doc th { border: 1px solid #ddd; padding: 2px 8px; }
.prom_graph_table { width: 100%; }
.rickshaw_legend { background: #fff; color: #222; }
.rickshaw_legend .label { color: #222; }
</style>
<script>
var C4A = {
  graphs: [], tables: [], queued: [],
  // Debian's Prometheus (the local stack, the compose stand-in) serves d3 and Rickshaw from its
  // own paths, the official image from vendor/: each library is tried at both, in order.
  libraries: [
    ["/classic/static/d3/d3.min.js", "/classic/static/vendor/rickshaw/vendor/d3.v3.js"],
    ["/classic/static/rickshaw/rickshaw.min.js", "/classic/static/vendor/rickshaw/rickshaw.min.js"],
    ["/classic/static/js/prom_console.js"]],
  load: function (libraries, done) {
    if (!libraries.length) { return done(); }
    var attempt = function (urls) {
      var script = document.createElement("script");
      script.src = PATH_PREFIX + urls[0];
      script.onload = function () { C4A.load(libraries.slice(1), done); };
      script.onerror = function () { script.remove(); if (urls.length > 1) { attempt(urls.slice(1)); } };
      document.head.appendChild(script);
    };
    attempt(libraries[0]);
  },
  ready: false,
  when_ready: function (draw) { if (C4A.ready) { draw(); } else { C4A.queued.push(draw); } },
  duration: (function () {
    var m = /[?&]range=(\\d+)([smh])/.exec(location.search);
    return m ? +m[1] * {s: 1, m: 60, h: 3600}[m[2]] : 900;
  })(),
  // prom_console.js writes 0 as "0.000e+0": zero is written "0" here.
  formatters: {
    humanize: function (v) { return v === 0 ? "0" : PromConsole.NumberFormatter.humanize(v); },
    bytes: function (v) { return v === 0 ? "0" : PromConsole.NumberFormatter.humanize1024(v) + "B"; },
    seconds: function (v) { return v === 0 ? "0" : PromConsole.NumberFormatter.humanize(v) + "s"; },
    percent: function (v) { return +(v * 100).toPrecision(3) + "%"; }
  },
  drawn: function () { C4A.ready = true; C4A.queued.forEach(function (draw) { draw(); }); },
  // Debian's Prometheus has only the classic UI (/classic/alerts...), the official image only
  // the new one (/alerts...): the links follow the one this server has.
  uiLinks: function () {
    fetch(PATH_PREFIX + "/classic/graph").then(function (r) {
      if (r.ok) { return; }
      document.querySelectorAll("a[data-ui]").forEach(function (a) {
        a.href = PATH_PREFIX + "/" + a.dataset.ui;
      });
    });
  },
  name: function (fmt) {
    return function (metric) {
      var text = fmt.replace(/\\[\\[\\s*(\\w+)\\s*\\]\\]/g, function (_, label) {
        return metric[label] === undefined ? "" : metric[label];
      });
      return text || JSON.stringify(metric);
    };
  },
  graph: function (id, spec) {
    var format = C4A.formatters[spec.format], states = Object.keys(spec.texts).map(Number), top;
    if (states.length) {  // an encoded state (circuit breaker): its words on the axis, all of them
      format = function (v) { var t = spec.texts[String(v)]; return t ? t[0] : ""; };
      top = Math.max.apply(null, states);
    }
    C4A.graphs.push(new PromConsole.Graph({
      node: document.getElementById(id), expr: spec.exprs, name: spec.names.map(C4A.name),
      duration: C4A.duration, endTime: Date.now() / 1000, yUnits: spec.units, xTitle: "",
      yAxisFormatter: format, yHoverFormatter: format, height: 200, min: 0, max: top}));
  },
  values: function (id, spec) {
    var table = {node: document.getElementById(id), spec: spec};
    C4A.tables.push(table);
    C4A.fill(table);
  },
  fill: function (table) {
    var spec = table.spec, format = C4A.formatters[spec.format];
    Promise.all(spec.exprs.map(function (expr) {
      return fetch(PATH_PREFIX + "/api/v1/query?query=" + encodeURIComponent(expr))
        .then(function (r) { return r.json(); });
    })).then(function (answers) {
      var rows = [];
      answers.forEach(function (answer, i) {
        (answer.data ? answer.data.result : []).forEach(function (r) {
          rows.push({name: C4A.name(spec.names[i])(r.metric), value: +r.value[1]});
        });
      });
      rows.sort(function (a, b) { return a.name < b.name ? -1 : 1; });
      var top = Math.max.apply(null, rows.map(function (r) { return r.value; }).concat([1e-9]));
      var t = document.createElement("table");
      t.className = "c4a-table";
      rows.forEach(function (r) {
        var text = spec.texts[String(r.value)], tr = t.insertRow();
        tr.insertCell().textContent = r.name;
        var cell = tr.insertCell(), bar = tr.insertCell();
        cell.textContent = text ? text[0] : format(r.value);
        if (text) { cell.style.color = text[1]; cell.style.fontWeight = "bold"; }
        else { bar.innerHTML = '<span class="c4a-bar"></span>';
               bar.firstChild.style.width = Math.round(200 * Math.max(r.value, 0) / top) + "px"; }
      });
      if (!rows.length) { t.insertRow().insertCell().textContent = "no data"; }
      table.node.replaceChildren(t);
    }).catch(function () { table.node.textContent = "Error loading data"; });
  },
  tick: function () {
    C4A.graphs.forEach(function (g) { g.params.endTime = Date.now() / 1000; g.dispatch(); });
    C4A.tables.forEach(C4A.fill);
    var stamp = document.getElementById("c4a-updated");
    if (stamp) { stamp.textContent = "(last " + new Date().toLocaleTimeString() + ")"; }
  }
};
C4A.load(C4A.libraries, function () { C4A.drawn(); setInterval(C4A.tick, REFRESH_MS); });
window.addEventListener("load", C4A.uiLinks);
</script>
</head><body>
{{ end }}
{{ define "chat4all_tail" }}</body></html>
{{ end }}
"""


def main(argv: list[str] | None = None) -> int:
    return generated.main(argv, __doc__.splitlines()[0], generate, "monitoring.consoles")


if __name__ == "__main__":
    sys.exit(main())
