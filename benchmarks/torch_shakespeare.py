"""learn_shakespeare's run, in PyTorch: the reference for bench.py's GPT rows.

    python benchmarks/torch_shakespeare.py                 # learn_shakespeare's default run
    python benchmarks/torch_shakespeare.py --steps 50 --eval-every 50

The same text, tokenizer, batches, model, optimizer, schedule, evaluation and sampling as
applications/learn_shakespeare.py, which also parses the command line (its --save, --load,
--generate, --plot and --bigram are not supported here). `GPT` is also the PyTorch twin that
bench.py loads edugrad's weights into: the same modules under the same state_dict names.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from edugrad.datasets import load_tinyshakespeare

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "applications"))
import learn_shakespeare as app  # its config, data helpers and command line


class CausalSelfAttention(nn.Module):
    def __init__(self, config: app.GPTConfig) -> None:
        super().__init__()
        self.n_head, self.dropout = config.n_head, config.dropout
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd)
        self.c_proj = nn.Linear(config.n_embd, config.n_embd)
        self.resid_dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = (t.reshape(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, dropout_p=self.dropout if self.training else 0.0,
                                           is_causal=True)
        return self.resid_dropout(self.c_proj(y.transpose(1, 2).reshape(B, T, C)))


class MLP(nn.Module):
    def __init__(self, config: app.GPTConfig) -> None:
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd)
        self.gelu = nn.GELU(approximate="tanh")
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class Block(nn.Module):
    def __init__(self, config: app.GPTConfig) -> None:
        super().__init__()
        self.ln_1, self.attn = nn.LayerNorm(config.n_embd), CausalSelfAttention(config)
        self.ln_2, self.mlp = nn.LayerNorm(config.n_embd), MLP(config)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, config: app.GPTConfig) -> None:
        super().__init__()
        self.config = config
        self.wte = nn.Embedding(config.vocab_size, config.n_embd)
        self.wpe = nn.Embedding(config.block_size, config.n_embd)
        self.drop = nn.Dropout(config.dropout)
        self.h = nn.ModuleList(Block(config) for _ in range(config.n_layer))
        self.ln_f = nn.LayerNorm(config.n_embd)
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        x = self.drop(self.wte(idx) + self.wpe(torch.arange(idx.shape[1])))
        for block in self.h:
            x = block(x)
        return self.lm_head(self.ln_f(x))


def loss_of(model: GPT, x: np.ndarray, y: np.ndarray) -> torch.Tensor:
    logits = model(torch.from_numpy(x))
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), torch.from_numpy(y).reshape(-1))


@torch.no_grad()
def evaluate(model: GPT, batches: list[tuple[np.ndarray, np.ndarray]]) -> float:
    model.eval()
    loss = float(np.mean([loss_of(model, x, y).item() for x, y in batches]))
    model.train()
    return loss


@torch.no_grad()
def generate(model: GPT, prompt_ids: list[int], length: int, temperature: float, top_k: int | None,
             seed: int) -> list[int]:
    """learn_shakespeare's sampling loop: one forward pass on the last block_size characters per
    new character, drawn by a numpy generator from the softmax of the scaled, top-k logits."""
    model.eval()
    rng = np.random.default_rng(seed)
    ids = list(prompt_ids)
    for _ in range(length):
        context = torch.tensor([ids[-model.config.block_size:]], dtype=torch.int64)
        logits = model(context).numpy()[0, -1].astype(np.float64) / max(temperature, 1e-8)
        if top_k is not None and top_k < len(logits):
            logits[logits < np.sort(logits)[-top_k]] = -np.inf
        probs = np.exp(logits - logits.max())
        ids.append(int(rng.choice(len(probs), p=probs / probs.sum())))
    return ids


def main(argv: list[str] | None = None) -> None:
    parser = app.build_parser()
    args = parser.parse_args(argv)
    if args.generate or args.load or args.save or args.plot or args.bigram:
        parser.error("torch_shakespeare.py trains and samples only: no --generate, --load, --save, --plot, --bigram")
    text = load_tinyshakespeare()
    tokenizer = app.CharTokenizer.from_text(text)
    train_ids, val_ids = app.train_val_split(tokenizer.encode(text))
    bigram = app.bigram_loss(train_ids, val_ids, len(tokenizer.vocab))

    torch.manual_seed(args.seed)
    model = GPT(app.GPTConfig(len(tokenizer.vocab), args.block_size, args.n_layer, args.n_head, args.n_embd,
                              args.dropout))
    matrices = [p for p in model.parameters() if p.ndim >= 2]
    others = [p for p in model.parameters() if p.ndim < 2]
    optimizer = torch.optim.AdamW([{"params": matrices, "weight_decay": 0.1},
                                   {"params": others, "weight_decay": 0.0}], lr=args.lr, betas=(0.9, 0.99))
    warmup = max(1, min(args.warmup, args.steps - 1))
    sched = torch.optim.lr_scheduler
    schedule = sched.SequentialLR(optimizer, [
        sched.LinearLR(optimizer, start_factor=1 / warmup, total_iters=warmup),
        sched.CosineAnnealingLR(optimizer, T_max=max(1, args.steps - warmup), eta_min=args.lr / 10)],
        milestones=[warmup])

    rng = np.random.default_rng(args.seed)
    val_rng = np.random.default_rng(args.seed + 1)
    val_batches = [app.get_batch(val_ids, args.batch_size, args.block_size, val_rng) for _ in range(args.eval_batches)]
    val_loss = float("nan")
    start = time.perf_counter()
    model.train()
    for step in range(1, args.steps + 1):
        loss = loss_of(model, *app.get_batch(train_ids, args.batch_size, args.block_size, rng))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        optimizer.step()
        schedule.step()
        loss.item()
        if step % args.eval_every == 0 or step == args.steps:
            val_loss = evaluate(model, val_batches)
    print(f"Trained for {args.steps} steps in {time.perf_counter() - start:.1f} s: validation loss "
          f"{val_loss:.4f} nats/char; the bigram baseline gets {bigram:.4f}")
    sample = generate(model, tokenizer.encode(args.prompt).tolist(), args.length, args.temperature, args.top_k,
                      args.seed)
    print("-" * 60)
    print(tokenizer.decode(sample))


if __name__ == "__main__":
    main()
