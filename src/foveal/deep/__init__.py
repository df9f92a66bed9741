"""Deep models: timm/torch networks, per-task heads, the training loop and its callbacks.

Imports stay lazy: ``import foveal.deep`` does not import torch.
"""
