"""The checker framework (beliefcourse.checks._core): which outcome becomes which verdict, and
what the diagnoses of near misses and shape mismatches say."""

import signal
import time

import numpy as np
import pytest

from beliefcourse.checks._core import (
    Case,
    Exercise,
    Known,
    Mistake,
    as_tuple,
    describe_difference,
    describe_shapes,
    judge,
    nearest_known,
    run_checks,
)


def _ones_exercise(**kw):
    return Exercise(
        "ones", "ones(n) -> array", cases=lambda: [(f"For n = {n}", (n,)) for n in (1, 3, 5)],
        reference=lambda n: np.ones(n), advice="Return np.ones(n).",
        mistakes=(Known("returns zeros", lambda n: np.zeros(n), "You returned zeros."),
                  Known("one too many", lambda n: np.ones(n + 1), None, cause="expected shape"),
                  Known("doubles", lambda n: 2 * np.ones(n), "You doubled.",
                        recognise=lambda case: bool(np.all(case.got == 2)))), **kw)


check_ones = _ones_exercise()


def test_passed_failed_and_not_a_function():
    assert check_ones(lambda n: np.ones(n)).status == "passed"
    assert check_ones(np.ones(3)).status == "error"
    result = check_ones(lambda n: 3 * np.ones(n))
    assert result.status == "failed"
    assert result.message == ("For n = 1: expected [1.], got [3.] (largest difference 2 at index "
                              "0: expected 1, got 3; 1 of 1 entries differ). Return np.ones(n).")


def test_learners_own_assertion_is_an_error_in_their_code():
    def ones(n):
        assert n > 5, "n too small"
        return np.ones(n)

    result = check_ones(ones)
    assert result.status == "error"
    assert "your code raised AssertionError: n too small" in result.message
    assert "in `ones`, line" in result.message and "assert n > 5" in result.message
    assert "not the checker's verdict" in result.message


def test_crash_names_the_learners_line_and_a_checker_crash_blames_the_result():
    def ones(n):
        return np.ones(n)[n]

    result = check_ones(ones)
    assert result.status == "error"
    assert "IndexError" in result.message and "return np.ones(n)[n]" in result.message
    result = run_checks("ones", lambda n: "abc", lambda fn: np.ones(3) + fn(3))
    assert result.status == "error"
    assert "checking your function's result raised" in result.message


def test_stub_is_not_implemented_and_an_unfinished_helper_is_named():
    def normalise(v):
        raise NotImplementedError()

    result = check_ones(normalise)
    assert result.status == "not_implemented"
    assert "replace `raise NotImplementedError()` in `normalise`" in result.message

    def update(n):
        return normalise(np.ones(n))

    result = check_ones(update)
    assert result.status == "not_implemented"
    assert "`update` calls `normalise` (line" in result.message
    assert "return normalise(np.ones(n))" in result.message
    assert "Finish `normalise` first" in result.message


@pytest.mark.parametrize("got, want, phrase", [
    ((4, 3), (3, 4), "the transpose"),
    ((2, 4, 3), (2, 3, 4), "another order"),
    ((3,), (3, 1), "axis 1 of length 1 is missing"),
    ((5,), (5, 3), "axis 1 of length 3 is missing"),
    ((3, 1), (3,), "an extra axis 1 of length 1"),
    ((7, 5, 3), (5, 3), "an extra axis 0 of length 7"),
    ((6,), (2, 3), "arranged differently"),
])
def test_shape_diagnoses(got, want, phrase):
    text = describe_shapes(got, want)
    assert f"expected shape {want}, got {got}" in text
    assert phrase in text


def test_largest_difference_and_where():
    expected = np.arange(6.0).reshape(2, 3)
    got = expected.copy()
    got[1, 2] += 0.25
    got[0, 0] += 0.01
    text = describe_difference(got, expected)
    assert "largest difference 0.25 at index (1, 2): expected 5, got 5.25" in text
    assert "; 2 of 6 entries differ" in text
    assert "NaN or inf" in describe_difference(np.array([1.0, np.nan]), np.ones(2))


def test_judge_names_the_mistake_that_explains_every_case():
    cases = [Case("For a", np.array([2.0, 0.0]), np.array([1.0, 0.0]),
                  [("double", np.array([2.0, 0.0]), "You doubled it."),
                   ("plus one", np.array([2.0, 1.0]), "You added one.")]),
             Case("For b", np.array([4.0, 2.0]), np.array([2.0, 1.0]),
                  [("plus one", np.array([3.0, 2.0]), "You added one."),
                   ("double", np.array([4.0, 2.0]), "You doubled it.")])]
    with pytest.raises(Mistake, match="You doubled it"):
        judge(cases)
    with pytest.raises(Mistake, match=r"^(?!.*Misnamed)"):   # it predicts the right answer
        judge([Case("For c", 1.000005, 1.0, [("right here", 1.0 + 1e-9, "Misnamed.")])])


