"""Issue-4 peers (float64 like DiffGen.Physics, vectorised torch, same thread count): primal and gradient time of
(a) the 1D Burgers step (explicit diffusion + semi-Lagrangian self-advection, periodic) at 128 and 4096 cells;
(b) a 2D smoke step on a closed-box MAC grid at 128x128 and 512x512: MacCormack advection of the
    smoke, buoyancy (0, smoke) at the y-faces, semi-Lagrangian self-advection of the staggered
    velocity, pressure projection with CG (absolute max-norm residual 1e-3, as the C# side).
The gradient is d(sum(smoke * w) + sum(v * w'))/d(inputs) by autograd; the pressure solve is
differentiated implicitly (adjoint = another CG solve with the same symmetric operator), as
DiffGen's design prescribes, not by unrolling CG."""
from common import args, bench  # first: sets thread env vars before torch loads
import math

import torch

a = args()
torch.manual_seed(0)
F = torch.float64  # DiffGen.Physics is double precision


# ---------- 1D Burgers ----------
def burgers_case(n):
    nu, dt, dx = 0.01 / (128 * math.pi), 4.0 / n, 2.0 / n  # dt scaled with dx (1/32 at 128 cells)
    u0 = -torch.sin(math.pi * (-1 + 2.0 * torch.arange(n, dtype=F) / n))
    idx = torch.arange(n, dtype=F)
    seed = torch.rand(n, dtype=F)

    def step(u):
        tmp = u + nu * dt / dx ** 2 * (torch.roll(u, 1) - 2 * u + torch.roll(u, -1))
        x = idx - dt / dx * tmp
        fl = torch.floor(x)
        f = x - fl
        j0 = torch.remainder(fl.long(), n)
        return (1 - f) * tmp[j0] + f * tmp[torch.remainder(j0 + 1, n)]

    def primal():
        with torch.no_grad():
            step(u0)

    ug = u0.clone().requires_grad_(True)

    def grad():
        ug.grad = None
        step(ug).backward(seed)

    bench(f"burgers{n}.primal", primal, quick=a.quick)
    bench(f"burgers{n}.grad", grad, quick=a.quick)


# ---------- 2D smoke (closed box, MAC grid, dx = 1) ----------
def sample(f, y, x):
    """Bilinear sample of the 2D field f at fractional index positions (y, x), clamped to the field."""
    ny, nx = f.shape
    y = y.clamp(0, ny - 1)
    x = x.clamp(0, nx - 1)
    y0 = y.floor().clamp(max=ny - 2)
    x0 = x.floor().clamp(max=nx - 2)
    fy, fx = y - y0, x - x0
    i0 = (y0.long() * nx + x0.long()).reshape(-1)
    ff = f.reshape(-1)
    v00, v01 = ff[i0], ff[i0 + 1]
    v10, v11 = ff[i0 + nx], ff[i0 + nx + 1]
    fy, fx = fy.reshape(-1), fx.reshape(-1)
    return ((1 - fy) * ((1 - fx) * v00 + fx * v01) + fy * ((1 - fx) * v10 + fx * v11)).reshape(y.shape)


def laplace_neumann(p):
    """-(discrete Laplacian) with zero-flux walls: symmetric positive semi-definite."""
    pp = torch.nn.functional.pad(p[None, None], (1, 1, 1, 1), mode="replicate")[0, 0]
    return 4 * p - pp[1:-1, :-2] - pp[1:-1, 2:] - pp[:-2, 1:-1] - pp[2:, 1:-1]


def cg(b, tol=1e-3, maxit=2000):
    """Plain CG to an absolute max-norm residual tol (the C# solver's criterion; it uses IC(0) preconditioning)."""
    b = b - b.mean()  # Neumann: project out the constant null space
    x = torch.zeros_like(b)
    r = b.clone()
    p = r.clone()
    rr = (r * r).sum()
    for _ in range(maxit):
        if r.abs().max() <= tol:
            break
        ap = laplace_neumann(p)
        alpha = rr / (p * ap).sum()
        x += alpha * p
        r -= alpha * ap
        rr_new = (r * r).sum()
        p = r + (rr_new / rr) * p
        rr = rr_new
    return x


