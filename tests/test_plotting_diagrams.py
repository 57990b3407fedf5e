"""beliefcourse.plotting_diagrams: the transformer diagram prints the sizes of its config."""

from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from beliefcourse import plotting_diagrams  # noqa: E402

pytestmark = pytest.mark.usefixtures("no_plt_show")


def _texts(ax):
    return "\n".join(t.get_text() for t in ax.texts)


def test_default_is_the_papers_model():
    text = _texts(plotting_diagrams.plot_transformer_diagram())
    for piece in ("(B, L, 64)", "(3, 64)", "(10, 64)", "64 → 256 → RELU → 64",
                  "× 4", "1 head of size 8", "(B, L, 3)", "resid_pre", "resid_mid",
                  "resid_post", "ln_final"):
        assert piece in text, piece


def test_sizes_come_from_the_config_and_the_axes_are_returned():
    cfg = SimpleNamespace(n_layers=2, d_model=32, n_heads=2, d_head=16, d_mlp=128, n_ctx=10,
                          d_vocab=3, act_fn="gelu")
    fig, ax = plt.subplots()
    assert plotting_diagrams.plot_transformer_diagram(cfg, ax=ax, title="tiny") is ax
    text = _texts(ax)
    assert "(B, L, 32)" in text and "× 2" in text and "2 heads of size 16" in text
    assert "32 → 128 → GELU → 32" in text and "(B, L, 64)" not in text
    assert ax.get_title() == "tiny"


def test_a_bad_size_is_named():
    with pytest.raises(ValueError, match="d_model"):
        plotting_diagrams.plot_transformer_diagram(SimpleNamespace(d_model=0))


def test_does_not_import_torch():
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(plotting_diagrams))
    modules = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
               for alias in node.names}
    modules |= {node.module for node in ast.walk(tree)
                if isinstance(node, ast.ImportFrom) and node.module}
    assert not any(m.split(".")[0] == "torch" for m in modules), modules