def test_notebook_cells_are_the_learners_code():
    """In Jupyter each cell is its own file: a helper from an earlier cell is still the
    learner's code, and its line is the one reported."""
    namespace = {"np": np}
    exec(compile("def helper(n):\n    assert n < 0, 'negative only'\n",
                 "/tmp/ipykernel_1/cell1.py", "exec"), namespace)
    exec(compile("def ones(n):\n    helper(n)\n    return np.ones(n)\n",
                 "/tmp/ipykernel_1/cell2.py", "exec"), namespace)
    result = check_ones(namespace["ones"])
    assert result.status == "error"
    assert "AssertionError: negative only (in `helper`, line 2" in result.message


def test_exercise_is_its_checker():
    check = _ones_exercise()
    assert check.__name__ == "check_ones"
    assert check(np.ones).status == "passed"
    assert "You returned zeros." in check(np.zeros).message
    assert "expected shape (1,), got (2,)" in check(lambda n: np.ones(n + 1)).message
    assert "You doubled." in check(lambda n: 2 * np.ones(n)).message
    assert check(lambda n: 3 * np.ones(n)).message.endswith("Return np.ones(n).")


def test_a_mistake_must_explain_every_wrong_case():
    result = _ones_exercise()(lambda n: np.zeros(n) if n == 1 else 3 * np.ones(n))
    assert "You returned zeros." not in result.message and "Return np.ones" in result.message


def test_inputs_are_copied_for_each_call():
    seen = []
    check = Exercise("first", "first(v) -> float", cases=lambda: [("For v", ([1.0, 2.0],))],
                     reference=lambda v: v[0], convert=lambda v, what: float(v), mistakes=())

    def first(v):
        seen.append(list(v))
        v[0] = 99.0
        return 1.0

    assert check(first) and seen == [[1.0, 2.0]]


@pytest.mark.skipif(not hasattr(signal, "SIGALRM"), reason="POSIX only")
def test_time_limit_ends_an_endless_loop_and_leaves_no_timer_or_handler():
    def spin(n):
        while True:
            try:
                time.sleep(0.01)
            except Exception:          # a learner's catch-all must not swallow the timeout
                pass

    before, start = signal.getsignal(signal.SIGALRM), time.perf_counter()
    result = _ones_exercise(time_limit=0.2)(spin)
    assert result.status == "failed" and "more than 0.2 s" in result.message
    assert time.perf_counter() - start < 5 and signal.getitimer(signal.ITIMER_REAL)[0] == 0.0
    assert signal.getsignal(signal.SIGALRM) == before


def test_exercise_needs_cases_and_reference_or_a_test():
    with pytest.raises(ValueError, match="give `cases` and `reference`, or `test`"):
        Exercise("x", "x()", cases=lambda: [])
    with pytest.raises(ValueError, match="give `cause`"):
        Known("silent", lambda: None, None)


def test_rows_are_known_mistakes_and_the_nearest_one_is_found():
    check = Exercise("ones", "ones(n) -> array", cases=lambda: [("For n = 2", (2,))],
                     reference=np.ones, mistakes=[("zeros", np.zeros, "You returned zeros.")])
    assert isinstance(check.mistakes[0], Known)
    assert nearest_known(check, (2,), lambda v: not v.any()) == "You returned zeros."
    assert nearest_known(check, (2,), lambda v: v.all()) is None


def test_arguments_in_another_order_are_named():
    check = Exercise("last", "last(T, belief, x) -> array", process_first=0,
                     cases=lambda: [("For one case", (np.eye(2)[None], np.ones(2), 0))],
                     reference=lambda T, b, x: b @ T[x])
    result = check(lambda u, v, w: w @ v[u])
    assert "works when called with its arguments in another order" in result.message


def test_tuples_repeats_exceptions_and_summaries():
    assert as_tuple([1, 2], "f", "(a, b)") == (1, 2)
    with pytest.raises(Mistake, match=r"return a pair \(a, b\), got tuple of length 3"):
        as_tuple((1, 2, 3), "f", "(a, b)")
    check = Exercise("ones", "ones(n)", lambda: [("For n = 2", (2,)), ("For 3", (3,)), ("4", (4,))],
                     np.ones, deterministic=": seed it", summary="{n} cases", mistakes=[
                         ("inverts", lambda n: np.linalg.inv(np.zeros((n, n))), "Use lstsq.",
                          "", None, np.linalg.LinAlgError)])
    assert check(np.ones).message == "3 cases"
    assert "must be deterministic: seed it." in check(lambda n: np.random.rand(n)).message
    assert "raised LinAlgError (Singular matrix). Use lstsq." in check(
        check.mistakes[0].wrong).message
