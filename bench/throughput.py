"""Training throughput: beliefcourse.model.Transformer vs TransformerLens HookedTransformer.

Both models get the identical configuration (the paper's Mess3 model by default), the same
batch, the same loss and AdamW. A step is forward + backward + optimizer. The two are timed
in alternating rounds in the same process, so background load hits both alike; the median
per-step time of each is reported with the ratio.

    python bench/throughput.py [--batch 512] [--rounds 7] [--steps 10] [--threads N]

TransformerLens is only a bench extra (``pip install -e .[bench]``); HookedTransformer needs
TransformerLens 2.x or 3.x (4.0 removed it). Without it this script reports beliefcourse's
own throughput and says how to install it.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F

from beliefcourse.model import TransformerConfig, build_model, param_count


def step_timer(model, batch: torch.Tensor, targets: torch.Tensor):
    """A function that runs ``n`` training steps and returns seconds per step."""
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)

    def run(n: int) -> float:
        t0 = time.perf_counter()
        for _ in range(n):
            logits = model(batch)
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        return (time.perf_counter() - t0) / n

    return run


def transformer_lens_model(cfg: TransformerConfig):
    """The same model as a TransformerLens HookedTransformer, or None if not installed."""
    try:
        from transformer_lens import HookedTransformer, HookedTransformerConfig
    except ImportError:          # not installed, or 4.x, which removed HookedTransformer
        return None
    tl_cfg = HookedTransformerConfig(
        n_layers=cfg.n_layers, d_model=cfg.d_model, n_heads=cfg.n_heads, d_head=cfg.d_head,
        d_mlp=cfg.d_mlp, n_ctx=cfg.n_ctx, d_vocab=cfg.d_vocab, act_fn=cfg.act_fn,
        normalization_type=cfg.normalization, attention_dir="causal", seed=0, device="cpu")
    return HookedTransformer(tl_cfg)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--steps", type=int, default=10, help="steps per timed round")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    cfg = TransformerConfig()
    g = torch.Generator().manual_seed(0)
    batch = torch.randint(0, cfg.d_vocab, (args.batch, cfg.n_ctx), generator=g)
    targets = torch.randint(0, cfg.d_vocab, (args.batch, cfg.n_ctx), generator=g)
    ours = build_model(cfg, seed=0)
    models = {"beliefcourse": ours}
    tl = transformer_lens_model(cfg)
    if tl is not None:
        models["TransformerLens"] = tl
    timers = {name: step_timer(m, batch, targets) for name, m in models.items()}
    for run in timers.values():
        run(3)                                              # warm-up
    times: dict[str, list[float]] = {name: [] for name in timers}
    for _ in range(args.rounds):
        for name, run in timers.items():
            times[name].append(run(args.steps))

    tokens = args.batch * cfg.n_ctx
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; config {cfg}")
    print(f"batch {args.batch} x n_ctx {cfg.n_ctx} = {tokens} tokens per step; "
          f"{args.rounds} rounds x {args.steps} steps, median per step")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"  {name:16s} {param_count(models[name]):>8,} params  {med * 1e3:7.1f} ms/step  "
              f"{tokens / med:>9,.0f} tokens/s")
    if tl is None:
        print("TransformerLens's HookedTransformer is not importable; for the comparison run "
              "`pip install torch==2.13.0 'transformer-lens>=2,<4'` in a separate venv "
              "(pin torch, or pip fetches a multi-GB CUDA build)")
        return
    ratio = statistics.median(times["TransformerLens"]) / statistics.median(times["beliefcourse"])
    print(f"speed-up of beliefcourse over TransformerLens: {ratio:.2f}x")


if __name__ == "__main__":
    main()