class PressureSolve(torch.autograd.Function):
    @staticmethod
    def forward(ctx, div):
        return cg(div)

    @staticmethod
    def backward(ctx, g):
        return cg(g)  # A symmetric: the adjoint solve uses the same operator


def smoke_case(n):
    ny = nx = n
    dt = 1.0
    yc, xc = torch.meshgrid(torch.arange(ny, dtype=F), torch.arange(nx, dtype=F), indexing="ij")
    # vx lives at x-faces (ny, nx+1), vy at y-faces (ny+1, nx), index coordinates in cell units.
    yx, xx = torch.meshgrid(torch.arange(ny, dtype=F), torch.arange(nx + 1, dtype=F) - 0.5, indexing="ij")
    yy, xy = torch.meshgrid(torch.arange(ny + 1, dtype=F) - 0.5, torch.arange(nx, dtype=F), indexing="ij")
    s0 = torch.zeros(ny, nx, dtype=F)
    s0[n // 10: n // 5, 2 * n // 5: 3 * n // 5] = 1.0  # rows n/10..n/5, columns 2n/5..3n/5
    # at rest, as the C# side: the buoyancy of the smoke block makes the divergence the solve removes
    vx0 = torch.zeros(ny, nx + 1, dtype=F)
    vy0 = torch.zeros(ny + 1, nx, dtype=F)
    ws, wx, wy = torch.rand(ny, nx, dtype=F), torch.rand(ny, nx + 1, dtype=F), torch.rand(ny + 1, nx, dtype=F)
    inner_x = torch.ones(ny, nx + 1, dtype=F)
    inner_x[:, 0] = inner_x[:, -1] = 0
    inner_y = torch.ones(ny + 1, nx, dtype=F)
    inner_y[0, :] = inner_y[-1, :] = 0

    def step(s, vx, vy):
        # centred velocity for the smoke
        uc = 0.5 * (vx[:, :-1] + vx[:, 1:])
        vc = 0.5 * (vy[:-1, :] + vy[1:, :])
        # MacCormack: forward SL, backward SL, correction, clamp to the forward stencil's range
        fwd = sample(s, yc - dt * vc, xc - dt * uc)
        bwd = sample(fwd, yc + dt * vc, xc + dt * uc)
        mc = fwd + 0.5 * (s - bwd)
        s_new = torch.minimum(torch.maximum(mc, torch.minimum(fwd, s)), torch.maximum(fwd, s))
        # buoyancy at the y-faces
        sp = torch.nn.functional.pad(s_new, (0, 0, 1, 1))
        vy = vy + dt * 0.5 * (sp[:-1, :] + sp[1:, :])
        # semi-Lagrangian self-advection of the staggered velocity
        vc_at_x = sample(vc, yx, xx)
        uc_at_y = sample(uc, yy, xy)
        vx_n = sample(vx, yx - dt * vc_at_x, (xx + 0.5) - dt * vx) * inner_x
        vy_n = sample(vy, (yy + 0.5) - dt * vy, xy - dt * uc_at_y) * inner_y
        # projection
        div = (vx_n[:, 1:] - vx_n[:, :-1]) + (vy_n[1:, :] - vy_n[:-1, :])
        p = PressureSolve.apply(-div)
        vx_p = vx_n.clone()
        vx_p[:, 1:-1] = vx_n[:, 1:-1] - (p[:, 1:] - p[:, :-1])
        vy_p = vy_n.clone()
        vy_p[1:-1, :] = vy_n[1:-1, :] - (p[1:, :] - p[:-1, :])
        return s_new, vx_p, vy_p

    def primal():
        with torch.no_grad():
            step(s0, vx0, vy0)

    sg, vxg, vyg = (t.clone().requires_grad_(True) for t in (s0, vx0, vy0))

    def grad():
        for t in (sg, vxg, vyg):
            t.grad = None
        s1, vx1, vy1 = step(sg, vxg, vyg)
        ((s1 * ws).sum() + (vx1 * wx).sum() + (vy1 * wy).sum()).backward()

    bench(f"smoke{n}x{n}.primal", primal, quick=a.quick)
    bench(f"smoke{n}x{n}.grad", grad, quick=a.quick)


for n in (128, 4096):
    burgers_case(n)
for n in (128, 512):
    smoke_case(n)
