"""The README's results table is generated from the shipped checkpoints' JSON records.

``results_table()`` renders the table from the records; the README must contain it verbatim,
so a retrained checkpoint or a re-run probe (``python -m beliefcourse probe NAME --all
--write``) cannot leave stale numbers in the README. On failure the message prints the table
to paste.
"""

from conftest import REPO_ROOT

from beliefcourse import checkpoints


def _row(label, r) -> str:
    h, i = r["held_out"], r["in_sample"]
    return (f"| {label} | {r['n_features']} | {h['mse']:.2e} | {h['r2']:.4f} | "
            f"{h['mse_weighted']:.2e} | {i['r2']:.4f} |")


def results_table() -> str:
    lines = []
    for name in ("mess3", "rrxor"):
        rec = checkpoints.record(name)
        meta = rec["probe"]["meta"]
        lines += [
            f"**{meta['process']}**, final checkpoint after {rec['tokens_seen']:,} tokens "
            f"({rec['wall_seconds'] / 60:.0f} min on 2 CPU threads): mean relative loss "
            f"{rec['relative_loss']:.6f}. Probes fit on {meta['train_fraction']:.0%} of the "
            f"sequences, scored on the other {1 - meta['train_fraction']:.0%}.",
            "",
            "| features | dim | held-out MSE | held-out R² | held-out MSE (prob.-weighted) "
            "| in-sample R² |",
            "|---|---|---|---|---|---|",
        ]
        lines += [_row(f"{r['label']}, {r['kind']}", r) for r in rec["probe"]["rows"]]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def test_readme_results_match_the_shipped_records():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    table = results_table()
    assert table in readme, ("README.md's results table is stale; replace it with:\n\n"
                             + table)
