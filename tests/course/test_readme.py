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
    for name in ("mess3", "rrxor", "mess3-gru", "mess3-lstm", "rrxor-gru", "rrxor-lstm"):
        rec = checkpoints.record(name)
        meta = rec["probe"]["meta"]
        arch = rec["model_config"]["arch"]
        what = "" if arch == "transformer" else f" {arch.upper()} (`{name}`, chapter 06)"
        lines += [
            f"**{meta['process']}**{what}, final checkpoint after {rec['tokens_seen']:,} tokens "
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


def grid_table() -> str:
    """Chapter 07's one-layer grid, from each record's ``"mechanism"`` entry
    (``python -m beliefcourse.grid --write``)."""
    from beliefcourse import grid

    lines = ["| model | relative loss | ζ | r* | fitted decay per head [95 %] | odd share "
             "| OV orientation (3α−1) | held-out R² resid_mid→r* | held-out R² ln_final→η |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name in grid.grid_names():
        rec = checkpoints.record(name)
        m = rec["mechanism"]
        lines.append(f"| {name} | {rec['relative_loss']:.6f} | {m['zeta']} | {m['r*']} | "
                     f"{m['fitted rate']} | {m['odd share']} | {m['OV orient.']} "
                     f"({m['3α−1']:+}) | {m['R² mid→r*']} | {m['R² post→η']} |")
    return "\n".join(lines) + "\n"


def test_readme_grid_table_matches_the_shipped_records():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    table = grid_table()
    assert table in readme, ("README.md's chapter 07 grid table is stale; replace it with:\n\n"
                             + table)
