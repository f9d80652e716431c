#!/usr/bin/env python3
"""A minimal NFNet-F* in PyTorch, written for speed comparisons with nfnets-java (`nfnets bench`).

It does the same work as the Java model, layer for layer (not the same numbers): scaled weight-standardised
convolutions with gain and bias, re-standardised on every forward pass, TF-SAME padding (asymmetric for the
stride-2 3x3s on even sizes), gamma-scaled tanh-approximation GELU, NF bottleneck blocks with two grouped 3x3s
(group width 128), squeeze-excite (plain ReLU, sigmoid, x2), stochastic depth and a scalar skip gain,
avg-pool + 1x1 conv shortcut in transition blocks, final 1x1 conv to 2x the last width, mean pool, dropout and
the classifier.

The training step is: forward (train mode), cross-entropy with label smoothing 0.1 on fixed random labels,
backward, adaptive gradient clipping (unit-wise norms as in the NFNet reference, clipping 0.01, eps 1e-3, every
parameter except the classifier weight), SGD with Nesterov momentum 0.9 and weight decay 2e-5 on weights only,
zero_grad. The forward mode is an eval-mode forward pass under torch.no_grad().

Same options and JSON fields as `nfnets bench`:
    python3 bench/torch_nfnet.py --model f0 --batch 8 --size 192 --mode train --steps 10 --warmup 3 --json

Needs PyTorch (Debian: apt-get install python3-torch, 1.13.1). Optional tooling: no test or build depends on it.
"""
import argparse
import json
import math
import os
import platform
import resource
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

GELU_GAMMA = 1.7015043497085571
ALPHA = 0.2
WIDTHS = (256, 512, 1536, 1536)
STRIDES = (1, 2, 2, 2)
STEM = ((16, 2), (32, 1), (64, 1), (128, 2))
DEPTHS = ((1, 2, 6, 3), (2, 4, 12, 6), (3, 6, 18, 9), (4, 8, 24, 12),
          (5, 10, 30, 15), (6, 12, 36, 18), (7, 14, 42, 21), (8, 16, 48, 24))
TRAIN_SIZE = (192, 224, 256, 320, 384, 416, 448, 480)
DROP = (0.2, 0.3, 0.4, 0.4, 0.5, 0.5, 0.5, 0.5)
GROUP_WIDTH = 128
BOTTLENECK = 0.5
SE_RATIO = 0.5
STOCH_DEPTH = 0.25
NUM_CLASSES = 1000


def act(x):
    """gamma * GELU (tanh approximation), the NFNet default nonlinearity."""
    return F.gelu(x, approximate="tanh") * GELU_GAMMA


