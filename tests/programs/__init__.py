"""PyTorch programs written as learners copy them from PyTorch's tutorials and examples and from
well-known small repositories. Each is plain PyTorch (`import torch`) and is run twice by
tests/test_pytorch_programs.py: with PyTorch, and with edugrad in torch's place, only its import
lines rewritten (`import torch` -> `import edugrad as torch`)."""
