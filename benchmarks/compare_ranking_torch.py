#!/usr/bin/python3
"""The PyTorch peer for the single-query ranking benchmark (Debian python3-torch 1.13 with OpenBLAS).

    /usr/bin/python3 benchmarks/compare_ranking_torch.py

One query against n items of dimension d: scores = items @ q, log-softmax over all n (the full-catalogue P(i|u)),
top-100. Prints the median of 30 runs per shape on 1 and 2 threads, in milliseconds.
"""
import statistics, time, torch

torch.manual_seed(0)
for threads in (1, 2):
    torch.set_num_threads(threads)
    for n in (10_000, 100_000, 1_000_000):
        for d in (64, 128, 256):
            items = torch.randn(n, d)
            q = torch.randn(d)
            def run():
                s = items @ q
                p = torch.log_softmax(s, 0)
                return torch.topk(p, 100)
            for _ in range(3):
                run()
            times = []
            for _ in range(30):
                t = time.perf_counter()
                run()
                times.append((time.perf_counter() - t) * 1e3)
            print(f"threads={threads} n={n} d={d}: median {statistics.median(times):.3f} ms")
