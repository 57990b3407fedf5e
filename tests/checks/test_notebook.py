"""In a notebook, a syntax error in the cell that defines an exercise function is reported as
that: by the checker cell's NameError, or by the checker when an older definition survives."""

import nbclient
import nbformat
import pytest

CELLS = [
    "from beliefcourse.checks import ch01 as checks\nimport numpy as np",
    "def stationary(T):\n    return np.ones(3) / 3 +\n",                     # 1: syntax error
    "checks.check_stationary(stationary)",                                   # 2: NameError
    "def stationary(T):\n    return np.full(T.shape[1], 1 / T.shape[1])",   # 3: runs
    "def stationary(T)\n    return 1",                                       # 4: syntax error
    "checks.check_stationary(stationary)",                                   # 5: stale
    "print(some_other_name)",                                                # 6: as usual
]


@pytest.fixture(scope="module")
def outputs():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in CELLS]
    nbclient.NotebookClient(nb, allow_errors=True, timeout=120, kernel_name="python3").execute()
    return [cell.outputs for cell in nb.cells]


def _text(outputs):
    return "\n".join(o.get("evalue", "") + "".join(o.get("traceback", []))
                     + o.get("data", {}).get("text/plain", "") for o in outputs)


def test_name_error_names_the_syntax_error(outputs):
    text = _text(outputs[2])
    assert "the cell that defines `stationary` has a SyntaxError" in text
    assert "`return np.ones(3) / 3 +`" in text and "Traceback" not in text


def test_checker_refuses_an_older_definition(outputs):
    text = _text(outputs[5])
    assert "ERROR stationary" in text and "expected ':'" in text
    assert "would judge an older `stationary`" in text


def test_other_name_errors_are_untouched(outputs):
    text = _text(outputs[6])
    assert "name 'some_other_name' is not defined" in text and "Traceback" in text
