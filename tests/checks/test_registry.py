"""The exercise registry (``beliefcourse.checks.exercises()``): every known mistake of every
exercise, run through its checker, gets a failing verdict that names *its* cause; every
exercise declares at least five; the records are well formed.

Hand-written wrong answers that the registry does not list live beside each chapter's other
checker tests (``test_chNN.py``), so that these tests do not merely re-run the registry
against itself."""

import re
from importlib import import_module

import numpy as np
import pytest
import torch

from beliefcourse import checks


def _declared():
    """``(exercise, known)`` pairs, chapter by chapter (a chapter not yet declaring its
    exercises is reported by :func:`test_every_chapter_declares_its_exercises`)."""
    pairs = []
    for n in checks.CHAPTERS:
        for ex in getattr(import_module(f"beliefcourse.checks.ch{n}"), "EXERCISES", ()):
            pairs += [(n, ex, k) for k in ex.mistakes]
    return pairs


KNOWN = _declared()


@pytest.mark.parametrize("chapter, exercise, known", KNOWN,
                         ids=[f"{n}-{ex.name}: {k.mistake}" for n, ex, k in KNOWN])
def test_known_mistake_is_named(chapter, exercise, known):
    result = exercise(known.wrong)
    assert result.status in ("failed", "error"), (
        f"the checker said {result.status!r} to {known.mistake!r}:\n{result.message}")
    assert re.search(known.cause, result.message, re.DOTALL), (
        f"the verdict on {known.mistake!r} does not name its cause {known.cause!r}:\n"
        f"{result.message}")


@pytest.mark.parametrize("chapter", checks.CHAPTERS)
def test_every_chapter_declares_its_exercises(chapter):
    module = import_module(f"beliefcourse.checks.ch{chapter}")
    declared = getattr(module, "EXERCISES", None)
    assert declared, f"beliefcourse.checks.ch{chapter} has no EXERCISES"
    for ex in declared:
        assert isinstance(ex, checks.Exercise)
        assert getattr(module, ex.checker) is ex, f"{ex.checker} is not the module's checker"
        assert len(ex.mistakes) >= 5, f"{ex.name}: fewer than five known mistakes"
        assert len({k.mistake for k in ex.mistakes}) == len(ex.mistakes), ex.name
    checkers = {name for name in dir(module) if name.startswith("check_")}
    assert checkers == {ex.checker for ex in declared}, "a checker outside EXERCISES"


def test_function_names_are_unique_across_the_course():
    names = [ex.name for n in checks.CHAPTERS
             for ex in getattr(import_module(f"beliefcourse.checks.ch{n}"), "EXERCISES", ())]
    assert len(names) == len(set(names))


