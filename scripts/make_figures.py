"""Regenerate the pictures in img/ that the README shows.

    python scripts/make_figures.py            # the graph pictures (needs Graphviz's `dot`)
    python scripts/make_figures.py --train    # also the training curves, from real runs (~6 min)

The graph pictures are drawn by edugrad.draw_graph; the curves are written by the applications'
own --plot flags, so every picture comes from code in this repository.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import numpy as np

import edugrad.nn.functional as F
import edugrad
from edugrad import Tensor, nn

ROOT = Path(__file__).resolve().parent.parent
IMG = ROOT / "img"


def mlp_graph() -> None:
    """The graph of a small MLP's loss, drawn before and after backward."""
    edugrad.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    for name, parameter in model.named_parameters():
        parameter.label = name
    x = Tensor(np.random.default_rng(0).normal(size=(5, 4)), label="x")
    y = Tensor([0, 2, 1, 1, 0], label="y")
    loss = F.cross_entropy(model(x), y)
    loss.label = "loss"
    loss.backward(retain_graph=True)
    edugrad.draw_graph(loss, IMG / "mlp_graph.svg")
    print(f"wrote {IMG / 'mlp_graph.svg'}")


def training_curves() -> None:
    commands = [
        [sys.executable, "applications/learn_mnist.py", "--plot", "img/mnist_curves.png"],
        [sys.executable, "applications/learn_shakespeare.py", "--plot", "img/shakespeare_loss.png"],
    ]
    for command in commands:
        print("running", " ".join(command[1:]))
        subprocess.run(command, cwd=ROOT, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", action="store_true", help="also rerun the trainings for their curves")
    args = parser.parse_args()
    IMG.mkdir(exist_ok=True)
    mlp_graph()
    if args.train:
        training_curves()


if __name__ == "__main__":
    main()
