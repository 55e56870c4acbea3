"""PyTorch 1.13 CPU peers of the DiffGen benchmarks, timed the same way (median of batches).

Run with Debian's python3 (python3-torch + libopenblas0-pthread): /usr/bin/python3 peers.py --threads 2
Prints one JSON object: {"name": seconds_per_call, ...}.
"""
import argparse, json, math, os, sys, time

import torch
import torch.nn as nn
import torch.nn.functional as F

def measure(fn, min_batch=0.02, batches=7):
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < 0.5: fn()  # same warm-up as the DiffGen side
    reps = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(reps): fn()
        if time.perf_counter() - t0 >= min_batch: break
        reps *= 2
    times = []
    for _ in range(batches):
        t0 = time.perf_counter()
        for _ in range(reps): fn()
        times.append((time.perf_counter() - t0) / reps)
    times.sort()
    return times[len(times) // 2]

def burgers_step(u, nu, dt, dx):
    """Explicit diffusion then semi-Lagrangian self-advection with linear interpolation (periodic)."""
    n = u.shape[-1]
    tmp = u + nu * dt / dx**2 * (torch.roll(u, 1, -1) - 2 * u + torch.roll(u, -1, -1))
    x = torch.arange(n, dtype=u.dtype) - tmp * dt / dx
    j = torch.floor(x)
    f = x - j
    j0 = torch.remainder(j, n).long()
    j1 = torch.remainder(j0 + 1, n)
    return (1 - f) * tmp[..., j0] + f * tmp[..., j1]

def stencil(u, alpha):
    c = u[1:-1, 1:-1]
    lap = u[1:-1, :-2] + u[1:-1, 2:] + u[:-2, 1:-1] + u[2:, 1:-1] - 4 * c
    out = torch.zeros_like(u)
    out[1:-1, 1:-1] = c + alpha * lap
    return out

def generator_peers(r):
    n = 4096
    u = torch.sin(torch.linspace(0, 2 * math.pi, n, dtype=torch.float64))
    nu, dt, dx = 0.01, 1 / 32, 2 / n
    r["burgers4096.primal"] = measure(lambda: burgers_step(u, nu, dt, dx))
    ug = u.clone().requires_grad_(True)
    seed = torch.ones(n, dtype=torch.float64)
    def g():
        y = burgers_step(ug, nu, dt, dx); y.backward(seed); ug.grad = None
    r["burgers4096.gradient"] = measure(g)
    m = 256
    a = torch.rand(m, m, dtype=torch.float64)
    r["stencil256.primal"] = measure(lambda: stencil(a, 0.1))
    ag = a.clone().requires_grad_(True)
    s2 = torch.ones(m, m, dtype=torch.float64)
    def g2():
        y = stencil(ag, 0.1); y.backward(s2); ag.grad = None
    r["stencil256.gradient"] = measure(g2)
    b = torch.rand(n, dtype=torch.float64)
    r["dot4096.primal"] = measure(lambda: torch.dot(u, b))
    def g3():
        y = torch.dot(ug, b); y.backward(); ug.grad = None
    r["dot4096.gradient"] = measure(g3)

def nn_peers(r, want=lambda g: True):
    torch.manual_seed(0)
    mlp = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 64))
    opt = torch.optim.Adam(mlp.parameters(), 1e-3)
    x = torch.randn(256, 64); y = torch.randn(256, 64)
    def step():
        opt.zero_grad(); F.mse_loss(mlp(x), y).backward(); opt.step()
    if want("mlp"): r["mlp.train_step"] = measure(step)

    class Block(nn.Module):
        def __init__(s, c):
            super().__init__(); s.c1 = nn.Conv2d(c, c, 3, padding=1); s.c2 = nn.Conv2d(c, c, 3, padding=1)
        def forward(s, x):
            return F.relu(x + s.c2(F.relu(s.c1(x))))
    # The book's solver-in-the-loop ResNet (3 -> 2 channels, 32 features, 3x3, about 47k parameters):
    # input conv, two residual blocks, one more conv, output conv.
    net = nn.Sequential(nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), Block(32), Block(32),
                        nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 2, 3, padding=1))
    opt2 = torch.optim.Adam(net.parameters(), 1e-3)
    xi = torch.randn(3, 3, 32, 64); yi = torch.randn(3, 2, 32, 64)
    def step2():
        opt2.zero_grad(); F.mse_loss(net(xi), yi).backward(); opt2.step()
    if want("resnet"): r["resnet.train_step"] = measure(step2)
    r["resnet.parameters"] = sum(p.numel() for p in net.parameters())

def burgers_opt_peer(r):
    n = 128
    x = torch.linspace(-1 + 1 / n, 1 - 1 / n, n, dtype=torch.float64)
    nu, dt, dx = 0.01 / (n * math.pi), 1 / 32, 2 / n
    with torch.no_grad():
        t = -torch.sin(math.pi * x)
        for _ in range(16): t = burgers_step(t, nu, dt, dx)
    u0 = torch.zeros(n, dtype=torch.float64, requires_grad=True)
    def it():
        u = u0
        for _ in range(16): u = burgers_step(u, nu, dt, dx)
        loss = ((u - t) ** 2).sum() / n
        loss.backward()
        with torch.no_grad():
            u1 = u0 - 5 * u0.grad  # same state every call, as on the DiffGen side
        u0.grad = None
    r["burgers_opt.iteration"] = measure(it)

if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--only", default=None, help="comma-separated groups: generator, mlp, resnet, burgers_opt")
    a = p.parse_args()
    want = (lambda g: True) if a.only is None else (lambda g: g in a.only.split(","))
    torch.set_num_threads(a.threads)
    r = {"torch_version": torch.__version__, "threads": torch.get_num_threads()}
    if want("generator"): generator_peers(r)
    nn_peers(r, want)
    if want("burgers_opt"): burgers_opt_peer(r)
    print(json.dumps(r))
