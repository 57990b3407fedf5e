"""The constrained belief update (paper b) in numpy: spectrum, updates, prefix tree, R², r*."""

import numpy as np
import pytest

from beliefcourse import constrained as C
from beliefcourse.beliefs import belief_trajectories
from beliefcourse.enumerate import all_sequences
from beliefcourse.probing.metrics import r2
from beliefcourse.processes import mess3, rrxor


@pytest.mark.parametrize("x", [0.05, 0.15, 0.5])
def test_mess3_spectrum_is_one_and_double_zeta(x):
    s = C.spectrum(mess3(x, 0.6))
    assert np.allclose(s.eigenvalues, [1, 1 - 3 * x])
    assert list(s.multiplicities) == [1, 2]
    T = mess3(x, 0.6).transition_matrix
    assert np.allclose(np.einsum("k,kij->ij", s.eigenvalues, s.projectors), T)
    assert np.allclose(s.projectors.sum(0), np.eye(3))
    assert np.allclose(s.projectors[0], np.outer(np.ones(3), np.full(3, 1 / 3)))   # 1 pi
    assert np.allclose(s.projectors[1] @ s.projectors[1], s.projectors[1])
    assert C.zeta(mess3(x, 0.6)) == pytest.approx(1 - 3 * x)


def test_heads_needed_follow_the_sign_of_zeta():
    assert C.heads_needed(mess3(0.15, 0.6)) == 1
    assert C.heads_needed(mess3(0.5, 0.6)) == 2
    assert C.heads_needed(mess3(1 / 3, 0.6)) == 0          # memoryless chain


def test_rrxor_spectrum_is_complex_and_rejected():
    s = C.spectrum(rrxor())
    assert not s.is_real
    assert np.allclose(np.sort(np.abs(s.eigenvalues)), [0, 1, 1, 1])   # 1, cube roots, 0
    with pytest.raises(ValueError, match="complex"):
        C.heads_needed(rrxor())


def test_non_diagonalisable_matrix_is_rejected():
    with pytest.raises(ValueError, match="diagonalisable"):
        C.spectrum(np.array([[1.0, 1.0], [0.0, 1.0]]))


@pytest.mark.parametrize("alpha", [0.2, 0.6, 0.85])
def test_mess3_token_update_direction(alpha):
    u = C.token_updates(mess3(0.15, alpha))
    assert np.allclose(u[0], (3 * alpha - 1) / 6 * np.array([2, -1, -1]))
    assert np.allclose(u.sum(1), 0)
    # the three updates are 120 degrees apart
    cos = u[0] @ u[1] / (np.linalg.norm(u[0]) * np.linalg.norm(u[1]))
    assert cos == pytest.approx(-0.5)


def test_constrained_update_matches_the_spectral_sum():
    hmm = mess3(0.15, 0.6)
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, 3, size=(5, 7))
    u, pi, z = C.token_updates(hmm), hmm.stationary(), 1 - 3 * 0.15
    r = C.constrained_update(hmm, tokens, rate=z)
    for d in range(1, 8):
        direct = pi + sum(z ** (d - s) * u[tokens[:, s - 1]] for s in range(1, d + 1))
        assert np.allclose(r[:, d - 1], direct)
    # general form (T^(d-s)) equals the scalar form for Mess3
    assert np.allclose(C.constrained_update(hmm, tokens), r)
    # normalisation divides the deviation by sum_k |rate|^k
    rn = C.constrained_update(hmm, tokens, rate=z, normalise=True)
    N = np.cumsum(z ** np.arange(7))
    assert np.allclose(rn - pi, (r - pi) / N[None, :, None])


def test_first_position_is_one_exact_bayes_step():
    hmm = mess3(0.5, 0.2)
    tokens = np.array([[0, 1], [2, 2]])
    r = C.constrained_update(hmm, tokens, rate=-0.5)
    eta = belief_trajectories(hmm, tokens)[:, 1]
    assert np.allclose(r[:, 0], eta)


