"""beliefcourse.plotting: coordinates, colours, and what each plot draws."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.patches import Circle, FancyArrowPatch  # noqa: E402

from beliefcourse import msp, plotting, processes  # noqa: E402

SQ3 = np.sqrt(3.0)


pytestmark = pytest.mark.usefixtures("no_plt_show")


def _dirichlet(n, k, seed=0):
    return np.random.default_rng(seed).dirichlet(np.ones(k), size=n)


# ---------------------------------------------------------------------------- coordinates
def test_simplex_coordinates_corners_and_centroid():
    np.testing.assert_allclose(plotting.simplex_coordinates(np.eye(3)),
                               [[0, 0], [1, 0], [0.5, SQ3 / 2]], atol=1e-15)
    np.testing.assert_allclose(plotting.simplex_coordinates(np.full(3, 1 / 3)),
                               [0.5, SQ3 / 6], atol=1e-15)
    # midpoint of an edge, and any leading shape
    np.testing.assert_allclose(plotting.simplex_coordinates([0.5, 0.5, 0]), [0.5, 0])
    b = _dirichlet(24, 3).reshape(2, 4, 3, 3)
    assert plotting.simplex_coordinates(b).shape == (2, 4, 3, 2)


def test_simplex_coordinates_is_linear_and_keeps_off_simplex_points():
    # a probe's prediction slightly outside the simplex lands slightly outside the triangle
    xy = plotting.simplex_coordinates([1.1, -0.1, 0.0])
    assert xy[1] == pytest.approx(0.0) and xy[0] < 0


@pytest.mark.parametrize("bad", [np.ones((5, 4)), np.ones(2), np.ones((3, 2)), 3.0])
def test_simplex_coordinates_rejects_wrong_last_dim(bad):
    with pytest.raises(ValueError, match="3-state"):
        plotting.simplex_coordinates(bad)


def test_simplex_coordinates_rejects_nan_and_text():
    with pytest.raises(ValueError, match="NaN"):
        plotting.simplex_coordinates([np.nan, 0.5, 0.5])
    with pytest.raises(TypeError):
        plotting.simplex_coordinates([["a", "b", "c"]])


# ---------------------------------------------------------------------------- colours
def test_belief_colors_are_the_beliefs_for_three_states():
    b = _dirichlet(100, 3)
    np.testing.assert_allclose(plotting.belief_colors(b), b)
    np.testing.assert_allclose(plotting.belief_colors(np.eye(3)), np.eye(3))
    np.testing.assert_allclose(plotting.belief_colors([0, 1, 0]), [0, 1, 0])


@pytest.mark.parametrize("k", [2, 4, 5, 7])
def test_belief_colors_other_state_counts(k):
    c = plotting.belief_colors(_dirichlet(200, k, seed=k))
    assert c.shape == (200, 3) and c.min() >= 0 and c.max() <= 1
    corners = plotting.belief_colors(np.eye(k))
    # pure states get distinct, fully saturated colours; state 0 is red
    assert np.allclose(corners.max(axis=1), 1) and np.allclose(corners[0], [1, 0, 0])
    assert len(np.unique(corners.round(6), axis=0)) == k
    grey = plotting.belief_colors(np.full(k, 1 / k))
    assert np.ptp(grey) < 0.1                       # the uniform belief is (nearly) grey


def test_belief_colors_clips_probe_outputs_and_rejects_bad_shapes():
    c = plotting.belief_colors([[1.2, -0.1, -0.1]])
    assert c.min() >= 0 and c.max() <= 1
    with pytest.raises(ValueError, match="n_states >= 2"):
        plotting.belief_colors(np.ones((4, 1)))
    with pytest.raises(ValueError, match="NaN"):
        plotting.belief_colors([[np.inf, 0, 0]])


# ---------------------------------------------------------------------------- plot_simplex
def test_plot_simplex_draws_triangle_points_and_labels():
    b = _dirichlet(500, 3)
    fig, ax = plt.subplots()
    out = plotting.plot_simplex(b, ax=ax, s=2, labels=["A", "B", "C"], title="t")
    assert out is ax
    scatters = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert len(scatters) == 1 and len(scatters[0].get_offsets()) == 500
    np.testing.assert_allclose(scatters[0].get_facecolors()[:, :3], b)
    assert len(ax.lines) == 1                                     # the triangle
    assert [t.get_text() for t in ax.texts] == ["A", "B", "C"]
    assert ax.get_title() == "t"


def test_plot_simplex_accepts_any_colours_and_off_simplex_points():
    b = _dirichlet(30, 3)
    ax = plotting.plot_simplex(b, colors=np.array(["tab:red", "tab:green", "tab:blue"])[
        np.arange(30) % 3])
    assert len(ax.collections) == 1
    ax = plotting.plot_simplex(b, colors=plt.get_cmap("tab10")(np.arange(30) % 10))
    assert len(ax.collections) == 1
    far = np.array([[1.5, -0.3, -0.2], [0.3, 0.3, 0.4]])
    ax = plotting.plot_simplex(far, colors=plotting.belief_colors(b[:2]))
    assert ax.get_xlim()[0] < plotting.simplex_coordinates(far)[0, 0]


def test_plot_simplex_rejects_bad_input():
    with pytest.raises(ValueError, match="3 columns"):
        plotting.plot_simplex(np.ones((4, 5)) / 5)
    with pytest.raises(ValueError, match="one name per state"):
        plotting.plot_simplex(np.eye(3), labels=["A", "B"])
    with pytest.raises(TypeError, match="not a string"):
        plotting.plot_simplex(np.eye(3), labels="ABC")


# ---------------------------------------------------------------------------- belief path
def test_plot_belief_path_arrows_and_step_numbers():
    path = np.array([[1 / 3, 1 / 3, 1 / 3], [0.5, 0.5, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1],
                     [1, 0, 0], [1, 0, 0]])
    ax = plotting.plot_belief_path(path, labels=["S0", "S1", "SR"], title="z")
    arrows = [t for t in ax.texts if getattr(t, "arrow_patch", None) is not None]
    assert len(arrows) == 5                  # 6 steps, one of which does not move
    texts = [t.get_text() for t in ax.texts]
    assert "2, 5, 6" in texts and "0" in texts and "S0" in texts
    assert len(ax.collections) == 2          # the path, and the start drawn larger


def test_plot_belief_path_long_paths_number_fewer_steps():
    path = _dirichlet(41, 3)
    ax = plotting.plot_belief_path(path)
    numbers = [t for t in ax.texts if t.get_text() and getattr(t, "arrow_patch", 1) is None]
    assert 5 <= len(numbers) <= 12
    ax = plotting.plot_belief_path(path, number_steps=False)
    assert all(t.get_text() == "" for t in ax.texts)
    with pytest.raises(ValueError, match="number_steps"):
        plotting.plot_belief_path(path, number_steps=0)
    with pytest.raises(ValueError, match="3 columns"):
        plotting.plot_belief_path(_dirichlet(5, 4))


# ---------------------------------------------------------------------------- plot_hmm
@pytest.mark.parametrize("name", ["z1r", "mess3", "rrxor", "even_process", "golden_mean"])
def test_plot_hmm_one_arrow_per_state_pair(name):
    hmm = processes.get(name)
    ax = plotting.plot_hmm(hmm)
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    nodes = [p for p in ax.patches if isinstance(p, Circle)]
    assert len(nodes) == hmm.n_states
    assert len(arrows) == int((hmm.T.sum(axis=0) > 0).sum())
    texts = [t.get_text() for t in ax.texts]
    assert all(s in texts for s in hmm.state_names)


def test_plot_hmm_labels_read_token_colon_probability():
    ax = plotting.plot_hmm(processes.z1r())
    texts = [t.get_text() for t in ax.texts]
    assert "0: 1" in texts and "1: 1" in texts and "0: 0.5\n1: 0.5" in texts
    ax = plotting.plot_hmm(processes.mess3())
    assert "A: 0.765\nB: 0.0675\nC: 0.0675" in [t.get_text() for t in ax.texts]


def test_plot_hmm_msp_and_bad_input():
    z1r_msp = msp.mixed_state_presentation(processes.z1r()).as_hmm()
    ax = plotting.plot_hmm(z1r_msp, title="MSP")
    assert sum(isinstance(p, Circle) for p in ax.patches) == 7
    with pytest.raises(TypeError, match="HMM"):
        plotting.plot_hmm(np.eye(3))
    with pytest.raises(ValueError, match="positions"):
        plotting.plot_hmm(processes.z1r(), positions=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="precision"):
        plotting.plot_hmm(processes.z1r(), precision=0)


# ---------------------------------------------------------------------------- projections
def test_simplex_projection_tetrahedron_is_regular():
    coords, V = plotting.simplex_projection(np.eye(4), dims=3, method="simplex")
    d = np.linalg.norm(V[:, None] - V[None], axis=-1)[np.triu_indices(4, 1)]
    np.testing.assert_allclose(d, 1.0)
    np.testing.assert_allclose(coords, V)
    # three states: the triangle of simplex_coordinates, centred
    _, V3 = plotting.simplex_projection(np.eye(3), dims=2, method="auto")
    np.testing.assert_allclose(V3 + plotting.SIMPLEX_CORNERS.mean(0), plotting.SIMPLEX_CORNERS)


def test_simplex_projection_pca_orders_variance():
    b = _dirichlet(300, 5, seed=1)
    coords, V = plotting.simplex_projection(b, dims=3, method="pca")
    assert coords.shape == (300, 3) and V.shape == (5, 3)
    var = coords.var(axis=0)
    assert var[0] >= var[1] >= var[2]
    np.testing.assert_allclose(coords.mean(axis=0), 0, atol=1e-12)


def test_plot_simplex_projection_3d_and_2d():
    rr = msp.mixed_state_presentation(processes.rrxor())
    fig = plt.figure()
    ax3 = fig.add_subplot(1, 2, 1, projection="3d")
    out = plotting.plot_simplex_projection(rr.beliefs, dims=3, method="pca", ax=ax3,
                                           colors=plt.get_cmap("tab20")(np.arange(36) % 20),
                                           s=40, title="rrxor")
    assert out is ax3 and len(out.collections) == 1 and len(out.lines) == 10   # 5 choose 2
    ax = plotting.plot_simplex_projection(_dirichlet(50, 4), dims=3, labels=list("ABCD"))
    assert ax.name == "3d" and len(ax.lines) == 6
    ax = plotting.plot_simplex_projection(_dirichlet(50, 4), dims=2)
    assert ax.name != "3d" and len(ax.collections) == 1


def test_plot_simplex_projection_rejects_bad_input():
    b = _dirichlet(10, 5)
    with pytest.raises(ValueError, match="method='pca'"):
        plotting.simplex_projection(b, dims=3, method="simplex")
    with pytest.raises(ValueError, match="method"):
        plotting.simplex_projection(b, method="tsne")
    with pytest.raises(ValueError, match="dims"):
        plotting.simplex_projection(b, dims=4)
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="3-D axes"):
        plotting.plot_simplex_projection(b, dims=3, ax=ax)


def test_plot_joint_beliefs_draws_each_world_and_checks_shapes():
    from beliefcourse.mixture import joint_layout
    from beliefcourse.plotting import plot_joint_beliefs

    layout = joint_layout([3, 3])
    joints = np.array([[1, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0.5, 0.5], [0.5, 0, 0, 0.5, 0, 0.0]])
    ax = plot_joint_beliefs(joints, np.array([0, 1, 0]), layout, [3, 3])
    offsets = [c.get_offsets() for c in ax.collections]
    assert [len(o) for o in offsets] == [2, 1]
    np.testing.assert_allclose(offsets[1][0], layout[4:].mean(axis=0))   # on world 1's face
    with pytest.raises(ValueError, match="one world per row"):
        plot_joint_beliefs(joints[:, :5], np.array([0, 1, 0]), layout, [3, 3])
