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

Four more, aimed at target 1's "signal EASE lacks" (2026-12-07; each prints its grid on validation and the test figure
of the row validation chooses; --seed picks the split, 2020 by default as above):

  temporal  the request's time: items first rated after the user's last training interaction removed (a user cannot
            rate a film before anyone has), and a blend with the popularity of each item in the weeks the user was
            active (training timestamps only).
  infae     ∞-AE (Sachdeva et al. 2022): kernel ridge regression of the user rows under a ReLU network's neural
            tangent kernel (depth 1 and 2), alone and blended with EASE.
  ratings   the rating values in EASE's input (r/5, √r, 1 + [r ≥ 4], centred), and the user-user EASE, blended.
  stack     a learnt per-(user, item) fusion: a linear and a one-hidden-layer ranker over EASE's top 100, with EASE,
            ∞-AE, user-user EASE, ItemKNN, popularity, history length and EASE's rank as features, trained with a
            softmax loss on 12.5 % of each user's training items held out (the base models refitted without them).
"""
import argparse
import math
import os

import numpy as np
import torch


def load(root, seed=2020, extras=None):
    """The split; with extras={} also fills extras["rating"] and extras["time"] (training cells only)."""
    rows = [line.split("\t") for line in open(os.path.join(root, "ml-100k", "u.data"))]
    users, items = 943, 1682
    by_user = {}
    for u, i, r, ts in rows:
        by_user.setdefault(int(u) - 1, []).append((int(i) - 1, int(r), int(ts)))
    rng = np.random.default_rng(seed)
    tr, va, te, rating, time = (np.zeros((users, items), np.float32) for _ in range(5))
    time = time.astype(np.float64)
    for u, its in by_user.items():
        its = np.array(its)
        rng.shuffle(its[:, 0])  # the items alone, as before: the split stays the one the earlier rows used
        n = len(its)
        a, b = int(round(n * 0.8)), int(round(n * 0.9))
        tr[u, its[:a, 0]] = 1
        va[u, its[a:b, 0]] = 1
        te[u, its[b:, 0]] = 1
    if extras is not None:
        for u, its in by_user.items():
            for i, r, ts in its:
                if tr[u, i] > 0:
                    rating[u, i], time[u, i] = r, ts
        extras["rating"], extras["time"] = torch.tensor(rating), time
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


def chosen(rows):
    """rows: (label, validation, test); prints the one validation chooses."""
    label, val, test = max(rows, key=lambda r: r[1])
    print("chosen on validation:", label, "validation", round(val, 4), "test", round(test, 4))


def temporal(x, v, t, time):
    e = x @ ease(x, 500)
    rows = [("EASE", ndcg(e, v, x), ndcg(e, t, x + v))]
    day, trained = 86400.0, x.numpy() > 0
    first = np.where(trained, time, np.inf).min(0)
    user_last = np.where(trained, time, -np.inf).max(1)
    for slack in [0, 1, 7, 30]:
        late = torch.tensor(first[None, :] > user_last[:, None] + slack * day)
        s = e.masked_fill(late, -1e8)
        rows.append((f"feasible, slack {slack} days", ndcg(s, v, x), ndcg(s, t, x + v)))
        print(rows[-1][0], "removes", round(late.float().mean().item(), 3), "of the cells and",
              round((v * late).sum().item() / v.sum().item(), 4), "of the validation items; validation", round(rows[-1][1], 4))
    week = ((time - time[trained].min()) // (7 * day)).astype(int)
    u, i = np.nonzero(trained)
    counts = np.zeros((week[trained].max() + 1, x.shape[1]))
    np.add.at(counts, (week[u, i], i), 1)
    share = counts / np.maximum(counts.sum(1, keepdims=True), 1)
    active = np.zeros((x.shape[0], counts.shape[0]))
    np.add.at(active, (u, week[u, i]), 1)
    active /= active.sum(1, keepdims=True)
    local = torch.tensor(np.log(active @ share + 1e-6), dtype=torch.float32)
    print("local popularity alone", round(ndcg(local, v, x), 4))
    for beta in [0.1, 0.25, 0.5, 1.0]:
        s = z(e) + beta * z(local)
        rows.append((f"EASE + {beta} × local popularity", ndcg(s, v, x), ndcg(s, t, x + v)))
        print(rows[-1][0], round(rows[-1][1], 4))
    print("EASE", round(rows[0][1], 4), "test", round(rows[0][2], 4))
    chosen(rows)


def ntk(x, depth):
    """The neural tangent kernel of a fully connected ReLU network of the given depth over the rows of x."""
    x = x.double()
    s0 = x @ x.t()
    norms = torch.outer(s0.diag().sqrt(), s0.diag().sqrt())
    k, sigma = s0.clone(), s0.clone()
    for _ in range(depth):
        theta = torch.acos((sigma / norms).clamp(-1, 1))
        nngp = norms / (2 * math.pi) * (torch.sin(theta) + (math.pi - theta) * torch.cos(theta))
        k = nngp + k * (math.pi - theta) / (2 * math.pi)
        sigma = nngp
        norms = torch.outer(sigma.diag().sqrt(), sigma.diag().sqrt())
    return k


def infae_scores(x, depth, lam):
    k = ntk(x, depth)
    reg = lam / 100 * k.diag().mean() * torch.eye(k.shape[0], dtype=k.dtype)
    return (k @ torch.linalg.solve(k + reg, x.double())).float()


def infae(x, v, t):
    e = x @ ease(x, 500)
    rows = [("EASE", ndcg(e, v, x), ndcg(e, t, x + v))]
    for depth in [1, 2]:
        for lam in [10, 30, 100, 300]:
            p = infae_scores(x, depth, lam)
            rows.append((f"∞-AE depth {depth} λ {lam}", ndcg(p, v, x), ndcg(p, t, x + v)))
            line = [rows[-1][0], "alone", round(rows[-1][1], 4)]
            for gamma in [0.25, 0.5, 1.0]:
                s = z(e) + gamma * z(p)
                rows.append((f"EASE + {gamma} × ∞-AE depth {depth} λ {lam}", ndcg(s, v, x), ndcg(s, t, x + v)))
                line += ["blend", gamma, round(rows[-1][1], 4)]
            print(*line)
    print("EASE", round(rows[0][1], 4), "test", round(rows[0][2], 4))
    chosen(rows)


def ratings(x, v, t, rating):
    e = x @ ease(x, 500)
    rows = [("EASE", ndcg(e, v, x), ndcg(e, t, x + v))]
    mean = rating.sum(1, keepdim=True) / x.sum(1, keepdim=True).clamp(min=1)
    inputs = {"r/5": rating / 5, "√r": rating.sqrt() / math.sqrt(5), "1 + [r ≥ 4]": x + (rating >= 4).float(),
              "centred": x + 0.25 * (rating - mean) * x}
    for name, inp in inputs.items():
        for lam in [250, 500, 1000]:
            g = inp.t() @ inp + lam * torch.eye(x.shape[1])
            inv = torch.linalg.inv(g)
            b = -inv / inv.diag()
            b.fill_diagonal_(0)
            s = inp @ b
            both = z(e) + z(s)
            rows += [(f"EASE on {name}, λ {lam}", ndcg(s, v, x), ndcg(s, t, x + v)),
                     (f"EASE + EASE on {name}, λ {lam}", ndcg(both, v, x), ndcg(both, t, x + v))]
            print(rows[-2][0], round(rows[-2][1], 4), "blended with EASE", round(rows[-1][1], 4))
    for lam in [100, 200, 500]:
        users = ease(x.t(), lam).t() @ x
        for gamma in [0.25, 0.5, 1.0]:
            s = z(e) + gamma * z(users)
            rows.append((f"EASE + {gamma} × user-user EASE λ {lam}", ndcg(s, v, x), ndcg(s, t, x + v)))
        print("user-user EASE λ", lam, "alone", round(ndcg(users, v, x), 4), "blends", [round(r[1], 4) for r in rows[-3:]])
    print("EASE", round(rows[0][1], 4), "test", round(rows[0][2], 4))
    chosen(rows)


def stack_features(x, candidates=100):
    e = x @ ease(x, 500)
    n = x.sum(0).clamp(min=1).sqrt()
    cosine = (x.t() @ x) / (torch.outer(n, n) + 10)
    cosine.fill_diagonal_(0)
    bases = [z(e), z(infae_scores(x, 2, 100)), z(ease(x.t(), 500).t() @ x), z(x @ cosine),
             z(torch.log1p(x.sum(0)).expand_as(x)), torch.log1p(x.sum(1, keepdim=True)).expand_as(x) / 5]
    top = e.masked_fill(x > 0, -1e9).topk(candidates, 1).indices
    rank = torch.log1p(torch.arange(candidates).float()).expand(x.shape[0], candidates)
    return torch.stack([b.gather(1, top) for b in bases] + [rank], 2), top


def stack(x, v, t, seed):
    held = torch.tensor(np.random.default_rng(seed + 7).random(x.shape) < 0.125) & (x > 0)
    train_features, train_top = stack_features(x * ~held)
    target = (x * held).gather(1, train_top)
    print("held-out training items among EASE's top 100:", int(target.sum().item()), "of", int(held.sum().item()))
    features, top = stack_features(x)

    def served(scores, truth, exclude):
        full = torch.full(truth.shape, -1e9).scatter_(1, top, scores)
        return ndcg(full, truth, exclude)

    order = -torch.arange(top.shape[1]).float().expand(top.shape)
    rows = [("EASE", served(order, v, x), served(order, t, x + v))]
    keep = target.sum(1) > 0
    for hidden in [0, 32]:
        torch.manual_seed(seed)
        d = features.shape[2]
        model = torch.nn.Linear(d, 1) if hidden == 0 else torch.nn.Sequential(
            torch.nn.Linear(d, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 1))
        opt = torch.optim.Adam(model.parameters(), lr=3e-3, weight_decay=1e-4)
        for epoch in range(300):
            lp = torch.log_softmax(model(train_features[keep]).squeeze(2), 1)
            loss = -((lp * target[keep]).sum(1) / target[keep].sum(1)).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            if epoch % 100 == 99:
                with torch.no_grad():
                    s = model(features).squeeze(2)
                    rows.append((f"stacker, hidden {hidden}, epoch {epoch + 1}", served(s, v, x), served(s, t, x + v)))
                print(rows[-1][0], "loss", round(loss.item(), 4), "validation", round(rows[-1][1], 4))
    print("EASE", round(rows[0][1], 4), "test", round(rows[0][2], 4))
    chosen(rows)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="../shared/data")
    parser.add_argument("experiment", choices=["lowrank", "finetune", "residual", "edlae", "blend", "temporal", "infae", "ratings", "stack"])
    parser.add_argument("--seed", type=int, default=2020, help="the split's seed")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--full-fit", action="store_true", help="residual: EASE fitted on all users instead of out of fold")
    args = parser.parse_args()
    torch.manual_seed(0)
    extras = {}
    x, v, t = load(args.data, args.seed, extras)
    if args.experiment == "lowrank":
        lowrank(x, v, t)
    elif args.experiment == "finetune":
        finetune(x, v, t, args.lr)
    elif args.experiment == "residual":
        residual(x, v, t, out_of_fold=not args.full_fit)
    elif args.experiment == "edlae":
        edlae(x, v, t)
    elif args.experiment == "temporal":
        temporal(x, v, t, extras["time"])
    elif args.experiment == "infae":
        infae(x, v, t)
    elif args.experiment == "ratings":
        ratings(x, v, t, extras["rating"])
    elif args.experiment == "stack":
        stack(x, v, t, args.seed)
    else:
        blend(x, v, t)
