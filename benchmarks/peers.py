"""Peer mutual-information estimators for ``benchmarks/mi_accuracy.py``, run on the same samples as FMMI.

Every estimator has the signature ``name(x, y, seed) -> float``: x of shape (n_samples, d_x), y of shape
(n_samples, d_y), the estimate of I(X; Y) in nats; ``seed`` fixes every random choice. Keyword arguments
after ``seed`` set the budget (the defaults are the published settings named in each docstring).

- :func:`ksg`: Kraskov-Stoegbauer-Grassberger, algorithm 1 (k = 10), max-norm, standardised inputs.
- :func:`cca`: Gaussian MI -1/2 sum_k log(1 - rho_k^2) from the canonical correlations of the raw data.
- :func:`gaussian_copula`: the same after rank-to-normal of every coordinate.
- :func:`infonce`: InfoNCE bound with a concatenation MLP critic (bmi's defaults; at most log(test size)).
- :func:`reference_fmmi`: the reference conditional FMMI recipe, self-contained (torch only).

Not part of the package: the package's own estimator is ``fmmi_neuro.estimate_mi``.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy.spatial import cKDTree
from scipy.special import digamma, ndtri
from scipy.stats import rankdata
from torch import nn


def _as_2d(a: np.ndarray) -> np.ndarray:
    arr = np.asarray(a, dtype=np.float64)
    return arr[:, None] if arr.ndim == 1 else arr


def _standardise(a: np.ndarray) -> np.ndarray:
    return (a - a.mean(axis=0)) / a.std(axis=0)


def ksg(x: np.ndarray, y: np.ndarray, seed: int, *, k: int = 10, workers: int = 1) -> float:
    """KSG estimator, algorithm 1 of Kraskov, Stoegbauer & Grassberger (2004), eq. (8).

    I = psi(k) + psi(n) - < psi(n_x + 1) + psi(n_y + 1) >, where eps_i is the max-norm distance from
    sample i to its k-th neighbour in the joint space and n_x (n_y) counts the other samples strictly
    closer than eps_i in the X (Y) space, also in the max-norm. As in scikit-learn and bmi, every
    coordinate is standardised first, and noise of relative size 1e-10 breaks ties (``seed`` draws it).
    No clamping: the estimate can be slightly negative for independent data.

    Parameters
    ----------
    x : ndarray, shape (n_samples, d_x)
    y : ndarray, shape (n_samples, d_y)
    seed : int
    k : int
        Neighbours (bmi's KSG-10 uses 10).
    workers : int
        Threads for the k-d tree queries.

    Returns
    -------
    float
        Estimate in nats.
    """
    x, y = _standardise(_as_2d(x)), _standardise(_as_2d(y))
    rng = np.random.default_rng(seed)
    x = x + 1e-10 * rng.standard_normal(x.shape)
    y = y + 1e-10 * rng.standard_normal(y.shape)
    n = x.shape[0]
    if n <= k:
        raise ValueError(f"KSG needs more than k = {k} samples; got {n}.")
    joint = np.hstack([x, y])
    dist, _ = cKDTree(joint).query(joint, k=k + 1, p=np.inf, workers=workers)
    radius = np.nextafter(dist[:, -1], 0)
    counts = [
        cKDTree(a).query_ball_point(a, radius, p=np.inf, return_length=True, workers=workers) - 1
        for a in (x, y)
    ]
    return float(digamma(k) + digamma(n) - np.mean(digamma(counts[0] + 1) + digamma(counts[1] + 1)))


def _gaussian_mi(x: np.ndarray, y: np.ndarray) -> float:
    """-1/2 sum_k log(1 - rho_k^2) over the sample canonical correlations rho_k of x and y."""
    x, y = _standardise(x), _standardise(y)
    n = x.shape[0]
    wx = np.linalg.cholesky(x.T @ x / n)
    wy = np.linalg.cholesky(y.T @ y / n)
    cross = np.linalg.solve(wx, (x.T @ y / n)) @ np.linalg.inv(wy).T
    rho = np.linalg.svd(cross, compute_uv=False)
    return float(-0.5 * np.log1p(-(rho**2)).sum())


def cca(x: np.ndarray, y: np.ndarray, seed: int) -> float:
    """Gaussian (CCA) estimate: -1/2 sum_k log(1 - rho_k^2), rho_k the sample canonical correlations.

    Exact for jointly Gaussian data up to sampling error; blind to non-linear dependence. ``seed`` is
    unused (the estimate is deterministic). Returns nats.
    """
    return _gaussian_mi(_as_2d(x), _as_2d(y))


def _rank_to_normal(a: np.ndarray) -> np.ndarray:
    """Phi^{-1}(rank / (n + 1)) per column (average ranks for ties)."""
    return ndtri(rankdata(a, axis=0) / (a.shape[0] + 1))


def gaussian_copula(x: np.ndarray, y: np.ndarray, seed: int) -> float:
    """Gaussian-copula estimate: :func:`cca` after rank-to-normal of every coordinate (no bias correction).

    Invariant under strictly increasing maps of each coordinate; a lower bound on I for data with a
    non-Gaussian copula. ``seed`` is unused. Returns nats.
    """
    return _gaussian_mi(_rank_to_normal(_as_2d(x)), _rank_to_normal(_as_2d(y)))


class _ConcatCritic(nn.Module):
    """f(x, y) = MLP([x, y]) with ReLU; scores all pairs of a batch without forming the pairs' inputs."""

    def __init__(self, dim_x: int, dim_y: int, hidden: tuple[int, ...]):
        super().__init__()
        self.first_x = nn.Linear(dim_x, hidden[0])
        self.first_y = nn.Linear(dim_y, hidden[0], bias=False)
        layers: list[nn.Module] = []
        for width_in, width_out in zip(hidden[:-1], hidden[1:], strict=True):
            layers += [nn.ReLU(), nn.Linear(width_in, width_out)]
        self.rest = nn.Sequential(*layers, nn.ReLU(), nn.Linear(hidden[-1], 1))

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Scores f(x_i, y_j), shape (len(x), len(y))."""
        pre = self.first_x(x)[:, None, :] + self.first_y(y)[None, :, :]
        return self.rest(pre).squeeze(-1)


def _infonce_bound(scores: torch.Tensor) -> torch.Tensor:
    """log m + mean_i [f(x_i, y_i) - logsumexp_j f(x_i, y_j)] for a (m, m) score matrix."""
    return math.log(scores.shape[0]) + (scores.diagonal() - torch.logsumexp(scores, dim=1)).mean()


def _init_from(module: nn.Module, generator: torch.Generator) -> nn.Module:
    """Draw every Linear layer's weights and biases from U(+-1/sqrt(fan_in)) (PyTorch's default ranges)
    with ``generator``, so the initialisation follows ``seed`` without a global seed."""
    with torch.no_grad():
        for layer in module.modules():
            if isinstance(layer, nn.Linear):
                bound = 1 / math.sqrt(layer.in_features)
                for p in (layer.weight, layer.bias):
                    if p is not None:
                        p.copy_((2 * torch.rand(p.shape, generator=generator) - 1) * bound)
    return module


def infonce(
    x: np.ndarray,
    y: np.ndarray,
    seed: int,
    *,
    steps: int = 10_000,
    batch_size: int = 256,
    hidden: tuple[int, ...] = (16, 8),
    lr: float = 0.1,
    eval_chunk: int = 512,
) -> float:
    """InfoNCE estimate with a concatenation MLP critic, bmi's ``InfoNCEEstimator`` defaults.

    Standardise, split the samples 50/50 at random, train the critic with Adam on the InfoNCE bound over
    mini-batches (all batch pairs scored), and report the bound on the whole test half:
    log m + mean_i [f(x_i, y_i) - logsumexp_j f(x_i, y_j)], which can never exceed log m (m test samples).

    Parameters
    ----------
    x : ndarray, shape (n_samples, d_x)
    y : ndarray, shape (n_samples, d_y)
    seed : int
        Split, initialisation and batches.
    steps, batch_size, hidden, lr
        Training budget and critic (bmi: 10,000 steps, batch 256, hidden (16, 8), Adam lr 0.1).
    eval_chunk : int
        Rows of the test score matrix computed at a time (memory).

    Returns
    -------
    float
        Estimate in nats.
    """
    x, y = _standardise(_as_2d(x)), _standardise(_as_2d(y))
    order = np.random.default_rng(seed).permutation(x.shape[0])
    half = x.shape[0] // 2
    train, test = order[:half], order[half:]
    if half < batch_size:
        raise ValueError(f"the training half ({half} samples) is smaller than the batch ({batch_size}).")
    gen = torch.Generator().manual_seed(seed)
    tx, ty = (torch.as_tensor(a, dtype=torch.float32) for a in (x, y))
    critic = _init_from(_ConcatCritic(x.shape[1], y.shape[1], tuple(hidden)), gen)
    optimiser = torch.optim.Adam(critic.parameters(), lr=lr)
    train_idx = torch.as_tensor(train)
    for _ in range(steps):
        batch = train_idx[torch.randperm(half, generator=gen)[:batch_size]]
        loss = -_infonce_bound(critic(tx[batch], ty[batch]))
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    test_idx = torch.as_tensor(test)
    xt, yt = tx[test_idx], ty[test_idx]
    with torch.no_grad():
        terms = []
        for start in range(0, len(test), eval_chunk):
            scores = critic(xt[start : start + eval_chunk], yt)
            own = scores.diagonal(offset=start)
            terms.append(own - torch.logsumexp(scores, dim=1))
    return float(math.log(len(test)) + torch.cat(terms).mean())


class _VelocityMLP(nn.Module):
    """v(y_t, t, x): MLP on [y_t, x, t, sin(pi k t), cos(pi k t)] (k = 1..n_freq), SiLU, output dim d_y."""

    def __init__(self, dim_y: int, dim_x: int, width: int, depth: int, n_freq: int):
        super().__init__()
        self.register_buffer("freqs", math.pi * torch.arange(1, n_freq + 1, dtype=torch.float32))
        layers: list[nn.Module] = []
        width_in = dim_y + dim_x + 1 + 2 * n_freq
        for _ in range(depth):
            layers += [nn.Linear(width_in, width), nn.SiLU()]
            width_in = width
        self.net = nn.Sequential(*layers, nn.Linear(width_in, dim_y))

    def forward(self, y: torch.Tensor, t: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        angles = t[:, None] * self.freqs
        return self.net(torch.cat([y, x, t[:, None], torch.sin(angles), torch.cos(angles)], dim=1))


def _derangement(n: int, generator: torch.Generator) -> torch.Tensor:
    """A random permutation of range(n) without fixed points (a random n-cycle), shape (n,)."""
    order = torch.randperm(n, generator=generator)
    perm = torch.empty_like(order)
    perm[order] = order.roll(-1)
    return perm


def exact_divergence(field, y: torch.Tensor, t: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """div_y field(y, t, x) per row, shape (batch,): the trace of the (d_y, d_y) Jacobian, exactly.

    ``field`` maps (y (batch, d_y), t (batch,), x (batch, d_x)) to (batch, d_y) and treats rows
    independently.
    """

    def one(y1, t1, x1):
        return field(y1[None], t1[None], x1[None])[0]

    jac = torch.func.vmap(torch.func.jacrev(one))(y, t, x)
    return jac.diagonal(dim1=1, dim2=2).sum(-1)


def reference_fmmi(
    x: np.ndarray,
    y: np.ndarray,
    seed: int,
    *,
    steps: int = 10_000,
    width: int = 512,
    depth: int = 3,
    batch_size: int = 512,
    lr: float = 1e-3,
    weight_decay: float = 1e-2,
    n_freq: int = 4,
    eval_chunk: int = 256,
    device: str = "cpu",
) -> float:
    """The reference conditional FMMI recipe, written out in full (no fmmi_neuro code).

    Rank-to-normal of every coordinate, one 50/50 split (train on the first half, estimate on the
    second, both centred by the training mean). A velocity MLP v(y_t, t, x) (width 512, depth 3, SiLU,
    time features t, sin(pi k t), cos(pi k t), k = 1..4) is regressed by flow matching onto y_1 - y_0 at
    y_t = (1 - t) y_0 + t y_1, t ~ U(0, 1), with y_1 = y and x of a training pair and y_0 the y of another
    pair of the batch (a derangement), with AdamW (lr 1e-3 constant, weight decay 1e-2), batch 512,
    10,000 steps, no early stopping. The estimate is -mean div_y v over the held-out half, one t ~ U(0, 1)
    and one deranged y_0 per held-out sample, with the exact divergence (Jacobian trace).

    Parameters
    ----------
    x : ndarray, shape (n_samples, d_x)
    y : ndarray, shape (n_samples, d_y)
    seed : int
        Initialisation, batches, times and derangements.
    steps, width, depth, batch_size, lr, weight_decay, n_freq
        The recipe; change them only for smoke runs.
    eval_chunk : int
        Held-out rows per Jacobian call (memory).
    device : str
        torch device.

    Returns
    -------
    float
        Estimate in nats.
    """
    gx, gy = _rank_to_normal(_as_2d(x)), _rank_to_normal(_as_2d(y))
    half = gx.shape[0] // 2
    gx, gy = gx - gx[:half].mean(axis=0), gy - gy[:half].mean(axis=0)
    tx, ty = (torch.as_tensor(a, dtype=torch.float32, device=device) for a in (gx, gy))
    gen = torch.Generator().manual_seed(seed)
    net = _init_from(_VelocityMLP(ty.shape[1], tx.shape[1], width, depth, n_freq), gen).to(device)
    optimiser = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=weight_decay)
    for _ in range(steps):
        idx = torch.randint(0, half, (batch_size,), generator=gen).to(device)
        t = torch.rand(batch_size, generator=gen).to(device)
        y1, xb = ty[idx], tx[idx]
        y0 = y1[_derangement(batch_size, gen).to(device)]
        y_t = (1 - t[:, None]) * y0 + t[:, None] * y1
        loss = ((net(y_t, t, xb) - (y1 - y0)) ** 2).sum(dim=1).mean()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    x_test, y_test = tx[half:], ty[half:]
    m = y_test.shape[0]
    t = torch.rand(m, generator=gen).to(device)
    y0 = y_test[_derangement(m, gen).to(device)]
    y_t = (1 - t[:, None]) * y0 + t[:, None] * y_test
    divergences = [
        exact_divergence(net, y_t[s : s + eval_chunk], t[s : s + eval_chunk], x_test[s : s + eval_chunk])
        for s in range(0, m, eval_chunk)
    ]
    return float(-torch.cat(divergences).mean().detach())


PEERS = {
    "ksg": ksg,
    "cca": cca,
    "gc": gaussian_copula,
    "infonce": infonce,
    "reference": reference_fmmi,
}
"""Method name (as in ``mi_accuracy.py --methods``) -> estimator ``(x, y, seed, **budget) -> nats``."""