def same_pads(n, k, s):
    """TF SAME padding (before, after) for one spatial dimension."""
    out = -(-n // s)
    total = max((out - 1) * s + k - n, 0)
    return total // 2, total - total // 2


class WSConv2d(nn.Conv2d):
    """Scaled weight standardisation: W_hat = (W - mean) * gain / sqrt(max(N var, 1e-4)), then conv + bias."""

    def __init__(self, cin, cout, k, stride=1, groups=1):
        super().__init__(cin, cout, k, stride=stride, padding=0, groups=groups, bias=True)
        self.fan_in = k * k * (cin // groups)
        nn.init.normal_(self.weight, 0.0, math.sqrt(1.0 / self.fan_in))
        nn.init.zeros_(self.bias)
        self.gain = nn.Parameter(torch.ones(cout, 1, 1, 1))
        self.k = k
        self.s = stride

    def standardized_weight(self):
        w = self.weight
        var, mean = torch.var_mean(w, dim=(1, 2, 3), unbiased=False, keepdim=True)
        scale = torch.rsqrt(torch.clamp(var * self.fan_in, min=1e-4)) * self.gain
        return w * scale - mean * scale

    def forward(self, x):
        w = self.standardized_weight()
        ph = same_pads(x.shape[2], self.k, self.s)
        pw = same_pads(x.shape[3], self.k, self.s)
        if ph[0] == ph[1] and pw[0] == pw[1]:
            return F.conv2d(x, w, self.bias, self.s, (ph[0], pw[0]), 1, self.groups)
        x = F.pad(x, (pw[0], pw[1], ph[0], ph[1]))
        return F.conv2d(x, w, self.bias, self.s, 0, 1, self.groups)


class SqueezeExcite(nn.Module):
    def __init__(self, channels, hidden):
        super().__init__()
        self.fc0 = nn.Linear(channels, hidden)
        self.fc1 = nn.Linear(hidden, channels)

    def forward(self, x):
        p = x.mean(dim=(2, 3))
        g = torch.sigmoid(self.fc1(F.relu(self.fc0(p))))
        return g[:, :, None, None]


class NFBlock(nn.Module):
    def __init__(self, cin, cout, stride, beta, sd_rate):
        super().__init__()
        groups = int(cout * BOTTLENECK) // GROUP_WIDTH
        width = groups * GROUP_WIDTH
        self.beta = beta
        self.stride = stride
        self.sd_rate = sd_rate
        self.conv0 = WSConv2d(cin, width, 1)
        self.conv1 = WSConv2d(width, width, 3, stride, groups)
        self.conv1b = WSConv2d(width, width, 3, 1, groups)
        self.conv2 = WSConv2d(width, cout, 1)
        self.use_projection = stride > 1 or cin != cout
        self.conv_shortcut = WSConv2d(cin, cout, 1) if self.use_projection else None
        self.se = SqueezeExcite(cout, max(1, int(cout * SE_RATIO)))
        self.skip_gain = nn.Parameter(torch.zeros(()))

    def forward(self, x):
        out = act(x) * self.beta
        if self.stride > 1:
            shortcut = self.conv_shortcut(F.avg_pool2d(out, 2, 2, ceil_mode=True, count_include_pad=False))
        elif self.use_projection:
            shortcut = self.conv_shortcut(out)
        else:
            shortcut = x
        r = self.conv0(out)
        r = self.conv1(act(r))
        r = self.conv1b(act(r))
        r = self.conv2(act(r))
        r = 2.0 * self.se(r) * r
        if self.training and 0.0 < self.sd_rate < 1.0:
            keep = 1.0 - self.sd_rate
            mask = torch.floor(keep + torch.rand(r.shape[0], 1, 1, 1, dtype=r.dtype))
            r = r * mask
        return shortcut + r * (ALPHA * self.skip_gain)


class NFNet(nn.Module):
    def __init__(self, variant=0, num_classes=NUM_CLASSES):
        super().__init__()
        layers = []
        cin = 3
        for i, (c, s) in enumerate(STEM):
            layers.append(WSConv2d(cin, c, 3, s))
            cin = c
        self.stem = nn.ModuleList(layers)
        depths = DEPTHS[variant]
        total = sum(depths)
        blocks = []
        expected_std = 1.0
        index = 0
        for stage, (width, depth, stride) in enumerate(zip(WIDTHS, depths, STRIDES)):
            for b in range(depth):
                beta = 1.0 / expected_std
                blocks.append(NFBlock(cin, width, stride if b == 0 else 1, beta, STOCH_DEPTH * index / total))
                if b == 0:
                    expected_std = 1.0
                expected_std = math.sqrt(expected_std ** 2 + ALPHA ** 2)
                cin = width
                index += 1
        self.blocks = nn.Sequential(*blocks)
        self.final_conv = WSConv2d(cin, 2 * cin, 1)
        self.dropout = nn.Dropout(DROP[variant])
        self.classifier = nn.Linear(2 * cin, num_classes)
        nn.init.normal_(self.classifier.weight, 0.0, 0.01)
        nn.init.zeros_(self.classifier.bias)

    def forward(self, x):
        for i, conv in enumerate(self.stem):
            x = conv(x)
            if i < len(self.stem) - 1:
                x = act(x)
        x = self.blocks(x)
        x = act(self.final_conv(x)).mean(dim=(2, 3))
        return self.classifier(self.dropout(x))


def count_macs(variant, size, num_classes=NUM_CLASSES):
    """Multiply-accumulates per image, counted like nfnets-java's ModelSummary (convs, SE dense, classifier)."""
    def conv(cin, cout, k, groups, out):
        return cout * out * out * (cin // groups) * k * k

    h, cin, macs = size, 3, 0
    for c, s in STEM:
        oh = -(-h // s)
        macs += conv(cin, c, 3, 1, oh)
        h, cin = oh, c
    for width, depth, stride in zip(WIDTHS, DEPTHS[variant], STRIDES):
        for b in range(depth):
            s = stride if b == 0 else 1
            groups = int(width * BOTTLENECK) // GROUP_WIDTH
            mid = groups * GROUP_WIDTH
            oh = -(-h // s)
            macs += conv(cin, mid, 1, 1, h) + 2 * conv(mid, mid, 3, groups, oh) + conv(mid, width, 1, 1, oh)
            if s > 1 or cin != width:
                macs += conv(cin, width, 1, 1, oh)
            macs += 2 * width * max(1, int(width * SE_RATIO))
            h, cin = oh, width
    macs += conv(cin, 2 * cin, 1, 1, h)
    return macs + 2 * cin * num_classes


def unitwise_norm(x):
    """Reference unit-wise norm: whole tensor for scalars/vectors, per output unit for dense and conv weights."""
    if x.ndim <= 1:
        return torch.linalg.vector_norm(x)
    if x.ndim == 2:  # torch Linear (out, in): one unit per output row
        return torch.linalg.vector_norm(x, dim=1, keepdim=True)
    return torch.linalg.vector_norm(x, dim=tuple(range(1, x.ndim)), keepdim=True)  # OIHW: per output channel


@torch.no_grad()
def agc_(params, clipping=0.01, eps=1e-3):
    for p in params:
        if p.grad is None:
            continue
        max_norm = unitwise_norm(p).clamp_(min=eps).mul_(clipping)
        grad_norm = unitwise_norm(p.grad)
        clipped = p.grad * (max_norm / grad_norm.clamp(min=1e-6))
        p.grad.copy_(torch.where(grad_norm > max_norm, clipped, p.grad))


def read_status_kb(field):
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return -1


def loaded_blas():
    """Paths of the BLAS libraries mapped into this process (Debian's torch uses whatever libblas.so.3 resolves to)."""
    found = []
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1] if len(line.split()) >= 6 else ""
                base = os.path.basename(path)
                if ("blas" in base or "mkl_rt" in base) and path not in found:
                    found.append(path)
    except OSError:
        pass
    return found


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="f0", help="f0..f7 (default f0)")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--size", type=int, default=None, help="input size in pixels (default: the variant's training size)")
    ap.add_argument("--mode", default="forward", choices=["forward", "train"])
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    a = ap.parse_args(argv)
    name = a.model.strip().lower()
    if len(name) != 2 or name[0] != "f" or not name[1].isdigit() or int(name[1]) > 7:
        ap.error("unknown model '%s'; known: f0..f7" % a.model)
    if a.steps <= 0 or a.warmup < 0 or a.batch <= 0:
        ap.error("steps and batch must be positive, warmup >= 0")
    variant = int(name[1])
    size = a.size or TRAIN_SIZE[variant]

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    t0 = time.perf_counter()
    model = NFNet(variant)
    params = sum(p.numel() for p in model.parameters())
    x = torch.randn(a.batch, 3, size, size)
    labels = torch.randint(0, NUM_CLASSES, (a.batch,))
    decay, no_decay = [], []
    for n, p in model.named_parameters():
        (decay if n.endswith("weight") else no_decay).append(p)
    clipped = [p for n, p in model.named_parameters() if n != "classifier.weight"]
    opt = torch.optim.SGD([{"params": decay, "weight_decay": 2e-5}, {"params": no_decay, "weight_decay": 0.0}],
                          lr=0.1, momentum=0.9, nesterov=True)
    setup_ms = (time.perf_counter() - t0) * 1e3
    last_loss = None

    phases = {}

    def step():
        nonlocal last_loss
        t0 = time.perf_counter()
        if a.mode == "forward":
            with torch.no_grad():
                model(x)
            phases["forward"] = (time.perf_counter() - t0) * 1e3
        else:
            logits = model(x)
            t1 = time.perf_counter()
            loss = F.cross_entropy(logits, labels, label_smoothing=0.1)
            loss.backward()
            t2 = time.perf_counter()
            agc_(clipped)
            opt.step()
            opt.zero_grad(set_to_none=False)
            t3 = time.perf_counter()
            last_loss = loss.item()
            phases["forward"] = (t1 - t0) * 1e3
            phases["loss_backward"] = (t2 - t1) * 1e3
            phases["agc_sgd_zero_grad"] = (t3 - t2) * 1e3

    model.train(a.mode == "train")
    for i in range(a.warmup):
        s = time.perf_counter()
        step()
        print("warm-up %d/%d: %.1f ms" % (i + 1, a.warmup, (time.perf_counter() - s) * 1e3), file=sys.stderr)
    rss_after_warmup = read_status_kb("VmRSS") * 1024
    times = []
    phase_times = {}
    for i in range(a.steps):
        s = time.perf_counter()
        step()
        times.append((time.perf_counter() - s) * 1e3)
        for k, v in phases.items():
            phase_times.setdefault(k, []).append(v)

    median = statistics.median(times)
    macs = count_macs(variant, size)
    factor = 1 if a.mode == "forward" else 3
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kB on Linux
    result = {
        "impl": "pytorch",
        "model": "F%d" % variant,
        "mode": a.mode,
        "batch": a.batch,
        "size": size,
        "warmup": a.warmup,
        "steps": a.steps,
        "seed": a.seed,
        "params": params,
        "macs_per_image": macs,
        "setup_ms": round(setup_ms, 3),
        "median_ms": round(median, 3),
        "mean_ms": round(statistics.mean(times), 3),
        "min_ms": round(min(times), 3),
        "max_ms": round(max(times), 3),
        "images_per_sec": a.batch * 1000.0 / median,
        "gflops_per_sec": 2.0 * macs * a.batch * factor / (median * 1e-3) / 1e9,
        "last_loss": last_loss,
        "peak_rss_bytes": peak,
        "rss_bytes": read_status_kb("VmRSS") * 1024,
        "rss_after_warmup_bytes": rss_after_warmup,
        "step_ms": [round(t, 3) for t in times],
        "phases_ms": {k: round(statistics.median(v), 3) for k, v in phase_times.items()},
        "env": {
            "torch_version": torch.__version__,
            "num_threads": torch.get_num_threads(),
            "available_processors": os.cpu_count(),
            "mkldnn": torch.backends.mkldnn.is_available(),
            "omp_num_threads_env": os.environ.get("OMP_NUM_THREADS", ""),
            "python_version": platform.python_version(),
            "blas": loaded_blas(),
        },
    }
    if a.json:
        print(json.dumps(result))
    else:
        print("model F%d, mode %s, batch %d, size %d px, %d warm-up + %d timed steps" % (
            variant, a.mode, a.batch, size, a.warmup, a.steps))
        print("params {:,}, {:.3f} GMAC/image at {} px, setup {:.0f} ms".format(params, macs / 1e9, size, setup_ms))
        print("step ms: median %.1f, mean %.1f, min %.1f, max %.1f" % (
            median, result["mean_ms"], result["min_ms"], result["max_ms"]))
        print("throughput: %.2f images/s, %.1f GFLOP/s achieved" % (result["images_per_sec"], result["gflops_per_sec"]))
        print("phase medians ms: " + ", ".join("%s %.1f" % kv for kv in result["phases_ms"].items()))
        if last_loss is not None:
            print("last loss: %.4f" % last_loss)
        print("memory: peak RSS (ru_maxrss) %.1f MiB, RSS now %.1f MiB" % (peak / 2 ** 20, result["rss_bytes"] / 2 ** 20))
        print("torch %s, %d threads, mkldnn %s, BLAS %s" % (torch.__version__, torch.get_num_threads(),
                                                            torch.backends.mkldnn.is_available(), ", ".join(loaded_blas())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
