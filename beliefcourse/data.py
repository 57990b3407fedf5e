"""Training and validation data for next-token prediction on an HMM, exactly.

Alignment (the one to remember; every other module relies on it)
-----------------------------------------------------------------
A model reads ``n = n_ctx`` tokens ``x_1..x_n`` (no BOS token; sequences start from the
stationary distribution). Position ``p`` (0-based, ``p = 0..n-1``)

* has seen ``x_1..x_{p+1}``;
* predicts ``x_{p+2}``: its ideal output is ``P(x_{p+2} | x_1..x_{p+1})``, stored in
  ``next_token_probs[:, p]``;
* has target belief ``belief_trajectories(hmm, x)[:, p + 1]`` (the belief after ``p + 1``
  tokens), stored in ``beliefs[:, p]``;
* has optimal expected loss ``h(p + 2)``, the myopic entropy
  ``H[X_{p+2} | X_1..X_{p+1}]`` in nats, stored in ``optimal_loss[p]``.

So the first token is never predicted, and the paper's training windows have ``n + 1``
tokens: inputs ``window[:, :-1]``, targets ``window[:, 1:]``.

Exact data
----------
:class:`ExactData` enumerates every positive-probability input sequence (Mess3 at n_ctx 10:
3^10 = 59,049) with its exact probability. From it:

* :meth:`ExactData.sample_batch` draws training batches. With ``targets="sampled"`` a batch
  is ``batch_size`` windows drawn i.i.d. from the exact window distribution -- the paper's
  method (it drew multinomial counts over all 3^11 windows, which is the same thing). With
  ``targets="expected"`` the inputs are drawn the same way but each position's target is the
  whole distribution ``P(x_{p+2} | x_1..x_{p+1})`` (a soft target). Position ``p``'s loss
  term is then ``E[CE_p | x_1..x_{p+1}]``, the conditional expectation of the sampled term
  given everything that position has read: a Rao-Blackwellised estimate. It has the same
  expectation (hence the same expected gradient) as sampled targets, and the sampling noise
  of the next token is gone, so each position's term has lower variance. The difference
  grows as training proceeds: the gradient of a soft target with respect to the logits is
  ``q - P(. | prefix)``, which vanishes for every sequence at the optimum, while a sampled
  target's ``q - onehot(x)`` does not. Measured on the paper's Mess3 model with batches of
  512: the summed variance of the gradient is 1.8x lower at initialisation and 370x lower
  after 1 M training tokens.
* :meth:`ExactData.exact_loss` is the exact expected cross-entropy per position,
  ``sum_seq P(seq) CE(next_token_probs[seq, p], model(seq)[p])``. This equals the paper's
  validation, ``sum_w P(w) -log q_p(w_{p+2})`` over all ``n + 1``-token windows ``w``:
  the model is causal, so ``q_p`` depends only on ``w_1..w_{p+1}``; summing ``P(w)`` over
  the tokens after ``w_{p+2}`` leaves ``P(w_1..w_{p+2})``, and
  ``P(w_1..w_{p+2}) = P(w_1..w_{p+1}) P(w_{p+2} | w_1..w_{p+1})``, so both sums are
  ``E_{x_1..x_{p+1}} sum_x P(x | x_1..x_{p+1}) (-log q_p(x))``. It costs one forward pass
  over ``N`` sequences instead of ``N * n_tokens`` windows. ``loss / optimal_loss`` is the
  paper's relative loss (1 is perfect).

Long contexts
-------------
:class:`StreamSampler` samples windows from the HMM directly (``HMM.sample``) when ``n_ctx``
is too long to enumerate.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from .enumerate import all_sequences
from .hmm import HMM, _positive_int

TARGETS = ("sampled", "expected")


def _check_targets(targets: str) -> None:
    if targets not in TARGETS:
        raise ValueError(f"targets must be one of {TARGETS}, got {targets!r}")


def _readonly(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


class ExactData:
    """Every positive-probability context of length ``n_ctx``, with exact probabilities.

    Parameters
    ----------
    hmm : HMM
    n_ctx : int >= 1
        Context length ``n`` (the model's ``n_ctx``).

    Attributes (numpy, read-only; ``N`` sequences, ``S`` states, ``X`` tokens)
    -------------------------------------------------------------------------
    inputs : int64 (N, n_ctx)
        Every positive-probability sequence ``x_1..x_n`` (lexicographic order).
    probs : float64 (N,)
        ``P(x_1..x_n)`` from the stationary start; sums to 1.
    beliefs : float64 (N, n_ctx, S)
        ``beliefs[:, p]`` = belief after ``p + 1`` tokens (position ``p``'s target).
    next_token_probs : float64 (N, n_ctx, X)
        ``next_token_probs[:, p] = P(x_{p+2} | x_1..x_{p+1})``.
    optimal_loss : float64 (n_ctx,)
        ``optimal_loss[p] = h(p + 2)`` in nats, the least achievable expected loss at ``p``.
    """

    def __init__(self, hmm: HMM, n_ctx: int):
        if not isinstance(hmm, HMM):
            raise TypeError(f"hmm must be an HMM, got {type(hmm).__name__}")
        self.hmm = hmm
        self.n_ctx = _positive_int(n_ctx, "n_ctx")
        seqs = all_sequences(hmm, self.n_ctx)
        self.inputs = _readonly(seqs.tokens)
        self.probs = _readonly(seqs.probs)
        self.beliefs = _readonly(seqs.beliefs[:, 1:])
        emit = hmm.T.sum(axis=2).T                                  # (S, X): P(x | state)
        self.next_token_probs = _readonly(self.beliefs @ emit)
        with np.errstate(divide="ignore", invalid="ignore"):
            plogp = np.where(self.next_token_probs > 0,
                             self.next_token_probs * np.log(self.next_token_probs), 0.0)
        self.optimal_loss = _readonly(-np.einsum("n,npx->p", self.probs, plogp))
        # torch copies for sampling (inverse-CDF draws) and validation
        cdf = np.cumsum(self.probs)
        self._cdf = torch.from_numpy(cdf / cdf[-1])
        self._inputs = torch.from_numpy(self.inputs.copy())
        self._next64 = torch.from_numpy(self.next_token_probs.copy())
        self._next = self._next64.float()
        self._probs = torch.from_numpy(self.probs.copy())

    def __len__(self) -> int:
        return len(self.probs)

    def __repr__(self) -> str:
        return (f"ExactData(n_sequences={len(self):,}, n_ctx={self.n_ctx}, "
                f"n_states={self.hmm.n_states}, n_tokens={self.hmm.n_tokens}, "
                f"mean optimal loss={self.optimal_loss.mean():.4f} nats)")

    # -------------------------------------------------------------- the paper's windows
    def windows(self) -> tuple[np.ndarray, np.ndarray]:
        """Every positive-probability window of ``n_ctx + 1`` tokens and its probability.

        Returns ``(tokens int64 (M, n_ctx + 1), probs float64 (M,))`` (Mess3 at n_ctx 10:
        177,147 windows). Inputs are ``tokens[:, :-1]`` and targets ``tokens[:, 1:]``.
        """
        last = self.next_token_probs[:, -1]                          # (N, X)
        seq, tok = np.nonzero(last > 0)                              # lexicographic order
        tokens = np.concatenate([self.inputs[seq], tok[:, None]], axis=1)
        return tokens, self.probs[seq] * last[seq, tok]

    def relative_loss(self, loss) -> np.ndarray:
        """Per-position ``loss / optimal_loss`` (1 = optimal); ``loss`` has shape ``(n_ctx,)``."""
        return np.asarray(loss, dtype=np.float64) / self.optimal_loss

    # -------------------------------------------------------------- training batches
    def sample_batch(self, batch_size: int, generator: torch.Generator | None = None,
                     targets: str = "sampled", device="cpu") -> tuple[Tensor, Tensor]:
        """Draw ``batch_size`` contexts i.i.d. by probability, with their targets.

        Returns ``(inputs, targets)`` torch tensors on ``device``: ``inputs`` int64
        ``(B, n_ctx)`` and either

        * ``targets="sampled"``: int64 ``(B, n_ctx)``, the next tokens -- ``inputs`` shifted
          left plus a final token drawn from ``next_token_probs[:, -1]``, i.e. a window drawn
          from :meth:`windows`'s distribution (the paper's method); or
        * ``targets="expected"``: float32 ``(B, n_ctx, X)``, the exact next-token
          distributions ``next_token_probs`` (soft targets; see the module docstring).

        ``generator`` (a CPU ``torch.Generator``) makes the draw reproducible.
        """
        batch_size = _positive_int(batch_size, "batch_size")
        _check_targets(targets)
        u = torch.rand(batch_size, generator=generator, dtype=torch.float64)
        idx = torch.searchsorted(self._cdf, u).clamp_(max=len(self) - 1)
        inputs = self._inputs[idx]
        if targets == "expected":
            return inputs.to(device), self._next[idx].to(device)
        final = torch.multinomial(self._next[idx, -1], 1, generator=generator)
        return inputs.to(device), torch.cat([inputs[:, 1:], final], dim=1).to(device)

    # -------------------------------------------------------------- exact validation
    @torch.no_grad()
    def exact_loss(self, model: torch.nn.Module, batch_size: int = 1024) -> np.ndarray:
        """Exact expected cross-entropy of ``model`` per position, shape ``(n_ctx,)``, nats.

        ``sum_seq P(seq) sum_x P(x | seq_1..seq_{p+1}) (-log q_p(x))`` over every context,
        in float64 after the model's forward pass. Equal to the paper's probability-weighted
        loss over all windows (module docstring). Runs on the model's device in batches of
        ``batch_size`` sequences; the model's train/eval mode is restored afterwards.
        """
        batch_size = _positive_int(batch_size, "batch_size")
        device = next(model.parameters()).device
        was_training = model.training
        model.eval()
        total = torch.zeros(self.n_ctx, dtype=torch.float64)
        try:
            for start in range(0, len(self), batch_size):
                sl = slice(start, start + batch_size)
                logits = model(self._inputs[sl].to(device))               # (b, n_ctx, X)
                logq = logits.double().log_softmax(-1).cpu()
                ce = -(self._next64[sl] * logq).sum(-1)                    # (b, n_ctx)
                total += self._probs[sl] @ ce
        finally:
            model.train(was_training)
        return total.numpy()


class StreamSampler:
    """Training windows sampled from the HMM itself, for contexts too long to enumerate.

    Each call to :meth:`sample_batch` draws ``batch_size`` fresh independent sequences of
    ``n_ctx + 1`` tokens from the stationary start (``HMM.sample``), so there is no dataset
    to run out of. ``seed`` is anything ``numpy.random.default_rng`` accepts.
    """

    def __init__(self, hmm: HMM, n_ctx: int, seed=None):
        if not isinstance(hmm, HMM):
            raise TypeError(f"hmm must be an HMM, got {type(hmm).__name__}")
        self.hmm = hmm
        self.n_ctx = _positive_int(n_ctx, "n_ctx")
        self.rng = np.random.default_rng(seed)

    def sample_batch(self, batch_size: int, targets: str = "sampled", device="cpu"
                     ) -> tuple[Tensor, Tensor]:
        """``(inputs int64 (B, n_ctx), targets)`` with the same meaning as
        :meth:`ExactData.sample_batch` (``"expected"`` gives float32 ``(B, n_ctx, X)``
        next-token distributions from the forward pass of the sampled inputs)."""
        batch_size = _positive_int(batch_size, "batch_size")
        _check_targets(targets)
        windows, _ = self.hmm.sample(batch_size, self.n_ctx + 1, seed=self.rng)
        inputs = torch.from_numpy(windows[:, :-1])
        if targets == "sampled":
            return inputs.to(device), torch.from_numpy(windows[:, 1:]).to(device)
        beliefs, _ = self.hmm.forward(windows[:, :-1])               # (B, n_ctx + 1, S)
        soft = beliefs[:, 1:] @ self.hmm.T.sum(axis=2).T             # (B, n_ctx, X)
        return inputs.to(device), torch.from_numpy(soft).float().to(device)


class MixtureData:
    """Training batches and held-out evaluation for a non-ergodic mixture (chapter 08).

    Each training sequence is drawn from *one* component, chosen at its start with
    probability ``w_k`` (:meth:`beliefcourse.mixture.Mixture.sample`), never from the block
    HMM's stationary distribution (which would not even be defined: the chain is reducible).
    Contexts of ``n_ctx`` tokens are far too many to enumerate (3^32 for Mess3 at n_ctx 32),
    so validation is on ``n_eval`` held-out sequences drawn once from ``eval_seed`` (a
    different stream from training), against the exact Bayes predictor along each of them
    (the mixture's filter). Same alignment as :class:`ExactData`: position ``p`` has read
    ``x_1..x_{p+1}`` and predicts ``x_{p+2}``.

    Per position ``p``, averaged over the held-out sequences (each term exact given the
    context, i.e. Rao-Blackwellised over the next token and the component):

    * ``optimal_loss[p]``: the Bayes loss ``H(P(. | x_1..x_{p+1}))``;
    * ``oracle_loss[p]``: ``sum_k m_k H(P_k(. | x_1..x_{p+1}))``, the loss of a predictor told
      the component; ``optimal_loss - oracle_loss`` is the in-context gap ``I(K; X_{p+2} |
      x_<=p+1)`` (:mod:`beliefcourse.incontext`);
    * :meth:`held_out_loss` ``(model)``: the model's expected cross-entropy
      ``-sum_x P(x | ..) ln q_p(x)``; its excess over ``optimal_loss`` is the mean KL from the
      Bayes predictor, with a paired standard error (``last_eval``).

    Attributes ``optimal_se``, ``oracle_se`` are the standard errors of the mean over
    sequences (positions of one sequence are correlated, so they are per position).
    """

    def __init__(self, mixture, n_ctx: int, n_eval: int = 4096, eval_seed=12345):
        from .mixture import Mixture

        if not isinstance(mixture, Mixture):
            raise TypeError(f"mixture must be a beliefcourse.mixture.Mixture, got "
                            f"{type(mixture).__name__}")
        self.mixture = mixture
        self.hmm = mixture.hmm
        self.n_ctx = _positive_int(n_ctx, "n_ctx")
        self.n_eval = _positive_int(n_eval, "n_eval")
        if self.n_eval < 2:
            raise ValueError("n_eval must be >= 2 to state standard errors")
        tokens, _, comps = mixture.sample(self.n_eval, self.n_ctx, seed=eval_seed)
        filt = mixture.filter(tokens)
        self.inputs = _readonly(tokens)
        self.components = _readonly(comps)
        self.meta = _readonly(filt.meta[:, 1:])                      # (N, n_ctx, K)
        self.within = _readonly(filt.within[:, 1:])                  # (N, n_ctx, K, S_max)
        self.beliefs = _readonly(filt.joint()[:, 1:])                # (N, n_ctx, n_states)
        self.next_token_probs = _readonly(filt.predictive[:, 1:])    # (N, n_ctx, X)

        def entropy(P):
            return -(P * np.log(np.where(P > 0, P, 1.0))).sum(-1)

        h_bayes = entropy(self.next_token_probs)                     # (N, n_ctx)
        h_oracle = (self.meta * entropy(filt.component_predictive[:, 1:])).sum(-1)
        sqrt_n = np.sqrt(self.n_eval)
        self.optimal_loss = _readonly(h_bayes.mean(0))
        self.optimal_se = _readonly(h_bayes.std(0, ddof=1) / sqrt_n)
        self.oracle_loss = _readonly(h_oracle.mean(0))
        self.oracle_se = _readonly(h_oracle.std(0, ddof=1) / sqrt_n)
        self._h_bayes = h_bayes
        self._inputs = torch.from_numpy(self.inputs.copy())
        self._next64 = torch.from_numpy(self.next_token_probs.copy())
        self.last_eval: dict | None = None

    def __len__(self) -> int:
        return self.n_eval

    def __repr__(self) -> str:
        return (f"MixtureData({self.mixture!r}, n_ctx={self.n_ctx}, n_eval={self.n_eval:,}, "
                f"mean Bayes loss={self.optimal_loss.mean():.4f} nats)")

    def relative_loss(self, loss) -> np.ndarray:
        """Per-position ``loss / optimal_loss`` (1 = the Bayes predictor), held-out."""
        return np.asarray(loss, dtype=np.float64) / self.optimal_loss

    def sample_batch(self, batch_size: int, generator: torch.Generator | None = None,
                     targets: str = "sampled", device="cpu") -> tuple[Tensor, Tensor]:
        """``batch_size`` fresh sequences, each from one component drawn at its start.

        Same ``(inputs, targets)`` as :meth:`ExactData.sample_batch`: ``"sampled"`` gives the
        next tokens, ``"expected"`` the exact Bayes predictive ``P(x_{p+2} | x_1..x_{p+1})``
        of the mixture (meta-belief average of the components' predictions). The numpy seed
        of each batch is drawn from ``generator``, so a run is reproducible.
        """
        batch_size = _positive_int(batch_size, "batch_size")
        _check_targets(targets)
        seed = int(torch.randint(0, 2 ** 62, (1,), generator=generator))
        length = self.n_ctx + (1 if targets == "sampled" else 0)
        tokens, _, _ = self.mixture.sample(batch_size, length, seed=seed)
        inputs = torch.from_numpy(tokens[:, :self.n_ctx])
        if targets == "sampled":
            return inputs.to(device), torch.from_numpy(tokens[:, 1:]).to(device)
        soft = self.mixture.filter(tokens).predictive[:, 1:]
        return inputs.to(device), torch.from_numpy(soft).float().to(device)

    @torch.no_grad()
    def held_out_loss(self, model: torch.nn.Module, batch_size: int = 1024) -> np.ndarray:
        """The model's mean cross-entropy against the Bayes predictive per position
        ``(n_ctx,)``, nats, over the held-out sequences. Also sets ``last_eval``: ``loss``,
        ``loss_se``, ``excess`` (mean KL(Bayes || model)) and ``excess_se`` per position."""
        batch_size = _positive_int(batch_size, "batch_size")
        device = next(model.parameters()).device
        was_training = model.training
        model.eval()
        ce = []
        try:
            for start in range(0, self.n_eval, batch_size):
                sl = slice(start, start + batch_size)
                logq = model(self._inputs[sl].to(device)).double().log_softmax(-1).cpu()
                ce.append(-(self._next64[sl] * logq).sum(-1))
        finally:
            model.train(was_training)
        ce = torch.cat(ce).numpy()                                    # (N, n_ctx)
        excess = ce - self._h_bayes
        sqrt_n = np.sqrt(self.n_eval)
        self.last_eval = {"loss": ce.mean(0), "loss_se": ce.std(0, ddof=1) / sqrt_n,
                          "excess": excess.mean(0),
                          "excess_se": excess.std(0, ddof=1) / sqrt_n}
        return ce.mean(0)
