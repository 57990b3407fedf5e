"""Every practice notebook against its checkers: each reference solution passes, each
untouched stub is reported "not implemented yet" (no traceback), verdicts are deterministic
(stored notebook outputs stay valid under nbval), no checker is left untested, and every
exercise function has at least five planted mistakes.

Planted mistakes and their diagnoses are tested per chapter in ``test_checks_chNN.py``.
"""

import pytest
from exercise_utils import (
    checker_name,
    load_exercise_namespace,
    load_planted,
    load_solution_namespace,
    planted_counts,
)

from beliefcourse.checks import ch01, ch02, ch03, ch04, ch05, ch06, ch07, ch08

# notebook -> (checker module, exercise functions); function f is checked by check_f unless
# exercise_utils.CHECKER_NAMES says otherwise
EXERCISES = {
    "01_hidden_markov_models.py": (ch01, ["stationary", "sequence_probability", "mess3_matrices",
                                          "sample", "bigram_probabilities",
                                          "same_token_probability"]),
    "02_belief_updating.py": (ch02, ["update", "next_token_distribution", "belief_trajectory",
                                     "state_uncertainty", "myopic_entropy", "ideal_losses"]),
    "03_mixed_state_presentation.py": (ch03, ["build_msp", "recurrent_states", "msp_entropy_rate",
                                              "chaos_game", "box_counting_dimension",
                                              "next_token_classes",
                                              "shortest_distinguishing_word"]),
    "04_training.py": (ch04, ["causal_attention", "influence", "relative_loss", "exact_loss",
                              "training_step"]),
    "05_probing.py": (ch05, ["fit_affine_probe", "split_points", "shuffle_control",
                             "beats_baselines", "novel_prefix_mask", "choose_ridge_alpha"]),
    "06_beyond_the_next_token.py": (ch06, ["future_distribution", "next_token_ceiling",
                                           "steering_move", "gru_step", "sign_test"]),
    "07_constrained_belief_updates.py": (ch07, ["spectral_projectors", "constrained_update",
                                                "heads_needed", "ov_vectors", "fit_decay_rate",
                                                "propagated_update"]),
    "08_in_context_learning.py": (ch08, ["meta_belief", "incontext_gap", "chernoff_information",
                                         "decay_exponent", "knowing_time"]),
}
CASES = [(nb, fn) for nb, (_, functions) in EXERCISES.items() for fn in functions]
IDS = [f"{nb[:2]}-{fn}" for nb, fn in CASES]


def _checker(notebook, function):
    return getattr(EXERCISES[notebook][0], checker_name(function))


@pytest.fixture(scope="module")
def namespaces():
    """Loaded on first use: {("solutions" | "exercises", notebook): namespace}."""
    cache = {}

    def get(kind, notebook):
        if (kind, notebook) not in cache:
            load = load_solution_namespace if kind == "solutions" else load_exercise_namespace
            cache[kind, notebook] = load(f"{kind}/{notebook}")
        return cache[kind, notebook]
    return get


@pytest.mark.parametrize("notebook, function", CASES, ids=IDS)
def test_solution_passes(namespaces, notebook, function):
    result = _checker(notebook, function)(namespaces("solutions", notebook)[function])
    assert result, result.message
    assert result.status == "passed"


@pytest.mark.parametrize("notebook, function", CASES, ids=IDS)
def test_stub_is_not_implemented(namespaces, notebook, function):
    result = _checker(notebook, function)(namespaces("exercises", notebook)[function])
    assert not result
    assert result.status == "not_implemented"
    assert "not implemented yet" in result.message.lower()
    assert "Traceback" not in result.message


@pytest.mark.parametrize("notebook, function", CASES, ids=IDS)
def test_verdicts_are_deterministic(namespaces, notebook, function):
    check, solution = _checker(notebook, function), namespaces("solutions", notebook)[function]
    assert check(solution).message == check(solution).message


@pytest.mark.parametrize("notebook", EXERCISES)
def test_every_checker_is_covered(notebook):
    module, functions = EXERCISES[notebook]
    defined = {name for name in dir(module) if name.startswith("check_")
               and getattr(getattr(module, name), "__module__", None) == module.__name__}
    assert defined == {checker_name(f) for f in functions}


@pytest.mark.parametrize("notebook", EXERCISES)
def test_five_planted_mistakes_per_function(notebook):
    _, functions = EXERCISES[notebook]
    counts = planted_counts(load_planted(notebook[:2]))
    assert set(counts) <= set(functions), "a planted mistake names an unknown function"
    few = {f: counts[f] for f in functions if counts[f] < 5}
    assert not few, f"fewer than five planted mistakes: {few}"
