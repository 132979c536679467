"""Train a small character-level GPT on Tiny Shakespeare with edugrad, then let it write.

    python applications/learn_shakespeare.py                       # ~3 min on 2 cores, validation loss ~1.89
    python applications/learn_shakespeare.py --save gpt.npz --plot img/shakespeare_loss.png
    python applications/learn_shakespeare.py --generate --load gpt.npz --prompt "ROMEO:" --length 500
    python applications/learn_shakespeare.py --bigram              # the count-based baseline to beat

The model is GPT-2's design at toy size: token and position embeddings, a stack of pre-LayerNorm
transformer blocks (causal multi-head self-attention, then a GELU MLP, each added back to the
residual stream), a final LayerNorm and a linear head that scores the next character. Module names
follow nanoGPT (`h.0.attn.c_attn`, `ln_f`, `lm_head`), so the weights load into the same model
written in PyTorch. Only edugrad's public API is used.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import asdict, dataclass

import numpy as np
from tqdm import tqdm

import edugrad
import edugrad.nn.functional as F
from edugrad import Tensor, nn, optim
from edugrad.datasets import load_tinyshakespeare
from edugrad.optim.lr_scheduler import CosineAnnealingLR, LinearLR, SequentialLR
from edugrad.serialization import load, save


# ---------------------------------------------------------------- data
class CharTokenizer:
    """Characters <-> integer ids: id i is the i-th character of the sorted vocabulary."""

    def __init__(self, vocab: str) -> None:
        self.vocab = vocab
        self.index = {ch: i for i, ch in enumerate(vocab)}

    @classmethod
    def from_text(cls, text: str) -> CharTokenizer:
        return cls("".join(sorted(set(text))))

    def encode(self, text: str) -> np.ndarray:
        unknown = set(text) - self.index.keys()
        if unknown:
            raise ValueError(f"encode: {''.join(sorted(unknown))!r} not in the vocabulary {self.vocab!r}")
        return np.array([self.index[ch] for ch in text], dtype=np.int64)

    def decode(self, ids: list[int] | np.ndarray) -> str:
        return "".join(self.vocab[i] for i in ids)


def train_val_split(ids: np.ndarray, train_fraction: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
    """The first 90% of the text for training, the rest (the end of the play collection) for validation."""
    cut = int(train_fraction * len(ids))
    return ids[:cut], ids[cut:]


def get_batch(ids: np.ndarray, batch_size: int, block_size: int,
              rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Random contiguous blocks: inputs x (B, T) and the targets y, the same blocks shifted by one."""
    starts = rng.integers(0, len(ids) - block_size, size=batch_size)
    x = np.stack([ids[s:s + block_size] for s in starts])
    y = np.stack([ids[s + 1:s + block_size + 1] for s in starts])
    return x, y


def bigram_loss(train: np.ndarray, val: np.ndarray, vocab_size: int) -> float:
    """Validation loss (nats/char) of the count-based bigram model with add-one smoothing: what a
    model gets from the previous character alone. The GPT must beat this to show it uses context."""
    counts = np.ones((vocab_size, vocab_size))
    np.add.at(counts, (train[:-1], train[1:]), 1)
    log_probs = np.log(counts / counts.sum(axis=1, keepdims=True))
    return float(-log_probs[val[:-1], val[1:]].mean())


# ---------------------------------------------------------------- model
@dataclass
class GPTConfig:
    vocab_size: int
    block_size: int = 64
    n_layer: int = 2
    n_head: int = 4
    n_embd: int = 128
    dropout: float = 0.0


class CausalSelfAttention(nn.Module):
    """Each position mixes the values of itself and the positions before it, weighted by how well
    its query matches their keys; n_head heads do this side by side on slices of the embedding."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        if config.n_embd % config.n_head:
            raise ValueError(f"n_embd ({config.n_embd}) must be divisible by n_head ({config.n_head})")
        self.n_head, self.dropout = config.n_head, config.dropout
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd)  # queries, keys and values at once
        self.c_proj = nn.Linear(config.n_embd, config.n_embd)
        self.resid_dropout = nn.Dropout(config.dropout)

    def forward(self, x: Tensor) -> Tensor:
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        # (B, T, C) -> (B, n_head, T, head_size): each head attends on its own
        q, k, v = (t.reshape(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, dropout_p=self.dropout if self.training else 0.0,
                                           is_causal=True)
        y = y.transpose(1, 2).reshape(B, T, C)  # the heads side by side again
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):
    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd)
        self.gelu = nn.GELU(approximate="tanh")  # GPT-2's formula: 3x cheaper than edugrad's erf polynomial
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: Tensor) -> Tensor:
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class Block(nn.Module):
    """A transformer block: attention, then MLP, each reading a LayerNorm of the residual stream."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd)
        self.mlp = MLP(config)

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    """Characters (B, T) -> logits (B, T, vocab_size) for the character that follows each one."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.config = config
        self.wte = nn.Embedding(config.vocab_size, config.n_embd)
        self.wpe = nn.Embedding(config.block_size, config.n_embd)
        self.drop = nn.Dropout(config.dropout)
        self.h = nn.ModuleList(Block(config) for _ in range(config.n_layer))
        self.ln_f = nn.LayerNorm(config.n_embd)
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size)

    def forward(self, idx: Tensor) -> Tensor:
        T = idx.shape[1]
        if T > self.config.block_size:
            raise ValueError(f"GPT: sequence of length {T} is longer than block_size {self.config.block_size}")
        x = self.drop(self.wte(idx) + self.wpe(edugrad.arange(T)))
        for block in self.h:
            x = block(x)
        return self.lm_head(self.ln_f(x))


def loss_of(model: GPT, x: np.ndarray, y: np.ndarray) -> Tensor:
    """Mean cross-entropy, in nats per character, of the model's predictions for the targets y."""
    logits = model(Tensor(x))
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), Tensor(y).reshape(-1))


