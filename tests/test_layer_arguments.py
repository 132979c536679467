"""Layer constructors: bad arguments refused at construction by message, naming the layer, the argument
and the value (torch refuses each of them too, some only at the first forward); the shared _ConvNd
init and repr against torch's; AdaptiveAvgPool2d against torch."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest
import torch

import edugrad
from edugrad import nn
from tests.helpers import check

BAD_ARGUMENTS: list[tuple[Callable[[Any], Any], str]] = [
    (lambda lib: lib.Linear(-1, 2), "Linear: in_features must be an integer >= 0, got -1"),
    (lambda lib: lib.Linear(2, 2.5), "Linear: out_features must be an integer >= 0, got 2.5"),
    (lambda lib: lib.Conv2d(1, 2, 3, stride=0), r"Conv2d: stride must be an integer >= 1 or a pair of them, got 0"),
    (lambda lib: lib.Conv2d(1, 2, 3, stride=(1, -1)), r"Conv2d: stride must be .* got \(1, -1\)"),
    (lambda lib: lib.Conv2d(1, 2, 3, groups=0), "Conv2d: groups must be an integer >= 1, got 0"),
    (lambda lib: lib.Conv2d(1, 2, 3, padding=-1), "Conv2d: padding must be an integer >= 0 or a pair of them, got -1"),
    (lambda lib: lib.Conv2d(1, 2, 3, dilation=0), "Conv2d: dilation must be an integer >= 1 or a pair of them, got 0"),
    (lambda lib: lib.Conv2d(1, 2, 0), "Conv2d: kernel_size must be an integer >= 1 or a pair of them, got 0"),
    (lambda lib: lib.Conv2d(1, 2, (3, 3, 3)), r"Conv2d: kernel_size must be .* got \(3, 3, 3\)"),
    (lambda lib: lib.Conv2d(0, 2, 3), "Conv2d: in_channels must be an integer >= 1, got 0"),
    (lambda lib: lib.Conv2d(3, 4, 3, groups=2), r"Conv2d: in_channels \(3\) and out_channels \(4\) must both be "
                                                r"divisible by groups \(2\)"),
    (lambda lib: lib.Conv2d(1, 2, 3, padding="full"), "Conv2d: padding must be an int, a pair, 'valid' or 'same', "
                                                      "got 'full'"),
    (lambda lib: lib.Conv2d(1, 2, 3, stride=2, padding="same"), "Conv2d: padding='same' needs stride 1, got stride=2"),
    (lambda lib: lib.ConvTranspose2d(1, 2, 3, stride=0), "ConvTranspose2d: stride must be an integer >= 1"),
    (lambda lib: lib.ConvTranspose2d(2, 2, 3, groups=0), "ConvTranspose2d: groups must be an integer >= 1, got 0"),
    (lambda lib: lib.ConvTranspose2d(1, 2, 3, padding=-1), "ConvTranspose2d: padding must be an integer >= 0"),
    (lambda lib: lib.ConvTranspose2d(1, 2, 3, stride=2, output_padding=2), r"ConvTranspose2d: output_padding \(2, 2\) "
                                                                           r"must be smaller than either stride"),
    (lambda lib: lib.MaxPool2d(2, stride=0), "MaxPool2d: stride must be an integer >= 1 or a pair of them, got 0"),
    (lambda lib: lib.MaxPool2d(2, padding=2), "MaxPool2d: padding 2 must be at most half the kernel size 2"),
    (lambda lib: lib.AvgPool2d(0), "AvgPool2d: kernel_size must be an integer >= 1"),
    (lambda lib: lib.Embedding(-3, 2), "Embedding: num_embeddings must be an integer >= 0, got -3"),
    (lambda lib: lib.Embedding(3, 2, padding_idx=3), "Embedding: padding_idx 3 is out of range for 3 embeddings"),
    (lambda lib: lib.Dropout(1.5), r"Dropout: p must be a probability in \[0, 1\], got 1.5"),
    (lambda lib: lib.Dropout("0.5"), r"Dropout: p must be a probability in \[0, 1\], got '0.5'"),
]


@pytest.mark.parametrize("make, message", BAD_ARGUMENTS, ids=[m.split(":")[0] + str(i) for i, (_, m) in
                                                               enumerate(BAD_ARGUMENTS)])
def test_bad_arguments_are_refused_by_message(make: Callable[[Any], Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make(nn)


@pytest.mark.parametrize("make", [
    lambda lib: lib.Conv2d(4, 6, 3), lambda lib: lib.Conv2d(4, 6, (3, 1), stride=(2, 1), padding=1, bias=False),
    lambda lib: lib.Conv2d(4, 6, 3, dilation=2, groups=2), lambda lib: lib.Conv2d(4, 6, 3, padding="same"),
    lambda lib: lib.ConvTranspose2d(4, 6, 3), lambda lib: lib.ConvTranspose2d(4, 6, 3, stride=2, output_padding=1),
    lambda lib: lib.ConvTranspose2d(4, 6, 3, dilation=2, groups=2, bias=False),
])
def test_conv_weights_and_repr_match_torch(make: Callable[[Any], Any]) -> None:
    ours, theirs = make(nn), make(torch.nn)
    assert repr(ours) == repr(theirs)
    assert {k: v.shape for k, v in ours.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in theirs.state_dict().items()}


def test_reset_parameters_redraws_in_place() -> None:
    conv = nn.Conv2d(2, 3, 3)
    weight, before = conv.weight, conv.weight.numpy().copy()
    conv.reset_parameters()
    assert conv.weight is weight and not np.array_equal(weight.numpy(), before)


@pytest.mark.parametrize("shape, output_size", [
    ((2, 3, 8, 8), (1, 1)), ((2, 3, 8, 6), (4, 3)), ((2, 3, 7, 10), 3), ((1, 2, 7, 5), (5, 3)),
    ((2, 3, 7, 10), (None, 4)), ((3, 5, 9), (4, None)), ((1, 1, 3, 3), (5, 7)),
])
def test_adaptive_avg_pool2d_matches_torch(shape: tuple[int, ...], output_size: Any) -> None:
    check(lambda x: nn.AdaptiveAvgPool2d(output_size)(x), [shape],
          lambda x: torch.nn.AdaptiveAvgPool2d(output_size)(x))


def test_adaptive_avg_pool2d_errors() -> None:
    with pytest.raises(ValueError, match=r"AdaptiveAvgPool2d: output_size must be an integer >= 1, None, or a pair "
                                         r"of them, got \(0, 2\)"):
        nn.AdaptiveAvgPool2d((0, 2))
    with pytest.raises(ValueError, match=r"adaptive_avg_pool2d: expected a 3-D or 4-D input, got shape \(4, 4\)"):
        nn.AdaptiveAvgPool2d(2)(edugrad.ones(4, 4))
    assert repr(nn.AdaptiveAvgPool2d((5, 7))) == repr(torch.nn.AdaptiveAvgPool2d((5, 7)))


def test_pool_layers_accept_pytorchs_default_flags_and_refuse_the_rest() -> None:
    assert nn.MaxPool2d(2, ceil_mode=False, return_indices=False)(edugrad.ones(1, 1, 4, 4)).shape == (1, 1, 2, 2)
    assert nn.AvgPool2d(2, ceil_mode=False, count_include_pad=True)(edugrad.ones(1, 1, 4, 4)).shape == (1, 1, 2, 2)
    with pytest.raises(NotImplementedError, match=r"MaxPool2d: ceil_mode=True and return_indices=True"):
        nn.MaxPool2d(2, ceil_mode=True)
    with pytest.raises(NotImplementedError, match=r"AvgPool2d: ceil_mode=True and count_include_pad=False"):
        nn.AvgPool2d(2, count_include_pad=False)
