#!/usr/bin/env python3
"""Fits the rational tanh of dev.nfnets.layers.RationalTanh: tanh(x) ~ x P(x^2) / Q(x^2) on [0, 9], Q(0) = 1.

Linearised least squares (x P - tanh Q = 0), re-weighted by 1/Q of the previous iteration (Sanathanan-Koerner)
and then by the error (Lawson) towards the minimax fit. Needs numpy only; prints the coefficients and the
largest error in double precision on a dense grid. Run: python3 tools/fit_tanh.py [X=9] [num=5] [den=5]
(the checked-in coefficients: 5/5 on [0, 9], max abs error 3.4e-11).
"""
import sys

import numpy as np

X = float(sys.argv[1]) if len(sys.argv) > 1 else 9.0
m = int(sys.argv[2]) if len(sys.argv) > 2 else 5
k = int(sys.argv[3]) if len(sys.argv) > 3 else 5

xs = np.cos(np.linspace(0, np.pi, 6000)) * X / 2 + X / 2  # Chebyshev-like nodes, dense at the ends
xs = xs[xs > 1e-4]
t = np.tanh(xs)
zs = xs * xs / (X * X)  # scaled to [0, 1] for conditioning


def powers(z, d):
    return np.vstack([z ** i for i in range(d + 1)]).T


A = np.hstack([xs[:, None] * powers(zs, m), -(t[:, None]) * powers(zs, k)[:, 1:]])
q_prev = np.ones_like(xs)
lawson = np.ones_like(xs)
for it in range(60):
    w = (lawson / q_prev)[:, None]
    sol, *_ = np.linalg.lstsq(A * w, t * w[:, 0], rcond=None)
    p = sol[:m + 1]
    q = np.concatenate([[1.0], sol[m + 1:]])
    P = powers(zs, m) @ p
    Q = powers(zs, k) @ q
    err = xs * P / Q - t
    q_prev = Q
    if it > 10:
        lawson = np.maximum(lawson * np.abs(err) / np.max(np.abs(err)), 1e-12)
        lawson /= lawson.max()

pc = [p[i] / (X * X) ** i for i in range(m + 1)]
qc = [q[i] / (X * X) ** i for i in range(k + 1)]
print("P (z^0 first):", ", ".join(repr(float(v)) for v in pc))
print("Q (z^0 first):", ", ".join(repr(float(v)) for v in qc))
g = np.linspace(0, X, 2000001)
z = g * g
approx = g * np.polyval(pc[::-1], z) / np.polyval(qc[::-1], z)
print("max abs error on [0, %g]: %.3g; min Q %.3g" % (X, np.max(np.abs(approx - np.tanh(g))), np.polyval(qc[::-1], z).min()))
