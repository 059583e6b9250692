"""`make report`: the technical report (pt-BR PDF) built from the committed results files.

data.py loads the results into a context, criteria.py sets the acceptance criteria next to the
measured values, diagrams.py and charts.py draw the figures, dashboards.py picks the rendered
Grafana panels, labels.py names experiments and checks in Portuguese, fmt.py formats every field
(and refuses empty ones), render.py fills templates/relatorio.md.j2 and turns it into
docs/report/relatorio-tecnico.pdf.
"""
