"""PyTorch 1.13 CPU peer of one sol training iteration (EXPERIMENTS §3, SOL-4, samples/Trainers/Experiments/Sol.cs
at its defaults), written as a PyTorch user would: eager autograd through the solver steps.

- Physics: DiffGen.Physics.Burgers2D.StepPacked on a periodic 32x32 grid (domain 32, viscosity 0.1, dt 0.1),
  float64 like the C# kernels: explicit diffusion (one forward-Euler step, 5-point Laplacian), then
  semi-Lagrangian self-advection of the diffused velocity (one Euler backtrace, bilinear sampling, periodic
  wrap), then + dt * force. The network side is float32; as in DiffGen's Lift.Op the state is converted to
  float64 for the step and back.
- Network: Sol.Network() -- conv 2->16, ReLU, two ResBlocks (relu(x + conv2(relu(conv1(x))))), conv 16->2 with
  zeroed weights, all 3x3 with circular padding (PaddingMode.Periodic).
- Iteration: batch 3, 4 unrolled steps, state = step + correction, MSE per step averaged, backward,
  clip_grad_norm_ 1.0, Adam 1e-3.

`--threads N` prints "name microseconds" lines (median of 7 batches, as the DiffGen side).
`--check IN OUT --nx NX --ny NY --width W --height H` reads float64 [state; force; seed] for one item from IN and
writes [next; stateBar; forceBar] (the step and its vector-Jacobian product with seed) to OUT; the physics test
tests/DiffGen.Physics.Tests compares them with the C# step and its generated pullback.
"""
from common import args  # first: sets thread env vars before torch loads
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from peers import measure

N, BATCH, K = 32, 3, 4


def burgers2d_step(state, force, nx, ny, dx, dy, dt, nu):
    """One Burgers2D step, periodic; state, force: [B, 2, ny, nx] float64 (channel 0 = u, 1 = v)."""
    # Explicit diffusion, the same expression as Diffusion.EulerStep2D.
    ax, ay = nu * dt / (dx * dx), nu * dt / (dy * dy)
    d = (state + ax * (torch.roll(state, 1, -1) - 2 * state + torch.roll(state, -1, -1))
         + ay * (torch.roll(state, 1, -2) - 2 * state + torch.roll(state, -1, -2)))
    # Semi-Lagrangian self-advection: each cell samples the diffused (u, v) at x - dt * (u, v) (index coordinates).
    b = state.shape[0]
    jj, ii = torch.meshgrid(torch.arange(ny, dtype=d.dtype), torch.arange(nx, dtype=d.dtype), indexing="ij")
    gx = ii - (dt / dx) * d[:, 0]
    gy = jj - (dt / dy) * d[:, 1]
    fx, fy = torch.floor(gx), torch.floor(gy)
    tx, ty = (gx - fx).reshape(b, 1, -1), (gy - fy).reshape(b, 1, -1)
    i0 = torch.remainder(fx.long(), nx)
    j0 = torch.remainder(fy.long(), ny)
    i1 = torch.remainder(i0 + 1, nx)
    j1 = torch.remainder(j0 + 1, ny)
    flat = d.reshape(b, 2, nx * ny)

    def at(j, i):  # both components at the same corner
        return flat.gather(2, (j * nx + i).reshape(b, 1, -1).expand(b, 2, nx * ny))

    adv = (1 - ty) * ((1 - tx) * at(j0, i0) + tx * at(j0, i1)) + ty * ((1 - tx) * at(j1, i0) + tx * at(j1, i1))
    return adv.reshape(state.shape) + dt * force


class ResBlock(nn.Module):
    """src/NN ResBlock: relu(x + conv2(relu(conv1(x))))."""

    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1, padding_mode="circular")
        self.conv2 = nn.Conv2d(c, c, 3, padding=1, padding_mode="circular")

    def forward(self, x):
        return F.relu(x + self.conv2(F.relu(self.conv1(x))))


def network():
    last = nn.Conv2d(16, 2, 3, padding=1, padding_mode="circular")
    with torch.no_grad():  # a zero correction at the start, as Sol.Network()
        last.weight.zero_()
        last.bias.zero_()
    return nn.Sequential(nn.Conv2d(2, 16, 3, padding=1, padding_mode="circular"), nn.ReLU(),
                         ResBlock(16), ResBlock(16), last)


