"""Who takes up new items on MovieLens-100K's prequential stream (stdlib only; run with any Python 3).

    python3 benchmarks/new_item_takers.py --data ../shared/data [--stream validation|test]

Interactions in time order; the stream is the DynamicItems sample's: 70-80 % of the interactions (validation) or
80-100 % (test) -- by count here, by time span in the sample, so the slices differ slightly. "New" as
`DynamicOptions` counts it: the item's first interaction is less than 7 days before this one; interactions within the
log's first 7 days are not counted (every item looks new there). Each stream interaction is bucketed by its user's
share of new-item interactions before it, and the table gives how many of the stream's interactions, and of its
new-item interactions, fall in each bucket.
"""
import argparse, collections, os

parser = argparse.ArgumentParser()
parser.add_argument("--data", default="../shared/data")
parser.add_argument("--stream", choices=["validation", "test"], default="validation")
args = parser.parse_args()
rows = []
with open(os.path.join(args.data, "ml-100k", "u.data")) as f:
    for line in f:
        u, i, _, t = map(int, line.split("\t"))
        rows.append((t, u, i))
rows.sort()
window = 7 * 86_400
start, n = rows[0][0], len(rows)
lo, hi = (int(0.7 * n), int(0.8 * n)) if args.stream == "validation" else (int(0.8 * n), n)
first, seen, new = {}, collections.Counter(), collections.Counter()
buckets = collections.defaultdict(lambda: [0, 0])
everyone = [0, 0]
for k, (t, u, i) in enumerate(rows):
    first.setdefault(i, t)
    counted = t - start >= window
    is_new = t - first[i] < window
    if lo <= k < hi:
        share = new[u] / seen[u] if seen[u] else None
        ratio = None if share is None or everyone[0] == 0 else share / (everyone[1] / everyone[0])
        name = ("no interaction counted" if ratio is None else "share 0" if ratio == 0 else
                "below half everyone's" if ratio < 0.5 else "half to twice everyone's" if ratio < 2 else "twice everyone's or more")
        buckets[name][0] += 1
        buckets[name][1] += is_new
    if counted:
        seen[u] += 1
        new[u] += is_new
        everyone[0] += 1
        everyone[1] += is_new
total = [sum(b[0] for b in buckets.values()), sum(b[1] for b in buckets.values())]
print(f"{args.stream} stream: {total[0]} interactions, {total[1]} with new items ({100 * total[1] / total[0]:.2f} %)")
print("| the user's share of new-item interactions before | stream interactions | with new items | share of them new |")
print("|---|---:|---:|---:|")
for name in ["no interaction counted", "share 0", "below half everyone's", "half to twice everyone's", "twice everyone's or more"]:
    a, b = buckets.get(name, [0, 0])
    print(f"| {name} | {a} ({100 * a / total[0]:.1f} %) | {b} ({100 * b / max(1, total[1]):.1f} %) | {100 * b / max(1, a):.2f} % |")