@edugrad.no_grad()
def evaluate(model: GPT, batches: list[tuple[np.ndarray, np.ndarray]]) -> float:
    """The mean loss over fixed batches, with dropout off."""
    model.eval()
    loss = float(np.mean([loss_of(model, x, y).item() for x, y in batches]))
    model.train()
    return loss


@edugrad.no_grad()
def generate(model: GPT, prompt_ids: list[int], length: int, temperature: float = 1.0,
             top_k: int | None = None, seed: int = 0) -> list[int]:
    """Extend the prompt by `length` characters, each drawn from the model's prediction for the last
    block_size characters: logits / temperature, kept to the top_k largest, then softmax. The draws
    come from a numpy generator seeded with `seed`, so a seed always gives the same text."""
    model.eval()
    rng = np.random.default_rng(seed)
    ids = list(prompt_ids)
    for _ in range(length):
        context = np.array([ids[-model.config.block_size:]], dtype=np.int64)
        logits = model(Tensor(context)).numpy()[0, -1].astype(np.float64) / max(temperature, 1e-8)
        if top_k is not None and top_k < len(logits):
            logits[logits < np.sort(logits)[-top_k]] = -np.inf
        probs = np.exp(logits - logits.max())
        ids.append(int(rng.choice(len(probs), p=probs / probs.sum())))
    return ids


# ---------------------------------------------------------------- training
def make_optimizer(model: GPT, lr: float, steps: int, warmup: int,
                   weight_decay: float = 0.1) -> tuple[optim.AdamW, SequentialLR]:
    """AdamW that decays only the matrices (not biases or LayerNorm gains), with a linear warmup
    to lr and then half a cosine down to lr / 10."""
    matrices = [p for p in model.parameters() if p.ndim >= 2]
    others = [p for p in model.parameters() if p.ndim < 2]
    optimizer = optim.AdamW([{"params": matrices, "weight_decay": weight_decay},
                             {"params": others, "weight_decay": 0.0}], lr=lr, betas=(0.9, 0.99))
    warmup = max(1, min(warmup, steps - 1))
    schedule = SequentialLR(optimizer, [LinearLR(optimizer, start_factor=1 / warmup, total_iters=warmup),
                                        CosineAnnealingLR(optimizer, T_max=max(1, steps - warmup), eta_min=lr / 10)],
                            milestones=[warmup])
    return optimizer, schedule


def train(model: GPT, train_ids: np.ndarray, val_ids: np.ndarray,
          args: argparse.Namespace) -> tuple[dict[str, list[float]], optim.AdamW]:
    """args.steps AdamW steps on random training blocks; the validation loss every args.eval_every
    steps and after the last. Returns the losses and the optimizer (whose state a checkpoint keeps)."""
    rng = np.random.default_rng(args.seed)
    val_rng = np.random.default_rng(args.seed + 1)  # the same validation batches at every evaluation
    val_batches = [get_batch(val_ids, args.batch_size, args.block_size, val_rng) for _ in range(args.eval_batches)]
    optimizer, schedule = make_optimizer(model, args.lr, args.steps, args.warmup)
    history: dict[str, list[float]] = {"loss": [], "val_step": [], "val_loss": []}
    model.train()
    progress = tqdm(range(1, args.steps + 1), desc="training", unit="step")
    for step in progress:
        loss = loss_of(model, *get_batch(train_ids, args.batch_size, args.block_size, rng))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        optimizer.step()
        schedule.step()

        history["loss"].append(loss.item())
        if step % args.eval_every == 0 or step == args.steps:
            history["val_step"].append(step)
            history["val_loss"].append(evaluate(model, val_batches))
        val = f"{history['val_loss'][-1]:.3f}" if history["val_loss"] else "-"
        progress.set_postfix(loss=f"{np.mean(history['loss'][-20:]):.3f}", val=val)
    return history, optimizer