def value(t, force):
    """The fixed inputs of benchmarks/DiffGen.Benchmarks/SolIteration.cs (Value), [BATCH, 2, N, N] float64."""
    b = torch.arange(BATCH, dtype=torch.float64).reshape(-1, 1, 1, 1)
    c = torch.arange(2, dtype=torch.float64).reshape(1, -1, 1, 1)
    y = (2 * math.pi * (torch.arange(N, dtype=torch.float64) + 0.5) / N).reshape(1, 1, -1, 1)
    x = (2 * math.pi * (torch.arange(N, dtype=torch.float64) + 0.5) / N).reshape(1, 1, 1, -1)
    if force:
        return 0.1 * torch.sin(2 * x + y + 0.7 * b + c)
    ph = 0.3 * b + 1.1 * c + 0.2 * t
    return (1 + 0.1 * t) * torch.sin(x + ph) * torch.cos(y - ph)


def sol_peer():
    torch.manual_seed(0)
    net = network()
    opt = torch.optim.Adam(net.parameters(), 1e-3)
    state0 = value(0, False).float().reshape(BATCH, -1)
    force = value(0, True)  # the step's control, float64 as the step sees it
    targets = [value(t, False).float().reshape(BATCH, -1) for t in range(1, K + 1)]
    phys = dict(nx=N, ny=N, dx=1.0, dy=1.0, dt=0.1, nu=0.1)

    def step(s):  # float32 [B, 2N²] -> float64 step -> float32, like Lift.Op
        return burgers2d_step(s.double().reshape(BATCH, 2, N, N), force, **phys).float().reshape(BATCH, -1)

    def correct(s):
        return net(s.reshape(BATCH, 2, N, N)).reshape(BATCH, -1)

    def iteration():
        opt.zero_grad()
        state, total = state0, None
        for i in range(K):
            stepped = step(state)
            state = stepped + correct(stepped)
            l = F.mse_loss(state, targets[i])
            total = l if total is None else total + l
        loss = total * (1.0 / K)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()

    def network_only():  # the network's share: K corrections fwd + bwd, clip, Adam
        opt.zero_grad()
        total = None
        for i in range(K):
            l = F.mse_loss(state0 + correct(state0), targets[i])
            total = l if total is None else total + l
        (total * (1.0 / K)).backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()

    def network_forward():  # the network's forward pass alone: K corrections without autograd
        with torch.no_grad():
            for _ in range(K):
                correct(state0)

    def steps_only():  # the solver's share, chained as in the iteration: K steps, K - 1 recorded ones backward
        s = step(state0).detach().requires_grad_(True)
        y = s
        for _ in range(K - 1):
            y = step(y)
        y.sum().backward()

    s64 = value(0, False)

    def physics_primal():  # K steps of the whole batch, float64, no autograd
        with torch.no_grad():
            for _ in range(K):
                burgers2d_step(s64, force, **phys)

    sg = s64.clone().requires_grad_(True)
    seed = torch.ones_like(s64)

    def physics_pullback():  # K - 1 steps forward with autograd and their backward, float64
        sg.grad = None
        for _ in range(K - 1):
            burgers2d_step(sg, force, **phys).backward(seed)

    for name, fn in (("sol.iteration", iteration), ("sol.network", network_only),
                     ("sol.network_forward", network_forward), ("sol.lifted_steps", steps_only),
                     ("sol.physics_primal", physics_primal), ("sol.physics_pullback", physics_pullback)):
        print(f"{name} {measure(fn) * 1e6:.3f}", flush=True)


def check(a):
    n = a.nx * a.ny
    raw = np.fromfile(a.check[0], dtype="<f8")
    assert raw.size == 6 * n, f"expected {6 * n} doubles, got {raw.size}"
    state, force, seed = (torch.from_numpy(raw[k * 2 * n:(k + 1) * 2 * n].copy()).reshape(1, 2, a.ny, a.nx) for k in range(3))
    state.requires_grad_(True)
    force.requires_grad_(True)
    nxt = burgers2d_step(state, force, a.nx, a.ny, a.width / a.nx, a.height / a.ny, a.dt, a.nu)
    nxt.backward(seed)
    out = torch.cat([nxt.detach().reshape(-1), state.grad.reshape(-1), force.grad.reshape(-1)])
    out.numpy().astype("<f8").tofile(a.check[1])


def extra(p):
    p.add_argument("--check", nargs=2, metavar=("IN", "OUT"))
    p.add_argument("--nx", type=int, default=N)
    p.add_argument("--ny", type=int, default=N)
    p.add_argument("--width", type=float, default=32.0)
    p.add_argument("--height", type=float, default=32.0)
    p.add_argument("--dt", type=float, default=0.1)
    p.add_argument("--nu", type=float, default=0.1)


if __name__ == "__main__":
    a = args(extra)
    if a.check:
        check(a)
    else:
        sol_peer()