# Plausible garbage: right type, often right shape, wrong values. Every exercise has some.
GARBAGE = [
    # 01
    ("stationary", lambda T: np.random.default_rng(0).dirichlet(np.ones(T.shape[1]))),
    ("sequence_probability", lambda T, pi, w: 0.5 ** len(w)),
    ("mess3_matrices", lambda x, a: np.full((3, 3, 3), 1 / 9)),
    ("sample", lambda T, pi, length, rng: (rng.integers(0, T.shape[0], length),
                                           rng.integers(0, T.shape[1], length + 1))),
    ("bigram_probabilities",
     lambda T, pi: np.full((T.shape[0], T.shape[0]), 1 / T.shape[0] ** 2)),
    ("same_token_probability", lambda T, pi, k: 1 / T.shape[0]),
    # 02
    ("update", lambda T, b, x: np.full(T.shape[1], 1 / T.shape[1])),
    ("next_token_distribution", lambda T, b: np.full(T.shape[0], 1 / T.shape[0])),
    ("belief_trajectory", lambda T, pi, w: np.full((len(w) + 1, T.shape[1]), 1 / T.shape[1])),
    ("state_uncertainty", lambda T, pi, L: float(np.log2(T.shape[1]))),
    ("myopic_entropy", lambda T, pi, L: float(np.log(T.shape[0]))),
    ("ideal_losses", lambda T, pi, w: np.full(len(w) - 1, np.log(T.shape[0]))),
    # 03
    ("build_msp", lambda T, pi, max_depth=20, atol=1e-9: (
        np.eye(T.shape[1]), -np.ones((T.shape[1], T.shape[0]), int))),
    ("build_msp", lambda T, pi, max_depth=20, atol=1e-9: None),
    ("recurrent_states", lambda s: np.ones(len(s), bool)),
    ("recurrent_states", lambda s: np.zeros(len(s), bool)),
    ("msp_entropy_rate", lambda T, b, s: np.log(T.shape[0])),
    ("chaos_game", lambda T, pi, n, seed=None, burn_in=100: np.tile(pi, (n, 1))),
    ("chaos_game", lambda T, pi, n, seed=None, burn_in=100: np.random.default_rng(
        seed).dirichlet(np.ones(T.shape[1]), n)),
    ("box_counting_dimension", lambda p, e: 1.0),
    ("box_counting_dimension", lambda p, e: float(np.asarray(p).shape[1])),
    ("next_token_classes", lambda T, b, atol=1e-9: np.zeros(len(b), int)),
    ("shortest_distinguishing_word", lambda T, e1, e2, max_length=6, atol=1e-9: None),
    ("shortest_distinguishing_word", lambda T, e1, e2, max_length=6, atol=1e-9: (0,)),
    # 04
    ("causal_attention",
     lambda q, k, v: (torch.zeros_like(q), torch.zeros(*q.shape[:-1], q.shape[-2]))),
    ("causal_attention", lambda q, k, v: None),
    ("influence", lambda model, tokens: np.zeros((len(tokens), len(tokens)))),
    ("influence", lambda model, tokens: np.triu(np.ones((len(tokens), len(tokens))))),
    ("influence", lambda model, tokens: model(tokens[None])[0, :, :1] * torch.ones(len(tokens))),
    ("relative_loss", lambda loss, h: np.ones_like(loss)),
    ("relative_loss", lambda loss, h: "1.0"),
    ("exact_loss", lambda z, n, p: np.zeros(z.shape[1])),
    ("exact_loss", lambda z, n, p: np.full(z.shape[1], np.nan)),
    ("training_step", lambda model, opt, x, y: 0.0),
    ("training_step", lambda model, opt, x, y: "0.5"),
    # 05
    ("fit_affine_probe", lambda X, Y, w=None: (np.zeros((X.shape[1], Y.shape[1])), Y.mean(0))),
    ("split_points", lambda N, L, f, s: (np.arange(N * L), np.array([], dtype=int))),
    ("shuffle_control", lambda a, b, c, d, rng: 0.11),
    ("beats_baselines", lambda t, b, f=2.0: ("shuffled", 10.0, True)),
    ("novel_prefix_mask", lambda t, tr, te: np.ones((len(te), t.shape[1]), dtype=bool)),
    ("choose_ridge_alpha", lambda X, Y, g, a, n_folds=5: (float(a[0]), np.ones(len(a)))),
    # 06
    ("future_distribution", lambda T, b, k: np.zeros(2 ** k)),
    ("next_token_ceiling", lambda b, p: 0.5),
    ("steering_move", lambda W, b, b2: np.zeros(W.shape[1])),
    ("gru_step", lambda x, h, *w: h),
    ("sign_test", lambda s, c: 0.05),
    # 07
    ("spectral_projectors", lambda T: (np.ones(len(T)), np.stack([np.eye(len(T))] * len(T)))),
    ("constrained_update", lambda T, pi, tokens, rate: np.tile(pi, (len(tokens), 1))),
    ("propagated_update", lambda T, pi, tokens: np.tile(pi, (len(tokens), 1))),
    ("heads_needed", lambda T: 1),
    ("fit_decay_rate", lambda a, d: 0.5),
    ("ov_vectors", lambda m: np.zeros((2, 6, 3, 16))),
    # 08
    ("meta_belief", lambda Ts, w, u: np.asarray(w)),
    ("incontext_gap", lambda m, P: 0.1),
    ("chernoff_information", lambda p, q: 0.25),
    ("decay_exponent", lambda t, g: 1.0),
    ("knowing_time", lambda m, c, thr: None),
]


def test_every_exercise_has_garbage_that_fails():
    assert {ex.name for ex in checks.exercises()} == {name for name, _ in GARBAGE}


@pytest.mark.parametrize("name, garbage", GARBAGE, ids=[name for name, _ in GARBAGE])
def test_garbage_fails(name, garbage):
    result = checks.find(name)(garbage)
    assert not result and "Traceback" not in result.message


@pytest.mark.parametrize("exercise", [ex for ex in checks.exercises() if ex.process_first
                                      is not None], ids=lambda ex: ex.name)
def test_a_right_answer_taking_the_process_later_is_told_so(exercise):
    def swapped(a, b, *rest):             # names that do not give the order away: tried
        return exercise.reference(b, a, *rest)

    def named(belief, T, *rest):          # an exercise with its own test: told by the names
        return None

    result = exercise(swapped if exercise.reference else named)
    assert not result and "takes the process first" in result.message, result.message


def test_unknown_chapter_is_a_clear_error():
    with pytest.raises(ValueError, match="chapters with exercises: 01"):
        checks.exercises("09")