def plot_history(history: dict[str, list[float]], bigram: float, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    steps = np.arange(1, len(history["loss"]) + 1)
    window = min(20, len(steps))
    ax.plot(steps, history["loss"], alpha=0.3, label="train (batch)")
    ax.plot(steps[window - 1:], np.convolve(history["loss"], np.ones(window) / window, mode="valid"),
            label=f"train (mean of {window})")
    ax.plot(history["val_step"], history["val_loss"], "o-", label="validation")
    ax.axhline(bigram, color="gray", linestyle="--", label=f"bigram baseline ({bigram:.2f})")
    ax.set(xlabel="training step", ylabel="cross-entropy (nats / char)", title="Character-level GPT on Tiny Shakespeare")
    ax.set_ylim(top=min(4.5, max(history["loss"]) + 0.1))
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"Saved the curves to {path}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    model = parser.add_argument_group("model")
    model.add_argument("--n-layer", type=int, default=2)
    model.add_argument("--n-head", type=int, default=4)
    model.add_argument("--n-embd", type=int, default=128)
    model.add_argument("--block-size", type=int, default=64, help="characters of context")
    model.add_argument("--dropout", type=float, default=0.0)
    training = parser.add_argument_group("training")
    training.add_argument("--steps", type=int, default=550)
    training.add_argument("--batch-size", type=int, default=32)
    training.add_argument("--lr", type=float, default=1e-2, help="AdamW's peak learning rate")
    training.add_argument("--warmup", type=int, default=50, help="steps of linear warmup before the cosine decay")
    training.add_argument("--clip", type=float, default=1.0, help="clip the gradient norm to this")
    training.add_argument("--eval-every", type=int, default=100, help="steps between validation losses")
    training.add_argument("--eval-batches", type=int, default=10, help="validation batches to average")
    training.add_argument("--seed", type=int, default=0)
    training.add_argument("--save", metavar="PATH", help="save model, optimizer, vocabulary and config here")
    training.add_argument("--plot", metavar="PATH", help="write a PNG of the train and validation loss")
    sampling = parser.add_argument_group("sampling")
    sampling.add_argument("--generate", action="store_true", help="only sample from the checkpoint given by --load")
    sampling.add_argument("--load", metavar="PATH", help="a checkpoint saved with --save")
    sampling.add_argument("--prompt", default="\n", help="text to continue")
    sampling.add_argument("--length", type=int, default=300, help="characters to generate")
    sampling.add_argument("--temperature", type=float, default=0.8)
    sampling.add_argument("--top-k", type=int, default=None)
    parser.add_argument("--bigram", action="store_true", help="print the bigram baseline's validation loss and exit")
    return parser


def main(argv: list[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.generate and not args.load:
        parser.error("--generate needs a checkpoint: --load PATH")
    text = load_tinyshakespeare()
    tokenizer = CharTokenizer.from_text(text)
    unknown = set(args.prompt) - tokenizer.index.keys()
    if unknown:
        parser.error(f"--prompt: {''.join(sorted(unknown))!r} never occurs in the text")
    train_ids, val_ids = train_val_split(tokenizer.encode(text))
    bigram = bigram_loss(train_ids, val_ids, len(tokenizer.vocab))
    if args.bigram:
        print(f"Bigram baseline (add-one smoothing): validation loss {bigram:.4f} nats/char")
        return

    if args.generate:
        checkpoint = load(args.load)
        tokenizer = CharTokenizer(checkpoint["vocab"])
        model = GPT(GPTConfig(**checkpoint["config"]))
        model.load_state_dict(checkpoint["model"])
        print(f"Loaded {args.load} (trained for {checkpoint['steps']} steps)")
    else:
        edugrad.manual_seed(args.seed)
        config = GPTConfig(len(tokenizer.vocab), args.block_size, args.n_layer, args.n_head, args.n_embd, args.dropout)
        model = GPT(config)
        print(f"GPT with {sum(p.numel() for p in model.parameters()):,} parameters; "
              f"{len(train_ids):,} training and {len(val_ids):,} validation characters")
        start = time.perf_counter()
        history, optimizer = train(model, train_ids, val_ids, args)
        print(f"Trained for {args.steps} steps in {time.perf_counter() - start:.1f} s: validation loss "
              f"{history['val_loss'][-1]:.4f} nats/char; the bigram baseline gets {bigram:.4f}")
        if args.save:
            save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "vocab": tokenizer.vocab,
                  "config": asdict(config), "steps": args.steps}, args.save)
            print(f"Saved to {args.save}")
        if args.plot:
            plot_history(history, bigram, args.plot)

    sample = generate(model, tokenizer.encode(args.prompt).tolist(), args.length, args.temperature, args.top_k,
                      args.seed)
    print("-" * 60)
    print(tokenizer.decode(sample))


if __name__ == "__main__":
    main()
