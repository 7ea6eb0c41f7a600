"""Design experiment behind issue 15's target 3 (the social layer's gain on Last.fm-2K): how much the friendship graph
adds to EASE at all, in numpy.

Run with Debian's Python (numpy; not the python3 on PATH):

    /usr/bin/python3 benchmarks/social_experiments.py [--data ../shared/data] [--seed 2020] [--factorised]

Last.fm-2K, a random 8:1:1 split per user drawn here (numpy, the given seed): the protocol of HierRec's Baselines
sample, not its exact split, so compare the rows with each other, not with the C# tables. Validation and test NDCG@10,
full ranking, known items excluded. Rows: EASE (λ 100) alone; friends' training rows (averaged over friends) added to the
user's own row with weight η before EASE; and friends' rows blended with EASE's scores after per-user scaling (weight g). With --factorised, the
same blend on top of EASE factorised to rank 128 as HierRec's collaborative dimension does (randomised SVD, two power
iterations): the friends' rows exact (what HierRec's friends' items dimension adds), and projected onto B's top 128
right singular vectors (what would fit in the ranker's dot product).
The EASE solve at 17,632 items takes about three minutes on two cores.
"""
import argparse
import os
import time

import numpy as np


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="../shared/data")
    parser.add_argument("--seed", type=int, default=2020)
    parser.add_argument("--factorised", action="store_true")
    args = parser.parse_args()
    root = os.path.join(args.data, "hetrec2011-lastfm-2k")
    rng = np.random.default_rng(args.seed)
    ua = np.loadtxt(os.path.join(root, "user_artists.dat"), skiprows=1, dtype=np.int64)
    uf = np.loadtxt(os.path.join(root, "user_friends.dat"), skiprows=1, dtype=np.int64)
    users, items = np.unique(ua[:, 0]), np.unique(ua[:, 1])
    um = {u: i for i, u in enumerate(users)}
    im = {v: i for i, v in enumerate(items)}
    n_users, n_items = len(users), len(items)
    by_user = {}
    for u, a, _ in ua:
        by_user.setdefault(um[u], []).append(im[a])
    parts = ([], [], [])
    for u, row in by_user.items():
        row = np.array(row)
        rng.shuffle(row)
        n = len(row)
        a, b = int(round(n * 0.8)), int(round(n * 0.9))
        for k, chunk in enumerate((row[:a], row[a:b], row[b:])):
            parts[k].extend((u, x) for x in chunk)

    def matrix(pairs):
        m = np.zeros((n_users, n_items), np.float32)
        for u, x in pairs:
            m[u, x] = 1
        return m

    train, valid, test = (matrix(p) for p in parts)
    friends = np.zeros((n_users, n_users), np.float32)
    for a, b in uf:
        if a in um and b in um:
            friends[um[a], um[b]] = 1
    friends /= np.maximum(friends.sum(1, keepdims=True), 1)

    def ndcg(scores, relevant, seen, k=10):
        scores = scores.copy()
        scores[seen > 0] = -np.inf
        top = np.argpartition(-scores, k, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(scores, top, 1), 1)
        top = np.take_along_axis(top, order, 1)
        gains = np.take_along_axis(relevant, top, 1)
        discount = 1 / np.log2(np.arange(2, k + 2))
        counts = relevant.sum(1)
        ideal = np.array([discount[: int(min(c, k))].sum() for c in counts])
        keep = counts > 0
        return ((gains * discount).sum(1)[keep] / ideal[keep]).mean()

    def report(name, scores):
        print(f"{name}: validation {ndcg(scores, valid, train):.4f}, test {ndcg(scores, test, train + valid):.4f}", flush=True)

    start = time.time()
    gram = train.T @ train
    gram[np.diag_indices_from(gram)] += 100.0
    inverse = np.linalg.inv(gram)
    weights = -inverse / np.diag(inverse)
    weights[np.diag_indices_from(weights)] = 0
    print(f"{n_users} users, {n_items} items; EASE solve {time.time() - start:.0f} s")
    base = train @ weights
    report("EASE (λ 100)", base)
    friend_rows = friends @ train
    for eta in (0.05, 0.1, 0.2, 0.3, 0.5, 1.0):
        report(f"friends' rows added before EASE, η {eta}", (train + eta * friend_rows) @ weights)
    scale = base.std(1, keepdims=True) / np.maximum(friend_rows.std(1, keepdims=True), 1e-9)
    for g in (0.05, 0.1, 0.2, 0.5):
        report(f"friends' rows blended with EASE's scores, g {g}", base + g * friend_rows * scale)
    if not args.factorised:
        return
    r, sketch = 128, 138
    y = weights @ rng.standard_normal((n_items, sketch)).astype(np.float32)
    for _ in range(2):
        y, _ = np.linalg.qr(y)
        y = weights @ (weights.T @ y)
    q, _ = np.linalg.qr(y)
    ub, s, vh = np.linalg.svd(q.T @ weights, full_matrices=False)
    right = vh[:r].T                                   # (items, r), orthonormal columns
    factorised = (train @ ((q @ ub)[:, :r] * s[:r])) @ right.T
    report("EASE factorised to rank 128", factorised)
    projected = (friend_rows @ right) @ right.T
    for name, rows in (("exact", friend_rows), ("projected onto the rank-128 factors", projected)):
        scale = factorised.std(1, keepdims=True) / np.maximum(rows.std(1, keepdims=True), 1e-9)
        for g in (0.05, 0.1, 0.2, 0.3):
            report(f"friends' rows ({name}) blended with the factorised EASE, g {g}", factorised + g * rows * scale)


if __name__ == "__main__":
    main()
