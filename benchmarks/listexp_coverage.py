"""Coverage of list-experiment intervals: the old (unconstrained) and the new (bounded) ones.

Simulated list experiments (J = 4 control items, control count Binomial(4, p), randomised arms
of equal size, nominal 95%), each scenario replicated ``--reps`` times (default 200):

* whole sample, N = 400 (the memo's pilot), prevalence 0.05, 0.55 and 0.95;
* subgroups of n = 30, 60 and 100, prevalence 0.05, 0.5 and 0.95;
* a control count near its ceiling (p = 0.9, mean 3.6 of 4), n = 100, prevalence 0.5;
* support by segment with a 6-segment latent class model (a simulation written here: shares
  0.22, 0.20, 0.18, 0.17, 0.13, 0.10; 10 five-answer items whose segment-specific answer
  distributions type respondents about as well as the bundled 10-item battery, P(assigned to
  own segment) 0.75-0.95), N = 400 and 1,500, support 0.80 ... 0.25 (as the bundled generator
  assumes) and a floor/ceiling variant 0.97 ... 0.03. The "saved model" is the generating one.

Intervals compared (coverage of the true prevalence, mean width, and how often the point
estimate is outside [0, 1]):

* ``DiM Wald``: difference in means +/- 1.96 Neyman SE (the old interval; by segment the BCH
  difference in means with a percentile bootstrap of ``--boot`` resamples re-estimating the
  shares, as :func:`segment.segments.support.support_by_segment`);
* ``ML profile``: constrained ML (Imai 2011 within the group; by segment the ML three-step),
  profile-likelihood interval;
* ``ML logit-Wald`` (groups only): the same estimate, Wald on the logit scale (undefined when
  the estimate is 0 or 1: counted as not covering);
* ``headline``: what the tables print: the difference in means (its interval cut to [0, 1])
  where it is inside [0, 1], else the ML estimate with its profile interval.

Run:  .venv/bin/python benchmarks/listexp_coverage.py [--reps 200] [--boot 100] [--seed 1]
      [--skip-segments]
"""

from __future__ import annotations

import argparse
import os
import time

for var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import numpy as np  # noqa: E402

J = 4
Z95 = 1.959963984540054


