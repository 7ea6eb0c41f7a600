#!/usr/bin/python3
"""Golden values for HierRec's BertModel from a PyTorch reference BERT (Debian python3-torch 1.13).

Run from the repository root:  /usr/bin/python3 tests/HierRec.Tests/Text/Golden/make_bert_golden.py
CI only reads what it writes:

1. bert_golden.safetensors: a random BERT (L=2, H=64, A=4, I=128, vocab 30,522, 64 positions) with non-trivial
   LayerNorm parameters and biases, a padded batch of three sentence pairs, and the reference's last hidden state,
   pooler output, every layer's attention weights, and the gradient of every parameter for
   loss = sum(last_hidden * up_hidden) + sum(pooled * up_pooled). To keep the file small the word-embedding table is
   stored only for the ids the batch uses ("golden.word_ids", "golden.word_rows", and their gradient); the test builds
   the full 30,522-row table (other rows are never read) and loads it through a Hugging Face folder.
2. tiny-bert-mlm/: a complete Hugging Face BertForMaskedLM folder as transformers would save it (bert.-prefixed names,
   an I64 embeddings.position_ids buffer, the cls.predictions head with the tied decoder weight written out, no
   pooler, config.json with extra keys), plus tiny-bert-mlm.golden.safetensors holding its inputs, hidden states and
   masked-LM logits.

The reference follows transformers' modeling_bert.py (eager attention, additive mask of finfo.min, erf GELU,
post-LN). The transformers package itself is not installed here, so the module is written out below; the folder
layout is that of save_pretrained(safe_serialization=True).
"""
import json, math, os, struct
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
torch.set_num_threads(1)


def write_safetensors(path, tensors, metadata=None):
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name, t in tensors.items():
        t = t.detach().contiguous()
        if t.dtype == torch.float32:
            dtype, raw = "F32", t.numpy().astype("<f4").tobytes()
        elif t.dtype == torch.int64:
            dtype, raw = "I64", t.numpy().astype("<i8").tobytes()
        else:
            raise ValueError(f"{name}: unsupported dtype {t.dtype}")
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


class RefBert(torch.nn.Module):
    """transformers.BertModel / BertForMaskedLM, eager attention, written out with the same parameter names."""

    def __init__(self, c, pooler=True, mlm=False):
        super().__init__()
        H, I = c["hidden_size"], c["intermediate_size"]
        self.c = c
        emb = torch.nn.Module()
        emb.word_embeddings = torch.nn.Embedding(c["vocab_size"], H)
        emb.position_embeddings = torch.nn.Embedding(c["max_position_embeddings"], H)
        emb.token_type_embeddings = torch.nn.Embedding(c["type_vocab_size"], H)
        emb.LayerNorm = torch.nn.LayerNorm(H, eps=c["layer_norm_eps"])
        self.embeddings = emb
        layers = torch.nn.ModuleList()
        for _ in range(c["num_hidden_layers"]):
            l = torch.nn.Module()
            l.attention = torch.nn.Module()
            l.attention.self = torch.nn.Module()
            l.attention.self.query = torch.nn.Linear(H, H)
            l.attention.self.key = torch.nn.Linear(H, H)
            l.attention.self.value = torch.nn.Linear(H, H)
            l.attention.output = torch.nn.Module()
            l.attention.output.dense = torch.nn.Linear(H, H)
            l.attention.output.LayerNorm = torch.nn.LayerNorm(H, eps=c["layer_norm_eps"])
            l.intermediate = torch.nn.Module()
            l.intermediate.dense = torch.nn.Linear(H, I)
            l.output = torch.nn.Module()
            l.output.dense = torch.nn.Linear(I, H)
            l.output.LayerNorm = torch.nn.LayerNorm(H, eps=c["layer_norm_eps"])
            layers.append(l)
        self.encoder = torch.nn.Module()
        self.encoder.layer = layers
        self.pooler = None
        if pooler:
            self.pooler = torch.nn.Module()
            self.pooler.dense = torch.nn.Linear(H, H)
        self.head = None
        if mlm:
            self.head = torch.nn.Module()
            self.head.dense = torch.nn.Linear(H, H)
            self.head.LayerNorm = torch.nn.LayerNorm(H, eps=c["layer_norm_eps"])
            self.head.bias = torch.nn.Parameter(torch.zeros(c["vocab_size"]))
        # transformers' _init_weights
        std = c["initializer_range"]
        for m in self.modules():
            if isinstance(m, torch.nn.Linear):
                m.weight.data.normal_(0.0, std)
                m.bias.data.zero_()
            elif isinstance(m, torch.nn.Embedding):
                m.weight.data.normal_(0.0, std)
            elif isinstance(m, torch.nn.LayerNorm):
                m.weight.data.fill_(1.0)
                m.bias.data.zero_()
        emb.word_embeddings.weight.data[c["pad_token_id"]].zero_()

    def forward(self, ids, types, mask):
        c, e = self.c, self.embeddings
        B, T = ids.shape
        A = c["num_attention_heads"]
        d = c["hidden_size"] // A
        pos = torch.arange(T).unsqueeze(0)
        x = e.word_embeddings(ids) + e.token_type_embeddings(types)
        x = x + e.position_embeddings(pos)
        x = e.LayerNorm(x)
        ext = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        attentions = []
        for l in self.encoder.layer:
            s = l.attention.self

            def heads(t):
                return t.view(B, T, A, d).permute(0, 2, 1, 3)

            q, k, v = heads(s.query(x)), heads(s.key(x)), heads(s.value(x))
            scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(d) + ext
            probs = torch.softmax(scores, dim=-1)
            attentions.append(probs)
            ctx = torch.matmul(probs, v).permute(0, 2, 1, 3).reshape(B, T, A * d)
            h = l.attention.output.LayerNorm(l.attention.output.dense(ctx) + x)
            x = l.output.LayerNorm(l.output.dense(F.gelu(l.intermediate.dense(h))) + h)
        pooled = torch.tanh(self.pooler.dense(x[:, 0])) if self.pooler is not None else None
        logits = None
        if self.head is not None:
            t = self.head.LayerNorm(F.gelu(self.head.dense(x)))
            logits = t @ e.word_embeddings.weight.t() + self.head.bias
        return x, pooled, attentions, logits


