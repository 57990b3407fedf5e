"""Checkers of practice notebook 02 beyond the registry (tests/checks/test_registry.py runs every
declared mistake): the process-first argument order, a learner's earlier function blamed
instead of the one that calls it, hand-written wrong answers, other correct answers, garbage."""

import numpy as np
import pytest

from beliefcourse.checks import ch02


def _notebook(source):
    """The functions of a notebook cell (their globals are the notebook's namespace)."""
    exec(source, namespace := {"np": np})
    return namespace


TRAJECTORY = """
def belief_trajectory(T, pi, tokens):
    rows = [np.asarray(pi, float)]
    for x in tokens:
        rows.append(update(T, rows[-1], x))
    return np.array(rows)
"""


def test_a_wrong_update_is_blamed_not_the_trajectory():
    ns = _notebook("def update(T, belief, x):\n    return belief @ T[x]\n" + TRAJECTORY)
    result = ch02.check_belief_trajectory(ns["belief_trajectory"])
    assert result.message.startswith("your `update` is wrong; fix it first"), result.message
    assert "not normalised" in result.message


def test_a_right_update_leaves_the_trajectory_its_own_verdict():
    ns = _notebook("def update(T, belief, x):\n    v = belief @ T[x]\n    return v / v.sum()\n"
                   + TRAJECTORY.replace("rows[-1], x))", "rows[-1], x))\n    rows.pop(0)"))
    result = ch02.check_belief_trajectory(ns["belief_trajectory"])
    assert "You left out the prior" in result.message and "fix it first" not in result.message


def test_ideal_losses_blames_a_wrong_next_token_distribution():
    ns = _notebook("def next_token_distribution(T, belief):\n    return belief @ T.sum(0)\n"
                   "def ideal_losses(T, pi, tokens):\n"
                   "    traj = [np.asarray(pi, float)]\n"
                   "    for x in tokens:\n"
                   "        v = traj[-1] @ T[x]\n"
                   "        traj.append(v / v.sum())\n"
                   "    return np.array([-np.log(next_token_distribution(T, traj[p + 1])"
                   "[tokens[p + 1]]) for p in range(len(tokens) - 1)])\n")
    result = ch02.check_ideal_losses(ns["ideal_losses"])
    assert "your `next_token_distribution` is wrong; fix it first" in result.message


@pytest.mark.parametrize("source", [
    "def update(eta, T, x):\n    v = eta @ T[x]\n    return v / v.sum()",
    "def update(q, M, k):\n    v = q @ M[k]\n    return v / v.sum()",
])
def test_the_old_order_gets_a_clear_message(source):
    result = ch02.check_update(_notebook(source)["update"])
    assert "takes the process first: update(T, belief, x)" in result.message, result.message


def test_ideal_losses_names_an_unfinished_earlier_exercise():
    def belief_trajectory(T, pi, tokens):
        raise NotImplementedError()

    def ideal_losses(T, pi, tokens):
        return belief_trajectory(T, pi, tokens)[1:, 0]

    result = ch02.check_ideal_losses(ideal_losses)
    assert result.status == "not_implemented"
    assert "`ideal_losses` calls `belief_trajectory`" in result.message


def test_a_hand_written_wrong_update_fails_with_advice():
    result = ch02.check_update(lambda T, b, x: (b @ T[x]) / (b @ T[x]).max())
    assert not result and "belief @ T[x]" in result.message


# ---------------------------------------------------------------------------- garbage


# ---------------------------------------------------------------------------- other correct answers
def _update_loops(T, belief, x):
    out = [sum(belief[i] * T[x, i, j] for i in range(T.shape[1])) for j in range(T.shape[1])]
    if sum(out) == 0:
        raise ValueError("token has probability zero")
    return [v / sum(out) for v in out]


@pytest.mark.parametrize("name, correct", [
    ("update", _update_loops),
    ("next_token_distribution", lambda T, b: [float(b @ T[x] @ np.ones(T.shape[1]))
                                              for x in range(T.shape[0])]),
    ("belief_trajectory", lambda T, pi, w: np.vstack(
        [pi] + [(lambda v: v / v.sum())(np.asarray(pi) @ np.linalg.multi_dot(
            [np.eye(len(pi))] + [T[x] for x in w[:t]] + [np.eye(len(pi))]))
            for t in range(1, len(w) + 1)]).tolist()),
])
def test_other_correct_answers_pass(name, correct):
    result = getattr(ch02, f"check_{name}")(correct)
    assert result, result.message
