#!/usr/bin/env python3
"""PyTorch's time per call for each convolution of NFNet-F0 at 192 px, batch 8 (forward, backward).

The counterpart of `./nfnets bench --model f0 --size 192 --mode train --profile`: the same convolution shapes,
timed one at a time with autograd (median of 7), TF-style SAME padding, 2 threads. Optional tooling:

    /usr/bin/python3 bench/torch_convs.py [--threads 2] [--batch 8]
"""
import argparse
import time

import torch
import torch.nn.functional as F

# in, out, kernel, stride, groups, input size, calls per step (F0 at 192 px)
SPECS = [
    (3, 16, 3, 2, 1, 192, 1), (16, 32, 3, 1, 1, 96, 1), (32, 64, 3, 1, 1, 96, 1), (64, 128, 3, 2, 1, 96, 1),
    (128, 128, 1, 1, 1, 48, 1), (128, 128, 3, 1, 1, 48, 2), (128, 256, 1, 1, 1, 48, 2),
    (256, 256, 1, 1, 1, 48, 1), (256, 256, 3, 2, 2, 48, 1), (256, 256, 3, 1, 2, 24, 3), (256, 512, 1, 1, 1, 24, 3),
    (512, 256, 1, 1, 1, 24, 1), (512, 768, 1, 1, 1, 24, 1), (768, 768, 3, 2, 6, 24, 1), (768, 768, 3, 1, 6, 12, 11),
    (768, 1536, 1, 1, 1, 12, 6), (512, 1536, 1, 1, 1, 12, 1), (1536, 768, 1, 1, 1, 12, 6), (768, 768, 3, 2, 6, 12, 1),
    (768, 768, 3, 1, 6, 6, 5), (768, 1536, 1, 1, 1, 6, 3), (1536, 1536, 1, 1, 1, 6, 1), (1536, 768, 1, 1, 1, 6, 2),
    (1536, 3072, 1, 1, 1, 6, 1),
]


def same_pad(size, k, s):
    out = (size + s - 1) // s
    total = max((out - 1) * s + k - size, 0)
    return (total // 2, total - total // 2) * 2


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--reps", type=int, default=7)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    total_f = total_b = 0.0
    print("%-28s %6s %9s %9s" % ("conv (in->out k/s g @size)", "calls", "fwd ms", "bwd ms"))
    for ci, co, k, s, g, size, calls in SPECS:
        w = torch.randn(co, ci // g, k, k, requires_grad=True)
        x = torch.randn(a.batch, ci, size, size, requires_grad=True)
        pad = same_pad(size, k, s)
        fwd, bwd = [], []
        for _ in range(a.reps):
            t0 = time.perf_counter()
            y = F.conv2d(F.pad(x, pad) if k > 1 else x, w, stride=s, groups=g)
            t1 = time.perf_counter()
            gy = torch.randn_like(y)
            t2 = time.perf_counter()
            y.backward(gy)
            t3 = time.perf_counter()
            fwd.append((t1 - t0) * 1e3)
            bwd.append((t3 - t2) * 1e3)
            x.grad = None
            w.grad = None
        f = sorted(fwd)[a.reps // 2]
        b = sorted(bwd)[a.reps // 2]
        total_f += f * calls
        total_b += b * calls
        print("%-28s %6d %9.2f %9.2f" % ("%d->%d %d/%d g%d @%d" % (ci, co, k, s, g, size), calls, f, b))
    print("per step (calls x median): forward %.1f ms, backward %.1f ms" % (total_f, total_b))


if __name__ == "__main__":
    main()