def perturb(model, scale=0.1):
    """Non-trivial LayerNorm γ/β and biases, so that their gradients are tested meaningfully."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "LayerNorm" in name or name.endswith("bias"):
                p.add_(scale * torch.randn_like(p))


def config(**kw):
    c = dict(vocab_size=30522, hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=128,
             max_position_embeddings=64, type_vocab_size=2, layer_norm_eps=1e-12, hidden_dropout_prob=0.1,
             attention_probs_dropout_prob=0.1, hidden_act="gelu", initializer_range=0.02, model_type="bert",
             pad_token_id=0)
    c.update(kw)
    return c


def golden_base():
    torch.manual_seed(20261122)
    c = config()
    model = RefBert(c, pooler=True)
    perturb(model)
    model.eval()
    B, T = 3, 10
    lengths, first = [10, 7, 4], [6, 4, 2]          # pair boundaries: [CLS] a [SEP] | b [SEP]
    ids = torch.zeros(B, T, dtype=torch.long)
    types = torch.zeros(B, T, dtype=torch.long)
    mask = torch.zeros(B, T, dtype=torch.long)
    for b in range(B):
        n = lengths[b]
        body = torch.randint(1000, c["vocab_size"], (n,))
        body[0], body[n - 1], body[first[b] - 1] = 101, 102, 102
        ids[b, :n] = body
        types[b, first[b]:n] = 1
        mask[b, :n] = 1
    ids[0, 3] = ids[1, 2] = ids[2, 1] = 2023          # a repeated id: its gradient rows must accumulate
    last, pooled, attentions, _ = model(ids, types, mask)
    up_h, up_p = torch.randn_like(last), torch.randn_like(pooled)
    ((last * up_h).sum() + (pooled * up_p).sum()).backward()

    used = torch.unique(ids)                          # sorted; includes [PAD] = 0
    out = {}
    for name, p in model.named_parameters():
        if name == "embeddings.word_embeddings.weight":
            continue
        out[name] = p.detach()
        out["grad:" + name] = p.grad
    W = model.embeddings.word_embeddings.weight
    out["golden.word_ids"] = used.float()
    out["golden.word_rows"] = W.detach()[used]
    out["grad:golden.word_rows"] = W.grad[used]
    out["golden.input_ids"] = ids.float()
    out["golden.token_type_ids"] = types.float()
    out["golden.attention_mask"] = mask.float()
    out["golden.up_hidden"] = up_h
    out["golden.up_pooled"] = up_p
    out["golden.last_hidden_state"] = last.detach()
    out["golden.pooler_output"] = pooled.detach()
    for i, a in enumerate(attentions):
        out[f"golden.attentions.{i}"] = a.detach()
    write_safetensors(os.path.join(HERE, "bert_golden.safetensors"), out,
                      {"format": "hierrec-golden", "version": "1", "config": json.dumps(c)})


def golden_tiny_folder():
    torch.manual_seed(7)
    words = ["the", "a", "film", "movie", "is", "was", "good", "bad", "great", "dark", "funny", "story", "about",
             "love", "war", "space", "crime", "music", "and", "of", "to", "in", "this", "that", "very", "not"]
    letters = [chr(ord("a") + i) for i in range(26)]
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + list(".,!?'") + letters + words + ["##" + ch for ch in letters] + ["##s", "##ing", "##ed"]
    vocab = list(dict.fromkeys(vocab))
    c = config(vocab_size=len(vocab), hidden_size=32, num_attention_heads=2, intermediate_size=64,
               max_position_embeddings=32)
    model = RefBert(c, pooler=False, mlm=True)
    perturb(model)
    model.eval()
    folder = os.path.join(HERE, "tiny-bert-mlm")
    os.makedirs(folder, exist_ok=True)
    cfg = dict(c)
    cfg.update({"architectures": ["BertForMaskedLM"], "position_embedding_type": "absolute", "use_cache": True,
                "transformers_version": "4.46.0", "torch_dtype": "float32", "classifier_dropout": None})
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
        f.write("\n")
    with open(os.path.join(folder, "vocab.txt"), "w") as f:
        f.write("\n".join(vocab) + "\n")
    with open(os.path.join(folder, "tokenizer_config.json"), "w") as f:
        json.dump({"do_lower_case": True, "tokenizer_class": "BertTokenizer", "model_max_length": 32}, f, indent=2)
        f.write("\n")
    tensors = {}
    for name, p in model.named_parameters():
        if name.startswith("head."):
            continue
        tensors["bert." + name] = p.detach()
    tensors["bert.embeddings.position_ids"] = torch.arange(c["max_position_embeddings"]).unsqueeze(0)
    tensors["cls.predictions.bias"] = model.head.bias.detach()
    tensors["cls.predictions.transform.dense.weight"] = model.head.dense.weight.detach()
    tensors["cls.predictions.transform.dense.bias"] = model.head.dense.bias.detach()
    tensors["cls.predictions.transform.LayerNorm.weight"] = model.head.LayerNorm.weight.detach()
    tensors["cls.predictions.transform.LayerNorm.bias"] = model.head.LayerNorm.bias.detach()
    tensors["cls.predictions.decoder.weight"] = model.embeddings.word_embeddings.weight.detach()  # tied, written out
    tensors["cls.predictions.decoder.bias"] = model.head.bias.detach()
    write_safetensors(os.path.join(folder, "model.safetensors"), tensors, {"format": "pt"})

    idx = {w: i for i, w in enumerate(vocab)}
    rows = [["[CLS]", "this", "film", "was", "[MASK]", "and", "funny", ".", "[SEP]"],
            ["[CLS]", "a", "[MASK]", "about", "war", "[SEP]", "[PAD]", "[PAD]", "[PAD]"]]
    ids = torch.tensor([[idx[w] for w in r] for r in rows])
    mask = (ids != 0).long()
    types = torch.zeros_like(ids)
    with torch.no_grad():
        last, _, _, logits = model(ids, types, mask)
    write_safetensors(os.path.join(HERE, "tiny-bert-mlm.golden.safetensors"), {
        "input_ids": ids.float(), "attention_mask": mask.float(),
        "last_hidden_state": last, "logits": logits}, {"format": "hierrec-golden", "version": "1"})


if __name__ == "__main__":
    golden_base()
    golden_tiny_folder()
    print("wrote", HERE)
