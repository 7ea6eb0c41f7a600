"""Design experiments behind HierRec's collaborative dimension (issue 15), on MovieLens-100K, in PyTorch.

Run with Debian's PyTorch (not the python3 on PATH):

    /usr/bin/python3 benchmarks/collaborative_experiments.py [--data ../shared/data] {lowrank,finetune,residual,edlae,blend}

Every figure is validation NDCG@10 (full ranking, training items excluded) on a random 8:1:1 split per user drawn here
with numpy (seed 2020): the protocol of HierRec's Baselines sample, not its exact split, so compare rows within one
experiment, not with the C# tables. Test NDCG@10 is printed only where a row is chosen.

  lowrank   EASE (λ 500) against its rank-r truncated SVD (r = 64 … 512): how much the factorised dimension keeps.
  finetune  the rank-128 factors fine-tuned under the hierarchical model's objective (softmax over the catalogue, 70 %
            of a user's items in, 30 % predicted), at a given learning rate: does training improve on the closed form?
  residual  a small neural model (history embeddings, Σh/√n, user embedding) trained jointly with a frozen EASE term
            (out-of-fold by user folds, or fitted on all users): does the neural part learn what EASE misses?
  edlae     EASE with dropout emphasis (λ_i = λ + p/(1−p)·G_ii, Steck 2020), with and without the zero diagonal.
  blend     per-user z-score blends of EASE with RP3beta and user-KNN.
"""
import argparse
import math
import os

import numpy as np
import torch


def load(root):
    rows = [line.split("\t") for line in open(os.path.join(root, "ml-100k", "u.data"))]
    users, items = 943, 1682
    by_user = {}
    for u, i, _, _ in rows:
        by_user.setdefault(int(u) - 1, []).append(int(i) - 1)
    rng = np.random.default_rng(2020)
    tr, va, te = (np.zeros((users, items), np.float32) for _ in range(3))
    for u, its in by_user.items():
        its = np.array(its)
        rng.shuffle(its)
        n = len(its)
        a, b = int(round(n * 0.8)), int(round(n * 0.9))
        tr[u, its[:a]] = 1
        va[u, its[a:b]] = 1
        te[u, its[b:]] = 1
    return torch.tensor(tr), torch.tensor(va), torch.tensor(te)


def ndcg(scores, truth, exclude, k=10):
    s = scores.clone()
    s[exclude > 0] = -1e9
    top = s.topk(k, 1).indices
    hit = truth.gather(1, top)
    disc = 1 / torch.log2(torch.arange(2, k + 2).float())
    dcg = (hit * disc).sum(1)
    n = truth.sum(1).clamp(max=k).long()
    idcg = torch.cumsum(disc, 0)[(n - 1).clamp(min=0)]
    mask = truth.sum(1) > 0
    return (dcg / idcg)[mask].mean().item()


def ease(x, lam):
    g = x.t() @ x
    g += lam * torch.eye(x.shape[1])
    p = torch.linalg.inv(g)
    b = -p / p.diag()
    b.fill_diagonal_(0)
    return b


def z(s):
    return (s - s.mean(1, keepdim=True)) / s.std(1, keepdim=True).clamp(min=1e-9)


def lowrank(x, v, t):
    b = ease(x, 500)
    print("EASE", round(ndcg(x @ b, v, x), 4))
    u, s, vh = torch.linalg.svd(b)
    for r in [64, 128, 256, 512]:
        print("rank", r, round(ndcg(x @ ((u[:, :r] * s[:r]) @ vh[:r]), v, x), 4))


def masked(x):
    m = (torch.rand_like(x) < 0.7).float() * x
    return m, x - m


def nll(logits, target):
    return -((logits.log_softmax(1) * target).sum(1) / target.sum(1).clamp(min=1)).mean()


def finetune(x, v, t, lr, epochs=10):
    b = ease(x, 500)
    u, s, vh = torch.linalg.svd(b)
    r = 128
    a = torch.nn.Parameter((u[:, :r] * s[:r].sqrt()).clone())
    c = torch.nn.Parameter((vh[:r].t() * s[:r].sqrt()).clone())
    log_scale = torch.nn.Parameter(torch.tensor(math.log(20.0)))
    bias = torch.nn.Parameter(torch.zeros(x.shape[1]))
    opt = torch.optim.Adam([a, c, log_scale, bias], lr=lr)
    print("epoch 0 (the closed form)", round(ndcg(x @ a @ c.t(), v, x), 4))
    for epoch in range(1, epochs + 1):
        for b0 in torch.randperm(x.shape[0]).split(64):
            m, target = masked(x[b0])
            loss = nll(log_scale.exp() * (m @ a @ c.t()) + bias, target)
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            print("epoch", epoch, round(ndcg(log_scale.exp() * (x @ a @ c.t()) + bias, v, x), 4))


