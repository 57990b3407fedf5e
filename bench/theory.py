"""Timings of the vectorised theory core against straightforward per-item Python loops.

Measures, on this machine and in one run:

1. ``all_sequences(mess3(), 10)`` (59,049 words with probabilities and beliefs) against a
   loop that handles one word at a time;
2. a 10^6-point ``msp.chaos_game`` sample of Mess3 against one observer stepped in a Python
   loop (the exercise's version);
3. the mixed-state presentation of RRXOR to depth 10 (``msp.mixed_state_presentation``,
   ``msp.beliefs_by_depth``) against a loop over every word of length <= 10 that updates one
   belief per word and de-duplicates through a dict.

The loop versions run on a subset and are extrapolated linearly (stated in the output).
Nothing here asserts a timing; it prints ratios measured side by side.

    OMP_NUM_THREADS=1 python bench/theory.py
"""

from __future__ import annotations

import itertools
import os
import platform
import time
import warnings

import numpy as np

from beliefcourse import msp, processes
from beliefcourse.enumerate import all_sequences


def best_of(fn, repeat=3):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


# ---------------------------------------------------------------------------- loop versions
def loop_words(hmm, words):
    """Probability and belief trajectory of each word, one word and one token at a time."""
    pi = hmm.stationary()
    out = []
    for w in words:
        eta, p, traj = pi.copy(), 1.0, [pi]
        for x in w:
            v = eta @ hmm.T[x]
            s = v.sum()
            p *= s
            eta = v / s
            traj.append(eta)
        out.append((p, np.array(traj)))
    return out


def loop_chaos(hmm, n_points, seed=0, burn_in=200):
    """One observer, one token per Python iteration (the exercise's chaos game)."""
    rng = np.random.default_rng(seed)
    eta = hmm.stationary().copy()
    pts = np.empty((n_points, hmm.n_states))
    for t in range(burn_in + n_points):
        probs = np.einsum("i,xij->x", eta, hmm.T)
        x = rng.choice(len(probs), p=probs / probs.sum())
        v = eta @ hmm.T[x]
        eta = v / v.sum()
        if t >= burn_in:
            pts[t - burn_in] = eta
    return pts


def loop_msp_words(hmm, max_depth, n_words=None):
    """Every word of length <= max_depth (or the first n_words of them), belief by belief,
    de-duplicated through a dict of rounded beliefs. Returns (n_distinct, n_words_done)."""
    pi = hmm.stationary()
    seen = {tuple(np.round(pi, 9))}
    done = 0
    for L in range(1, max_depth + 1):
        for w in itertools.product(range(hmm.n_tokens), repeat=L):
            if n_words is not None and done >= n_words:
                return len(seen), done
            done += 1
            eta = pi
            ok = True
            for x in w:
                v = eta @ hmm.T[x]
                s = v.sum()
                if s <= 0:
                    ok = False
                    break
                eta = v / s
            if ok:
                seen.add(tuple(np.round(eta, 9)))
    return len(seen), done


def main() -> None:
    print(f"beliefcourse theory benchmark  (python {platform.python_version()}, numpy "
          f"{np.__version__}, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, "
          f"{os.cpu_count()} CPUs)")
    mess3, rrxor = processes.mess3(), processes.rrxor()

    # 1. all_sequences(mess3, 10)
    t_vec = best_of(lambda: all_sequences(mess3, 10))
    n_all = 3 ** 10
    subset = list(itertools.islice(itertools.product(range(3), repeat=10), 3_000))
    t_loop = best_of(lambda: loop_words(mess3, subset), repeat=1) * n_all / len(subset)
    print(f"\n1. all_sequences(mess3(), 10): {n_all:,} words")
    print(f"   vectorised     {t_vec * 1e3:9.1f} ms")
    print(f"   per-word loop  {t_loop * 1e3:9.1f} ms  (ran {len(subset):,} words, "
          f"extrapolated linearly to {n_all:,})")
    print(f"   speed-up       {t_loop / t_vec:9.0f}x")

    # 2. chaos game, 10^6 points
    n_pts = 1_000_000
    t_vec = best_of(lambda: msp.chaos_game(mess3, n_pts, seed=0))
    n_sub = 20_000
    t0 = time.perf_counter()
    loop_chaos(mess3, n_sub, burn_in=200)
    t_sub = time.perf_counter() - t0
    t_loop = t_sub * (n_pts + 200) / (n_sub + 200)
    print("\n2. msp.chaos_game(mess3(), 10**6): 4,096 chains x 245 steps after 200 burn-in")
    print(f"   vectorised     {t_vec * 1e3:9.1f} ms")
    print(f"   one-chain loop {t_loop * 1e3:9.1f} ms  (ran {n_sub:,} points, extrapolated "
          f"linearly to {n_pts:,})")
    print(f"   speed-up       {t_loop / t_vec:9.0f}x")

    # 3. MSP of RRXOR to depth 10
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = msp.mixed_state_presentation(rrxor, max_depth=10)
    t_msp = best_of(lambda: msp.mixed_state_presentation(rrxor, max_depth=10))
    t_bbd = best_of(lambda: msp.beliefs_by_depth(rrxor, max_depth=10))
    total_words = sum(2 ** L for L in range(1, 11))
    n_sub = 600
    t0 = time.perf_counter()
    loop_msp_words(rrxor, 10, n_words=n_sub)
    t_loop = (time.perf_counter() - t0) * total_words / n_sub
    print(f"\n3. MSP of RRXOR to depth 10: {len(m)} states, complete={m.complete} "
          f"(the search runs dry at depth {m.max_depth + 1})")
    print(f"   mixed_state_presentation   {t_msp * 1e3:9.2f} ms")
    print(f"   beliefs_by_depth(.., 10)   {t_bbd * 1e3:9.2f} ms")
    print(f"   per-word loop              {t_loop * 1e3:9.2f} ms  (all {total_words:,} words "
          f"of length 1..10 one at a time; ran {n_sub} words, extrapolated linearly)")
    print(f"   speed-up                   {t_loop / t_msp:9.0f}x (mixed_state_presentation)")


if __name__ == "__main__":
    main()
