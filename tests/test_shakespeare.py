"""learn_shakespeare's GPT against the same model written in PyTorch, and the app's training,
checkpoints and sampling on a tiny model."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import edugrad
from edugrad import Tensor
from edugrad.datasets import load_tinyshakespeare

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "applications"))
sys.path.insert(0, str(ROOT / "benchmarks"))
import learn_shakespeare as app  # noqa: E402
from torch_shakespeare import GPT as TorchGPT  # noqa: E402  (the one PyTorch twin, shared with the benchmark)

TINY = ["--n-layer", "1", "--n-head", "2", "--n-embd", "32", "--block-size", "16", "--batch-size", "8"]


# ---------------------------------------------------------------- the same GPT in PyTorch
@pytest.fixture(scope="module")
def text() -> str:
    return load_tinyshakespeare()


@pytest.fixture(scope="module")
def tokenizer(text: str) -> app.CharTokenizer:
    return app.CharTokenizer.from_text(text)


@pytest.fixture(scope="module")
def split(text: str, tokenizer: app.CharTokenizer) -> tuple[np.ndarray, np.ndarray]:
    return app.train_val_split(tokenizer.encode(text))


def test_logits_and_every_gradient_match_pytorch(tokenizer: app.CharTokenizer,
                                                  split: tuple[np.ndarray, np.ndarray]) -> None:
    config = app.GPTConfig(vocab_size=len(tokenizer.vocab), block_size=16, n_layer=2, n_head=4, n_embd=32, dropout=0.0)
    edugrad.manual_seed(0)
    ours = app.GPT(config)
    theirs = TorchGPT(config)
    assert list(ours.state_dict()) == list(theirs.state_dict()), "the two models name their weights differently"
    # Weights larger than GPT-2's N(0, 0.02), with LayerNorm gains and biases away from 1 and 0, so that
    # every gradient is big enough for a 1e-4 tolerance to mean something.
    rng = np.random.default_rng(0)
    state = {}
    for name, array in ours.state_dict().items():
        center = 1.0 if name.endswith(("ln_1.weight", "ln_2.weight", "ln_f.weight")) else 0.0
        state[name] = (center + 0.3 * rng.standard_normal(array.shape)).astype(np.float32)
    ours.load_state_dict(state)
    theirs.load_state_dict({name: torch.from_numpy(array) for name, array in state.items()})
    x, y = app.get_batch(split[0], 4, 16, np.random.default_rng(0))

    loss = app.loss_of(ours, x, y)
    logits = theirs(torch.from_numpy(x))
    torch_loss = TF.cross_entropy(logits.reshape(-1, logits.shape[-1]), torch.from_numpy(y).reshape(-1))
    np.testing.assert_allclose(ours(Tensor(x)).numpy(), logits.detach().numpy(), rtol=1e-4, atol=1e-4)
    assert math.isclose(loss.item(), torch_loss.item(), rel_tol=1e-5)

    loss.backward()
    torch_loss.backward()
    torch_params = dict(theirs.named_parameters())
    for name, param in ours.named_parameters():
        assert param.grad is not None, f"{name} got no gradient"
        expected = torch_params[name].grad
        assert expected is not None
        np.testing.assert_allclose(param.grad.numpy(), expected.numpy(), rtol=1e-4, atol=1e-4, err_msg=name)
        error = np.abs(param.grad.numpy() - expected.numpy()).max()
        assert error <= 1e-4 * np.abs(expected.numpy()).max(), f"{name}: off by {error:.2e}"


def test_a_few_steps_lower_the_loss(tokenizer: app.CharTokenizer, split: tuple[np.ndarray, np.ndarray]) -> None:
    args = app.build_parser().parse_args(TINY + ["--steps", "40", "--lr", "1e-2", "--warmup", "5",
                                                 "--eval-every", "40", "--eval-batches", "2"])
    edugrad.manual_seed(0)
    model = app.GPT(app.GPTConfig(len(tokenizer.vocab), args.block_size, args.n_layer, args.n_head, args.n_embd))
    val_batches = [app.get_batch(split[1], 8, 16, np.random.default_rng(1)) for _ in range(2)]
    before = app.evaluate(model, val_batches)
    history, _ = app.train(model, *split, args)
    after = app.evaluate(model, val_batches)
    assert np.mean(history["loss"][-5:]) < np.mean(history["loss"][:5]) - 0.5
    assert after < before - 0.5, f"validation loss went from {before:.3f} to {after:.3f}"
    assert history["val_step"] == [40]


def test_generation_from_a_checkpoint_is_deterministic(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    checkpoint = str(tmp_path / "gpt.npz")
    app.main(TINY + ["--steps", "3", "--eval-every", "3", "--eval-batches", "1", "--length", "10", "--save", checkpoint])
    capsys.readouterr()

    def sample(seed: int) -> str:
        app.main(["--generate", "--load", checkpoint, "--seed", str(seed), "--prompt", "ROMEO:", "--length", "40",
                  "--top-k", "10"])
        return capsys.readouterr().out.split("-" * 60 + "\n", 1)[1]

    first = sample(7)
    assert first.startswith("ROMEO:") and len(first.rstrip("\n")) >= 40
    assert sample(7) == first
    assert sample(8) != first


def test_bigram_baseline_beats_uniform_guessing(tokenizer: app.CharTokenizer,
                                                split: tuple[np.ndarray, np.ndarray]) -> None:
    loss = app.bigram_loss(*split, len(tokenizer.vocab))
    assert 2.3 < loss < 2.6 < math.log(len(tokenizer.vocab))


def test_tokenizer_round_trip_and_split(text: str, tokenizer: app.CharTokenizer,
                                        split: tuple[np.ndarray, np.ndarray]) -> None:
    assert len(tokenizer.vocab) == 65 and list(tokenizer.vocab) == sorted(tokenizer.vocab)
    assert tokenizer.decode(tokenizer.encode("To be, or not to be")) == "To be, or not to be"
    with pytest.raises(ValueError, match="not in the vocabulary"):
        tokenizer.encode("caf\u00e9")
    train, val = split
    assert len(train) + len(val) == len(text) and len(train) == int(0.9 * len(text))
    x, y = app.get_batch(train, 5, 8, np.random.default_rng(0))
    assert x.shape == y.shape == (5, 8) and (x[:, 1:] == y[:, :-1]).all()


def test_argparse_defaults() -> None:
    args = app.build_parser().parse_args([])
    for flag in ("n_layer", "n_head", "n_embd", "block_size", "dropout", "steps", "batch_size", "lr", "warmup",
                 "seed", "save", "load", "plot", "generate", "prompt", "length", "temperature", "top_k", "bigram"):
        assert hasattr(args, flag), f"--{flag.replace('_', '-')} is missing"
    assert args.n_embd % args.n_head == 0
    assert args.steps > args.warmup > 0 and 0 < args.lr < 0.1
    assert args.save is None and args.load is None and not args.generate
