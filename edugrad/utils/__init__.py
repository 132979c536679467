"""Utilities above the Tensor and nn layers, as in ``torch.utils``: ``data`` feeds training loops."""

from edugrad.utils import data

__all__ = ["data"]
