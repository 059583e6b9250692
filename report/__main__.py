"""`make report` (python -m report): docs/report/relatorio-tecnico.pdf from the committed results."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import jinja2

from devstack.layout import REPO_DIR
from report.data import ReportDataError
from report.fmt import ReportFieldError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m report", description=__doc__)
    parser.add_argument("--out", type=Path, default=REPO_DIR / "docs" / "report" / "relatorio-tecnico.pdf",
                        help="PDF to write (default: %(default)s)")
    parser.add_argument("--keep", type=Path, help="also write the Markdown, HTML and figures into this dir")
    args = parser.parse_args(argv)
    from report.render import build  # after argparse: --help works without the PDF toolchain

    try:
        built = build(REPO_DIR, args.out, args.keep)
    except (ReportDataError, ReportFieldError, jinja2.UndefinedError) as exc:
        print(f"[report] ERROR: {exc}", file=sys.stderr)
        return 1
    print(f"[report] {built.pdf} ({built.pages} pages)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