def test_prefix_tree_matches_enumeration():
    hmm = mess3(0.15, 0.6)
    tree = C.prefix_tree(hmm, 5)
    assert len(tree.depth) == 3 + 9 + 27 + 81 + 243
    seqs = all_sequences(hmm, 5)
    level5 = tree.depth == 5
    assert np.allclose(tree.beliefs[level5], seqs.beliefs[:, 5])
    assert np.allclose(tree.probs[level5], seqs.probs)
    assert np.allclose(tree.words[tree.depth == 2], 27)
    r_tree = C.tree_update(tree, 0.55)[level5]
    assert np.allclose(r_tree, C.constrained_update(hmm, seqs.tokens, 0.55)[:, -1])


def test_update_r2_equals_fit_over_all_positions_of_all_words():
    hmm = mess3(0.05, 0.85)
    L = 6
    seqs = all_sequences(hmm, L)
    r = C.constrained_update(hmm, seqs.tokens, 0.85).reshape(-1, 3)
    eta = seqs.beliefs[:, 1:].reshape(-1, 3)
    A = np.hstack([r, np.ones((len(r), 1))])
    coef, *_ = np.linalg.lstsq(A, eta, rcond=None)
    expected = r2(eta, A @ coef)
    assert C.update_r2(C.prefix_tree(hmm, L), 0.85) == pytest.approx(expected, abs=1e-10)


@pytest.mark.parametrize("x, alpha, value", [(0.05, 0.85, 0.734), (0.15, 0.6, 0.977),
                                             (0.5, 0.6, 0.964)])
def test_shared_notes_r2_values_at_length_10(x, alpha, value):
    tree = C.prefix_tree(mess3(x, alpha), 10)
    assert C.update_r2(tree, 1 - 3 * x) == pytest.approx(value, abs=5e-4)


def test_best_rate_differs_from_zeta_for_paper_a():
    fit = C.best_rate(C.prefix_tree(mess3(0.05, 0.85), 8), n_grid=21, n_refine=12)
    assert 0.4 < fit.rate < 0.65                 # far from zeta = 0.85
    assert fit.r2 > C.update_r2(C.prefix_tree(mess3(0.05, 0.85), 8), 0.85) + 0.1


def test_maps_shapes_and_orientation():
    m = C.mess3_maps([0.15, 0.5], [0.2, 0.6], L=5)
    assert m.zeta.shape == (2, 2) and np.allclose(m.zeta[0], [0.55, -0.5])
    assert np.array_equal(m.orientation[:, 0], [-1, 1])
    assert np.all(np.isfinite(m.r2_star)) and np.all(m.r2_star >= m.r2_zeta - 1e-9)


def test_bad_input():
    with pytest.raises(ValueError, match="normalise"):
        C.constrained_update(mess3(), [[0, 1]], normalise=True)
    with pytest.raises(TypeError):
        C.prefix_tree("mess3", 3)
    with pytest.raises(ValueError, match="L must"):
        C.prefix_tree(mess3(), 0)
    with pytest.raises(ValueError):
        C.mess3_maps([0.0], [0.5])


def test_per_position_fit_absorbs_the_normalisation_and_fits_at_least_as_well():
    from beliefcourse import constrained as C
    from beliefcourse.processes import mess3

    tree = C.prefix_tree(mess3(0.05, 0.85), 6)
    for w in ("words", "prob"):
        one = C.update_r2(tree, 0.5, weighting=w)
        per = C.update_r2(tree, 0.5, weighting=w, per_position=True)
        per_norm = C.update_r2(tree, 0.5, normalise=True, weighting=w, per_position=True)
        assert per >= one - 1e-12
        assert per_norm == pytest.approx(per, abs=1e-10)


def test_best_rate_bounds():
    from beliefcourse import constrained as C
    from beliefcourse.processes import mess3

    tree = C.prefix_tree(mess3(0.05, 0.85), 6)
    wide = C.best_rate(tree)
    narrow = C.best_rate(tree, bounds=(0.3, 0.7), n_grid=9, n_refine=12)
    assert narrow.rate == pytest.approx(wide.rate, abs=2e-3)
    with pytest.raises(ValueError, match="bounds"):
        C.best_rate(tree, bounds=(0.7, 0.3))
