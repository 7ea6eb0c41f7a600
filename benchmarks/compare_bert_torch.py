#!/usr/bin/python3
"""The PyTorch peer for the BERT speed benchmark (Debian python3-torch 1.13 with OpenBLAS, 2 threads).

    /usr/bin/python3 benchmarks/compare_bert_torch.py [--threads 2] [--runs 10]

BERT-mini (L=4, H=256, A=4, I=1,024, vocab 30,522), a batch of 32 sequences of 64 tokens with a padding mask (every
row padded after 48..64 tokens). Two measurements, the same work HierRec's `-- bert` mode does:
  inference: the encoder forward pass under torch.no_grad() (eval mode);
  train step: BertForMaskedLM forward with dropout 0.1, logits only at the ~15% masked positions (tied decoder),
              cross-entropy, backward, gradient clipping to norm 1 and an AdamW step over all parameters.
Prints the median wall time of --runs runs after 3 warm-ups, tokens per second and the process's peak RSS.
"""
import argparse, math, resource, statistics, time
import torch
import torch.nn.functional as F

p = argparse.ArgumentParser()
p.add_argument("--threads", type=int, default=2)
p.add_argument("--runs", type=int, default=10)
args = p.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(0)
V, H, L, A, I, P = 30522, 256, 4, 4, 1024, 512
B, T = 32, 64


class Layer(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.q, self.k, self.v, self.o = (torch.nn.Linear(H, H) for _ in range(4))
        self.ln1, self.ln2 = torch.nn.LayerNorm(H, eps=1e-12), torch.nn.LayerNorm(H, eps=1e-12)
        self.f1, self.f2 = torch.nn.Linear(H, I), torch.nn.Linear(I, H)
        self.drop = torch.nn.Dropout(0.1)

    def forward(self, x, ext):
        b, t, _ = x.shape
        d = H // A
        heads = lambda z: z.view(b, t, A, d).transpose(1, 2)
        s = heads(self.q(x)) @ heads(self.k(x)).transpose(-1, -2) / math.sqrt(d) + ext
        pr = self.drop(torch.softmax(s, -1))
        c = (pr @ heads(self.v(x))).transpose(1, 2).reshape(b, t, H)
        h = self.ln1(self.drop(self.o(c)) + x)
        return self.ln2(self.drop(self.f2(F.gelu(self.f1(h)))) + h)


class Bert(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.word, self.pos, self.typ = torch.nn.Embedding(V, H), torch.nn.Embedding(P, H), torch.nn.Embedding(2, H)
        self.ln = torch.nn.LayerNorm(H, eps=1e-12)
        self.layers = torch.nn.ModuleList(Layer() for _ in range(L))
        self.drop = torch.nn.Dropout(0.1)
        self.tr = torch.nn.Linear(H, H)
        self.tr_ln = torch.nn.LayerNorm(H, eps=1e-12)
        self.bias = torch.nn.Parameter(torch.zeros(V))

    def encode(self, ids, mask):
        b, t = ids.shape
        x = self.word(ids) + self.typ(torch.zeros_like(ids)) + self.pos(torch.arange(t)).unsqueeze(0)
        x = self.drop(self.ln(x))
        ext = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        for l in self.layers:
            x = l(x, ext)
        return x

    def mlm_loss(self, ids, mask, positions, targets):
        h = self.encode(ids, mask).reshape(-1, H)[positions]
        z = self.tr_ln(F.gelu(self.tr(h)))
        return F.cross_entropy(z @ self.word.weight.t() + self.bias, targets)


model = Bert()
g = torch.Generator().manual_seed(1)
ids = torch.randint(1000, V, (B, T), generator=g)
lengths = torch.randint(48, T + 1, (B,), generator=g)
mask = (torch.arange(T)[None, :] < lengths[:, None]).long()
ids = ids * mask
chosen = (torch.rand(B, T, generator=g) < 0.15) & (mask == 1)
positions = chosen.flatten().nonzero().squeeze(1)
targets = ids.flatten()[positions]
masked = ids.clone().flatten()
masked[positions] = 103
masked = masked.view(B, T)
opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01)
tokens = int(mask.sum())


def infer():
    model.eval()
    with torch.no_grad():
        model.encode(ids, mask)


def train():
    model.train()
    opt.zero_grad(set_to_none=True)
    loss = model.mlm_loss(masked, mask, positions, targets)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()


def measure(fn):
    for _ in range(3):
        fn()
    times = []
    for _ in range(args.runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


ti = measure(infer)
tt = measure(train)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"PyTorch {torch.__version__}, {args.threads} threads, BERT-mini L={L} H={H} A={A} I={I}, batch {B}x{T} ({tokens} real tokens, {len(positions)} masked)")
print(f"inference : median {ti * 1e3:.1f} ms/batch, {B * T / ti:,.0f} tokens/s")
print(f"train step: median {tt * 1e3:.1f} ms/step,  {B * T / tt:,.0f} tokens/s")
print(f"peak RSS  : {peak:.0f} MB")
