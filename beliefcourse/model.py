"""A small transformer (and GRU and LSTM baselines) that exposes its residual stream.

This file is meant to be read in one sitting. It re-implements the part of TransformerLens's
``HookedTransformer`` that the paper used, with the same field names and the same hook
names, so that code written against TransformerLens reads the same here:

    tokens (B, L)
      -> hook_embed + hook_pos_embed                  = blocks.0.hook_resid_pre   (B, L, d_model)
      for each block l (pre-LN):
         resid_mid  = resid_pre + Attention(LN1(resid_pre))   blocks.l.hook_resid_mid
         resid_post = resid_mid + MLP(LN2(resid_mid))         blocks.l.hook_resid_post
      -> ln_final (ln_final.hook_normalized) -> unembed -> logits (B, L, d_vocab)

There is no BOS token: position ``p`` (0-based) has read tokens ``0..p`` and its logits
predict token ``p + 1`` (see :mod:`beliefcourse.data` for how that lines up with beliefs).

``forward`` stores nothing. ``run_with_cache(tokens, names)`` additionally returns the
requested intermediate tensors, keyed by hook name. Attention is written out by hand (one
fused QKV matrix, a causal mask, softmax): at these sizes it is faster than
``nn.MultiheadAttention`` and it lets us return the attention pattern.

Initialisation follows TransformerLens's default ("gpt2" mode): every weight matrix and both
embeddings ~ Normal(0, 0.8 / sqrt(d_model)), biases 0, LayerNorm scale 1 and shift 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, fields

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .hmm import _positive_int

Recorder = Callable[[str, Tensor], None]
"""Called as ``record(hook_name, tensor)`` while a cached forward pass runs."""

ACTIVATIONS = {"relu": F.relu, "gelu": F.gelu}


def _check_positive_int(obj, *names: str) -> None:
    for name in names:
        setattr(obj, name, _positive_int(getattr(obj, name), f"{type(obj).__name__}.{name}"))


class _ConfigMixin:
    """``to_dict`` / ``from_dict`` shared by the model configs (JSON-friendly)."""

    arch: str  # set by each subclass; stored in the dict so records can be rebuilt

    def to_dict(self) -> dict:
        """Plain dict of the fields plus ``"arch"``; the inverse of :meth:`from_dict`."""
        return {"arch": self.arch, **asdict(self)}

    @classmethod
    def from_dict(cls, d: dict):
        """Rebuild a config from :meth:`to_dict` output; unknown keys raise ``ValueError``."""
        d = dict(d)
        arch = d.pop("arch", cls.arch)
        if arch != cls.arch:
            raise ValueError(f"{cls.__name__}.from_dict got arch={arch!r}, expected {cls.arch!r}")
        valid = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - valid)
        if unknown:
            raise ValueError(f"unknown {cls.__name__} field(s) {unknown}; valid: {sorted(valid)}")
        return cls(**d)


@dataclass
class TransformerConfig(_ConfigMixin):
    """Shape of a :class:`Transformer`; TransformerLens ``HookedTransformerConfig`` names.

    The defaults are the paper's Mess3 model: 4 layers, d_model 64, one head of size 8,
    d_mlp 256, context 10, vocabulary 3, ReLU, pre-LayerNorm (143,075 parameters).
    ``normalization`` is ``"LN"`` (LayerNorm before attention, MLP and unembedding) or
    ``None`` (no normalisation).
    """

    n_layers: int = 4
    d_model: int = 64
    n_heads: int = 1
    d_head: int = 8
    d_mlp: int = 256
    n_ctx: int = 10
    d_vocab: int = 3
    act_fn: str = "relu"
    normalization: str | None = "LN"

    arch = "transformer"

    def __post_init__(self):
        _check_positive_int(self, "n_layers", "d_model", "n_heads", "d_head", "d_mlp",
                            "n_ctx", "d_vocab")
        if self.act_fn not in ACTIVATIONS:
            raise ValueError(f"act_fn must be one of {sorted(ACTIVATIONS)}, got {self.act_fn!r}")
        if self.normalization not in ("LN", None):
            raise ValueError(f"normalization must be 'LN' or None, got {self.normalization!r}")


@dataclass
class _RecurrentConfig(_ConfigMixin):
    """Shape of a recurrent baseline: ``n_layers`` stacked layers of width ``d_hidden``.

    ``n_ctx`` is the training context length (the network itself accepts any length).
    """

    n_layers: int = 2
    d_hidden: int = 64
    n_ctx: int = 10
    d_vocab: int = 3

    def __post_init__(self):
        _check_positive_int(self, "n_layers", "d_hidden", "n_ctx", "d_vocab")


@dataclass
class GRUConfig(_RecurrentConfig):
    """Shape of a :class:`GRUModel`: ``n_layers`` stacked GRUs of width ``d_hidden``.

    ``n_ctx`` is the training context length (the GRU itself accepts any length).
    """

    arch = "gru"


@dataclass
class LSTMConfig(_RecurrentConfig):
    """Shape of an :class:`LSTMModel`: ``n_layers`` stacked LSTMs of width ``d_hidden``
    (56 by default: the size of a 64-wide GRU).

    ``n_ctx`` is the training context length (the LSTM itself accepts any length).
    """

    d_hidden: int = 56

    arch = "lstm"


def config_from_dict(d: dict) -> TransformerConfig | GRUConfig | LSTMConfig:
    """Rebuild a model config from its ``to_dict()``, dispatching on ``d["arch"]``."""
    configs = {c.arch: c for c in (TransformerConfig, GRUConfig, LSTMConfig)}
    arch = d.get("arch")
    if arch not in configs:
        raise ValueError(f"model config has arch={arch!r}; expected one of {sorted(configs)}")
    return configs[arch].from_dict(d)


# ---------------------------------------------------------------------------- transformer
def _norm(cfg: TransformerConfig) -> nn.Module:
    return nn.LayerNorm(cfg.d_model, eps=1e-5) if cfg.normalization == "LN" else nn.Identity()


class Attention(nn.Module):
    """Causal multi-head self-attention, scores scaled by ``1 / sqrt(d_head)``."""

    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.n_heads, self.d_head = cfg.n_heads, cfg.d_head
        self.qkv = nn.Linear(cfg.d_model, 3 * cfg.n_heads * cfg.d_head)  # W_Q, W_K, W_V fused
        self.out = nn.Linear(cfg.n_heads * cfg.d_head, cfg.d_model)      # W_O
        mask = torch.ones(cfg.n_ctx, cfg.n_ctx, dtype=torch.bool).triu(1)  # True above diagonal
        self.register_buffer("future", mask, persistent=False)

    def forward(self, x: Tensor, record: Recorder | None, prefix: str) -> Tensor:
        """``x (B, L, d_model)`` -> ``(B, L, d_model)``; records ``{prefix}.hook_pattern``."""
        B, L, _ = x.shape
        q, k, v = self.qkv(x).view(B, L, 3, self.n_heads, self.d_head).permute(2, 0, 3, 1, 4)
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.d_head)        # (B, H, L, L)
        scores = scores.masked_fill(self.future[:L, :L], float("-inf"))
        pattern = scores.softmax(dim=-1)                                  # rows: query positions
        if record:
            record(f"{prefix}.hook_pattern", pattern)
        z = (pattern @ v).transpose(1, 2).reshape(B, L, self.n_heads * self.d_head)
        return self.out(z)


class MLP(nn.Module):
    """``d_model -> d_mlp -> act_fn -> d_model``."""

    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.fc_in = nn.Linear(cfg.d_model, cfg.d_mlp)    # W_in
        self.fc_out = nn.Linear(cfg.d_mlp, cfg.d_model)   # W_out
        self.act = ACTIVATIONS[cfg.act_fn]

    def forward(self, x: Tensor) -> Tensor:
        return self.fc_out(self.act(self.fc_in(x)))


class Block(nn.Module):
    """Pre-LN residual block: attention then MLP, each reading a normalised residual."""

    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.ln1, self.attn = _norm(cfg), Attention(cfg)
        self.ln2, self.mlp = _norm(cfg), MLP(cfg)

    def forward(self, resid: Tensor, record: Recorder | None, prefix: str) -> Tensor:
        """``resid (B, L, d_model)`` -> same shape; records resid_pre / mid / post etc."""
        if record:
            record(f"{prefix}.hook_resid_pre", resid)
        attn_out = self.attn(self.ln1(resid), record, f"{prefix}.attn")
        resid = resid + attn_out
        mlp_out = self.mlp(self.ln2(resid))
        if record:
            record(f"{prefix}.hook_attn_out", attn_out)
            record(f"{prefix}.hook_resid_mid", resid)
            record(f"{prefix}.hook_mlp_out", mlp_out)
        resid = resid + mlp_out
        if record:
            record(f"{prefix}.hook_resid_post", resid)
        return resid


class _HookedModel(nn.Module):
    """Shared ``run_with_cache`` for models whose ``_run(tokens, record)`` records hooks."""

    cfg: TransformerConfig | GRUConfig | LSTMConfig

    @property
    def hook_names(self) -> list[str]:
        """Every name :meth:`run_with_cache` accepts, in the order the forward pass meets them."""
        raise NotImplementedError

    def _run(self, tokens: Tensor, record: Recorder | None) -> Tensor:
        raise NotImplementedError

    def _check_tokens(self, tokens: Tensor) -> None:
        """Type and shape always; the values (``0 <= token < d_vocab``) only for a tensor on
        the CPU, where a learner calls in. On an accelerator ``tokens.min()`` would make
        every training step wait for the device (a sync); there the batches come from
        :mod:`beliefcourse.data` (valid by construction) and ``nn.Embedding``'s own
        device-side check stops an out-of-range token."""
        if not isinstance(tokens, Tensor) or tokens.dtype not in (torch.int64, torch.int32):
            raise TypeError("tokens must be an integer torch tensor of shape (batch, length); "
                            f"got {type(tokens).__name__} "
                            f"{getattr(tokens, 'dtype', '')}".rstrip())
        if tokens.ndim != 2:
            raise ValueError(f"tokens must have shape (batch, length), got {tuple(tokens.shape)}")
        if tokens.device.type != "cpu" or not tokens.numel():
            return
        if tokens.min() < 0 or tokens.max() >= self.cfg.d_vocab:
            raise ValueError(f"tokens must lie in 0..{self.cfg.d_vocab - 1} (d_vocab = "
                             f"{self.cfg.d_vocab}), got values {int(tokens.min())}.."
                             f"{int(tokens.max())}")

    def forward(self, tokens: Tensor) -> Tensor:
        """``tokens (B, L)`` int64 -> ``logits (B, L, d_vocab)``; stores nothing."""
        self._check_tokens(tokens)
        return self._run(tokens, None)

    def run_with_cache(self, tokens: Tensor, names: Iterable[str] | str | None = None
                       ) -> tuple[Tensor, dict[str, Tensor]]:
        """Forward pass that also returns intermediate tensors by hook name.

        ``names`` is one hook name, an iterable of names, or ``None`` for all of
        :attr:`hook_names`. Returns ``(logits (B, L, d_vocab), cache)``. The cached tensors
        are the live ones (still attached to the graph when gradients are on); wrap the call
        in ``torch.no_grad()`` for analysis. Unknown names raise ``ValueError``.
        """
        valid = self.hook_names
        wanted = set(valid) if names is None else {names} if isinstance(names, str) else set(names)
        unknown = sorted(wanted - set(valid))
        if unknown:
            raise ValueError(f"unknown hook name(s) {unknown}; valid names: {valid}")
        self._check_tokens(tokens)
        cache: dict[str, Tensor] = {}

        def record(name: str, tensor: Tensor) -> None:
            if name in wanted:
                cache[name] = tensor

        logits = self._run(tokens, record)
        return logits, {name: cache[name] for name in valid if name in cache}


class Transformer(_HookedModel):
    """Decoder-only transformer: embeddings, ``n_layers`` pre-LN blocks, final LN, unembed.

    Parameters mirror TransformerLens: ``embed`` (W_E, ``(d_vocab, d_model)``), ``pos_embed``
    (W_pos, ``(n_ctx, d_model)``), per block ``attn.qkv`` (W_Q, W_K, W_V stacked),
    ``attn.out`` (W_O), ``mlp.fc_in`` / ``mlp.fc_out`` (W_in / W_out), then ``ln_final``
    and ``unembed`` (W_U, b_U).
    """

    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        if not isinstance(cfg, TransformerConfig):
            raise TypeError(f"cfg must be a TransformerConfig, got {type(cfg).__name__}")
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.d_vocab, cfg.d_model)
        self.pos_embed = nn.Embedding(cfg.n_ctx, cfg.d_model)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
        self.ln_final = _norm(cfg)
        self.unembed = nn.Linear(cfg.d_model, cfg.d_vocab)
        self._init_weights()

    def _init_weights(self) -> None:
        std = 0.8 / math.sqrt(self.cfg.d_model)
        for module in self.modules():
            if isinstance(module, (nn.Linear, nn.Embedding)):
                nn.init.normal_(module.weight, mean=0.0, std=std)
            if isinstance(module, nn.Linear):
                nn.init.zeros_(module.bias)
            # nn.LayerNorm already starts at weight 1, bias 0

    @property
    def hook_names(self) -> list[str]:
        names = ["hook_embed", "hook_pos_embed"]
        for l in range(self.cfg.n_layers):
            names += [f"blocks.{l}.hook_resid_pre", f"blocks.{l}.attn.hook_pattern",
                      f"blocks.{l}.hook_attn_out", f"blocks.{l}.hook_resid_mid",
                      f"blocks.{l}.hook_mlp_out", f"blocks.{l}.hook_resid_post"]
        return names + ["ln_final.hook_normalized"]

    def _run(self, tokens: Tensor, record: Recorder | None) -> Tensor:
        L = tokens.shape[1]
        if L > self.cfg.n_ctx:
            raise ValueError(f"sequence length {L} exceeds n_ctx = {self.cfg.n_ctx}")
        tok = self.embed(tokens)                                          # (B, L, d_model)
        pos = self.pos_embed.weight[:L]                                   # (L, d_model)
        if record:
            record("hook_embed", tok)
            record("hook_pos_embed", pos.expand_as(tok))
        resid = tok + pos
        for l, block in enumerate(self.blocks):
            resid = block(resid, record, f"blocks.{l}")
        normalized = self.ln_final(resid)
        if record:
            record("ln_final.hook_normalized", normalized)
        return self.unembed(normalized)                                   # (B, L, d_vocab)


# ---------------------------------------------------------------------------- recurrent baselines
class _RecurrentModel(_HookedModel):
    """Embedding, ``n_layers`` stacked one-layer recurrent nets, final LayerNorm, unembed.

    The GRU and LSTM baselines differ only in the recurrent layer (``layer``), the name of
    its module list (``layers_name``: ``grus`` / ``lstms``, kept so stored state dicts and
    hook names load unchanged) and what each layer records (:meth:`_record_layer`).
    Parameters are created in one order, embedding, layers, LayerNorm, unembedding, then the
    embeddings are re-drawn: a seeded untrained model is the same, bit for bit, as before
    this base existed (the records' untrained controls depend on it;
    ``tests/test_model_lstm.py`` checks it).
    """

    config_class: type
    layer: type[nn.RNNBase]
    layers_name: str

    def __init__(self, cfg):
        super().__init__()
        if not isinstance(cfg, self.config_class):
            raise TypeError(f"{type(self).__name__} needs cfg of type "
                            f"{self.config_class.__name__}, got {type(cfg).__name__}")
        self.cfg = cfg
        d = cfg.d_hidden
        self.embed = nn.Embedding(cfg.d_vocab, d)
        setattr(self, self.layers_name,
                nn.ModuleList(self.layer(d, d, batch_first=True) for _ in range(cfg.n_layers)))
        self.ln_final = nn.LayerNorm(d, eps=1e-5)
        self.unembed = nn.Linear(d, cfg.d_vocab)
        std = 0.8 / math.sqrt(d)
        nn.init.normal_(self.embed.weight, std=std)
        nn.init.normal_(self.unembed.weight, std=std)
        nn.init.zeros_(self.unembed.bias)

    @property
    def recurrent_layers(self) -> nn.ModuleList:
        return getattr(self, self.layers_name)

    def _layer_hooks(self, l: int) -> list[str]:
        raise NotImplementedError

    def _record_layer(self, l: int, layer: nn.RNNBase, x: Tensor, h: Tensor,
                      record: Recorder) -> None:
        raise NotImplementedError

    @property
    def hook_names(self) -> list[str]:
        names = ["hook_embed"]
        for l in range(self.cfg.n_layers):
            names += self._layer_hooks(l)
        return names + ["ln_final.hook_normalized"]

    def _run(self, tokens: Tensor, record: Recorder | None) -> Tensor:
        h = self.embed(tokens)                                            # (B, L, d_hidden)
        if record:
            record("hook_embed", h)
        for l, layer in enumerate(self.recurrent_layers):
            x = h
            h, _ = layer(x)
            if record:
                self._record_layer(l, layer, x, h, record)
        normalized = self.ln_final(h)
        if record:
            record("ln_final.hook_normalized", normalized)
        return self.unembed(normalized)


class GRUModel(_RecurrentModel):
    """Recurrent baseline: embedding, ``n_layers`` stacked GRUs, final LayerNorm, unembed.

    Each GRU layer is its own ``nn.GRU`` so that its hidden states can be cached as
    ``gru.{l}.hook_hidden`` ``(B, L, d_hidden)``. Position ``p``'s hidden state has read
    tokens ``0..p``, exactly like the transformer's residual stream. Weights use PyTorch's
    default GRU initialisation; the embedding and unembedding use Normal(0, 0.8/sqrt(d)).
    """

    config_class = GRUConfig
    layer = nn.GRU
    layers_name = "grus"

    def _layer_hooks(self, l: int) -> list[str]:
        return [f"gru.{l}.hook_hidden"]

    def _record_layer(self, l, layer, x, h, record) -> None:
        record(f"gru.{l}.hook_hidden", h)


class LSTMModel(_RecurrentModel):
    """Recurrent baseline: embedding, ``n_layers`` stacked LSTMs, final LayerNorm, unembed.

    Built like :class:`GRUModel`. Each layer's hidden state ``h`` (the LSTM's output, not
    its cell state ``c``) is cached as ``lstm.{l}.hook_hidden`` ``(B, L, d_hidden)``; the
    cell state is ``lstm.{l}.hook_cell``, computed by stepping the layer one token at a time
    (only when it is requested, so the plain forward pass stays fused).
    """

    config_class = LSTMConfig
    layer = nn.LSTM
    layers_name = "lstms"

    def _layer_hooks(self, l: int) -> list[str]:
        return [f"lstm.{l}.hook_hidden", f"lstm.{l}.hook_cell"]

    def _record_layer(self, l, layer, x, h, record) -> None:
        record(f"lstm.{l}.hook_hidden", h)
        record(f"lstm.{l}.hook_cell", _cell_states(layer, x))


def _cell_states(lstm: nn.LSTM, x: Tensor) -> Tensor:
    """Cell states ``c_t`` ``(B, L, d)`` of a one-layer batch-first ``lstm`` run on ``x``."""
    B, L, _ = x.shape
    state = None
    cells = []
    for t in range(L):
        _, state = lstm(x[:, t:t + 1], state)
        cells.append(state[1][0])
    return torch.stack(cells, dim=1) if cells else x.new_zeros(B, 0, lstm.hidden_size)


# ---------------------------------------------------------------------------- helpers
def build_model(cfg: TransformerConfig | GRUConfig | LSTMConfig | dict, seed: int | None = None
                ) -> Transformer | GRUModel | LSTMModel:
    """Build the model a config describes (a config object or its ``to_dict()``).

    With ``seed`` the initial weights are a deterministic function of it, and torch's global
    random state is left untouched; without it they come from the global generator.
    """
    if isinstance(cfg, dict):
        cfg = config_from_dict(cfg)
    classes = {TransformerConfig: Transformer, GRUConfig: GRUModel, LSTMConfig: LSTMModel}
    if type(cfg) not in classes:
        raise TypeError("cfg must be a TransformerConfig, GRUConfig or LSTMConfig, got "
                        f"{type(cfg).__name__}")
    if seed is None:
        return classes[type(cfg)](cfg)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return classes[type(cfg)](cfg)


def param_count(model: nn.Module) -> int:
    """Number of trainable parameters (143,075 for the paper's Mess3 transformer)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