def _arms(rng, reps: int, n: int, delta: float, p: float):
    """``reps`` experiments of ``n`` respondents: counts (reps, n) and treatment (n,)."""
    t = np.zeros(n, bool)
    t[: n // 2] = True
    ystar = rng.binomial(J, p, (reps, n))
    z = rng.random((reps, n)) < delta
    return ystar + t * z, t


def _dim(y, t):
    yt, yc = y[:, t], y[:, ~t]
    est = yt.mean(1) - yc.mean(1)
    se = np.sqrt(yt.var(1, ddof=1) / yt.shape[1] + yc.var(1, ddof=1) / yc.shape[1])
    return est, est - Z95 * se, est + Z95 * se


def _summ(truth, est, lo, hi) -> tuple[float, float, float]:
    ok = np.isfinite(lo) & np.isfinite(hi)
    cover = ok & (lo <= truth) & (truth <= hi)
    width = np.where(ok, hi - lo, np.nan)
    outside = (est < 0) | (est > 1)
    return float(cover.mean()), float(np.nanmean(width)), float(outside.mean())


def group_scenarios(reps: int, rng) -> list[tuple]:
    from segment.listexp.bounded import fit_histograms, histograms
    from segment.listexp.flags import headline

    rows = []
    cases = [("whole sample", 400, d, 0.69) for d in (0.05, 0.55, 0.95)]
    cases += [("subgroup", n, d, 0.69) for n in (30, 60, 100) for d in (0.05, 0.5, 0.95)]
    cases += [("control ceiling (p = 0.9)", 100, 0.5, 0.9)]
    for what, n, delta, p in cases:
        y, t = _arms(rng, reps, n, delta, p)
        codes = np.repeat(np.arange(reps), n)
        nc, nt = histograms(y.ravel(), np.tile(t, reps), J, codes, reps)
        prof = fit_histograms(nc, nt, J, interval="profile")
        wald = fit_histograms(nc, nt, J, interval="logit-wald")
        d_est, d_lo, d_hi = _dim(y, t)
        heads = np.array(
            [
                headline(*args)[:3]
                for args in zip(
                    d_est,
                    d_lo,
                    d_hi,
                    prof["estimate"],
                    prof["ci_low"],
                    prof["ci_high"],
                    strict=True,
                )
            ],
            dtype=float,
        )
        label = f"{what}, n = {n}, prevalence {delta:.2f}"
        rows.append((label, "DiM Wald", *_summ(delta, d_est, d_lo, d_hi)))
        rows.append(
            (label, "ML profile", *_summ(delta, prof["estimate"], prof["ci_low"], prof["ci_high"]))
        )
        rows.append(
            (
                label,
                "ML logit-Wald",
                *_summ(delta, wald["estimate"], wald["ci_low"], wald["ci_high"]),
            )
        )
        rows.append((label, "headline", *_summ(delta, heads[:, 0], heads[:, 1], heads[:, 2])))
    return rows


SHARES = np.array([0.22, 0.20, 0.18, 0.17, 0.13, 0.10])
N_ITEMS, N_CAT = 10, 5


def _measurement(rng) -> np.ndarray:
    """Answer probabilities (K, items, categories): each segment peaks on its own answer of an
    item, segments sharing a peak on some items (so that a short battery confuses them)."""
    K = SHARES.size
    modes = rng.integers(0, N_CAT, (K, N_ITEMS))
    modes[3, :5] = modes[0, :5]  # segments 1 and 4 alike on half the items
    modes[1, :4] = modes[2, :4]
    probs = np.full((K, N_ITEMS, N_CAT), 0.09)
    np.put_along_axis(probs, modes[..., None], 0.64, axis=2)
    return probs / probs.sum(2, keepdims=True)


def _segment_rep(rng, probs, support, n: int, n_boot: int):
    from segment.listexp.three_step import classification_error, three_step_prevalence
    from segment.segments.support import _bch_weights, _dim, _shares_em

    K = SHARES.size
    seg = rng.choice(K, n, p=SHARES)
    cum = probs[seg].cumsum(2)
    answers = (rng.random((n, N_ITEMS, 1)) > cum).sum(2)
    loglik = np.log(probs[:, np.arange(N_ITEMS), answers]).sum(2).T  # (n, K)
    t = rng.permutation(np.arange(n) < n // 2).astype(float)
    y = rng.binomial(J, 0.69, n) + t * (rng.random(n) < support[seg])
    w = np.ones(n)
    resp, shares = _shares_em(loglik, w, SHARES)
    bch = _dim(y, t, _bch_weights(resp, w))
    boots = np.empty((n_boot, K))
    for b in range(n_boot):
        idx = rng.integers(0, n, n)
        r_b, _ = _shares_em(loglik[idx], w[idx], shares)
        boots[b] = _dim(y[idx], t[idx], _bch_weights(r_b, w[idx]))
    b_lo, b_hi = np.nanquantile(boots, 0.025, 0), np.nanquantile(boots, 0.975, 0)
    D = classification_error(resp)
    ml = three_step_prevalence(y.astype(int), t.astype(bool), resp.argmax(1), D, J=J, shares=shares)
    return bch, b_lo, b_hi, ml.estimate, ml.ci_low, ml.ci_high, np.diag(D)


def segment_scenarios(reps: int, n_boot: int, rng) -> list[tuple]:
    from segment.listexp.flags import headline

    rows = []
    probs = _measurement(np.random.default_rng(2020))
    for label, support in (
        ("support 0.80 ... 0.25", np.array([0.80, 0.70, 0.60, 0.50, 0.40, 0.25])),
        ("support 0.97 ... 0.03 (floor/ceiling)", np.array([0.97, 0.80, 0.60, 0.40, 0.20, 0.03])),
    ):
        for n in (400, 1500):
            out = [_segment_rep(rng, probs, support, n, n_boot) for _ in range(reps)]
            bch, b_lo, b_hi, m, m_lo, m_hi, kept = (np.array(v) for v in zip(*out, strict=True))
            heads = np.array(
                [
                    [headline(*a)[:3] for a in zip(*cols, strict=True)]
                    for cols in zip(bch, b_lo, b_hi, m, m_lo, m_hi, strict=True)
                ],
                dtype=float,
            )
            name = f"6 segments, N = {n}, {label}"
            print(f"  ({name}: P(assigned to own segment) {kept.mean(0).round(2)})", flush=True)
            for what, e, lo, hi in (
                ("BCH DiM, bootstrap", bch, b_lo, b_hi),
                ("ML three-step profile", m, m_lo, m_hi),
                ("headline", heads[..., 0], heads[..., 1], heads[..., 2]),
            ):
                cov, wid, out_ = zip(
                    *(_summ(support[k], e[:, k], lo[:, k], hi[:, k]) for k in range(support.size)),
                    strict=True,
                )
                rows.append(
                    (
                        name,
                        what,
                        float(np.mean(cov)),
                        float(np.mean(wid)),
                        float(np.mean(out_)),
                        f"by segment {min(cov):.2f}-{max(cov):.2f}",
                    )
                )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--boot", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip-segments", action="store_true")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    start = time.perf_counter()
    rows = group_scenarios(args.reps, rng)
    if not args.skip_segments:
        rows += segment_scenarios(args.reps, args.boot, rng)
    print(f"\nCoverage of nominal 95% intervals, {args.reps} replications per scenario")
    print(f"{'scenario':<58}{'interval':<24}{'coverage':>9}{'width':>8}{'est. outside':>14}")
    last = None
    for name, what, cov, wid, out, *extra in rows:
        shown = name if name != last else ""
        last = name
        print(
            f"{shown:<58}{what:<24}{cov:>9.3f}{wid:>8.3f}{out:>14.3f}"
            + (f"  {extra[0]}" if extra else "")
        )
    print(f"\n{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