def residual(x, v, t, out_of_fold, epochs=40, d=64):
    users, items = x.shape
    folds = torch.randperm(users) % 5
    full = ease(x, 500)
    per_fold = [ease(x * (folds != k).float().unsqueeze(1), 500) for k in range(5)]
    g = torch.Generator().manual_seed(1)
    h = torch.nn.Parameter(torch.randn(items, d, generator=g) * 0.05)
    e = torch.nn.Parameter(torch.randn(items, d, generator=g) * 0.05)
    p = torch.nn.Parameter(torch.randn(users, d, generator=g) * 0.05)
    w = torch.nn.Parameter(torch.tensor(10.0))
    bias = torch.nn.Parameter(torch.zeros(items))
    opt = torch.optim.AdamW([h, e, p, w, bias], lr=1e-3, weight_decay=0.01)

    def neural(m, rows):
        return ((m @ h) / m.sum(1, keepdim=True).clamp(min=1).sqrt() + p[rows]) @ e.t() + bias

    print("EASE", round(ndcg(x @ full, v, x), 4))
    for epoch in range(epochs):
        for rows in torch.randperm(users).split(32):
            m, target = masked(x[rows])
            if out_of_fold:
                collaborative = torch.zeros_like(m)
                for k in range(5):
                    sel = folds[rows] == k
                    if sel.any():
                        collaborative[sel] = m[sel] @ per_fold[k]
            else:
                collaborative = m @ full
            loss = nll(w * collaborative + neural(m, rows), target)
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            fused = w * (x @ full) + neural(x, torch.arange(users))
            print("epoch", epoch + 1, "fused", round(ndcg(fused, v, x), 4), "neural part alone", round(ndcg(neural(x, torch.arange(users)), v, x), 4))


def edlae(x, v, t):
    g = x.t() @ x
    diag = g.diag()
    for lam in [10, 50, 100, 250, 500]:
        for p in [0.1, 0.25, 0.33, 0.5]:
            m = g + torch.diag(lam + p / (1 - p) * diag)
            inv = torch.linalg.inv(m)
            b = -inv / inv.diag()
            b.fill_diagonal_(0)
            free = torch.linalg.solve(m, g)
            print("λ", lam, "p", p, "zero diagonal", round(ndcg(x @ b, v, x), 4), "free diagonal", round(ndcg(x @ free, v, x), 4))


def blend(x, v, t):
    e = x @ ease(x, 500)
    print("EASE", round(ndcg(e, v, x), 4), "test", round(ndcg(e, t, x + v), 4))
    best = None
    for alpha in [0.5, 0.8, 1.0]:
        for beta in [0.2, 0.4, 0.6]:
            pui = x / x.sum(1, keepdim=True).clamp(min=1)
            piu = (x / x.sum(0, keepdim=True).clamp(min=1)).t()
            w = (piu ** alpha) @ (pui ** alpha) / (x.sum(0).clamp(min=1) ** beta).unsqueeze(0)
            w.fill_diagonal_(0)
            s = x @ w
            score = ndcg(s, v, x)
            if best is None or score > best[0]:
                best = (score, alpha, beta, s)
    print("RP3beta", round(best[0], 4), "α", best[1], "β", best[2])
    xn = x / x.norm(dim=1, keepdim=True).clamp(min=1e-9)
    sim = xn @ xn.t()
    sim.fill_diagonal_(0)
    top = sim.topk(50, 1)
    knn = torch.zeros_like(sim).scatter_(1, top.indices, top.values) @ x
    print("user-KNN (k 50)", round(ndcg(knn, v, x), 4))
    for name, other in [("RP3beta", best[3]), ("user-KNN", knn)]:
        for gamma in [0.1, 0.25, 0.5, 1.0]:
            s = z(e) + gamma * z(other)
            print("EASE +", gamma, "×", name, round(ndcg(s, v, x), 4), "test", round(ndcg(s, t, x + v), 4))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="../shared/data")
    parser.add_argument("experiment", choices=["lowrank", "finetune", "residual", "edlae", "blend"])
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--full-fit", action="store_true", help="residual: EASE fitted on all users instead of out of fold")
    args = parser.parse_args()
    torch.manual_seed(0)
    x, v, t = load(args.data)
    if args.experiment == "lowrank":
        lowrank(x, v, t)
    elif args.experiment == "finetune":
        finetune(x, v, t, args.lr)
    elif args.experiment == "residual":
        residual(x, v, t, out_of_fold=not args.full_fit)
    elif args.experiment == "edlae":
        edlae(x, v, t)
    else:
        blend(x, v, t)
