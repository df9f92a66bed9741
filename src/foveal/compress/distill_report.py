"""What a distillation run adds to its run folder: ``distill.json``, ``distill.html`` and a tree's ``rules.txt``."""

from __future__ import annotations

from pathlib import Path

from foveal.files import atomic_write_text, write_json


def distill_page(summary: dict) -> str:
    from foveal.evaluation.report_html import esc, page, section, tiles

    values = {"fidelity (agreement with the teacher)": summary.get("fidelity"),
              f"student {summary.get('metric', 'accuracy')}": summary.get("student_score"),
              f"teacher {summary.get('metric', 'accuracy')}": summary.get("teacher_score")}
    how = (f"Student {esc(summary.get('student_model', ''))} fitted to the decisions of the teacher"
           if summary.get("fitted_to") else
           f"Student trained with temperature {summary.get('temperature')} and alpha {summary.get('alpha')}")
    body = [section("Fidelity and accuracy", tiles(values) +
                    f"<p class=\"note\">{how}; measured on {summary.get('n', 0)} validation images. Teacher: "
                    f"<code>{esc(summary['teacher'])}</code></p>")]
    if summary.get("rules"):
        body.append(section("Decision rules", f"<pre>{esc(summary['rules'])}</pre>"))
    return page("Distillation", "a student of a teacher bundle", body)


def write_distill_files(run_dir: Path, summary: dict) -> None:
    run_dir = Path(run_dir)
    write_json(run_dir / "distill.json", summary)
    atomic_write_text(run_dir / "distill.html", distill_page(summary))
    if summary.get("rules"):
        atomic_write_text(run_dir / "rules.txt", summary["rules"] + "\n")
