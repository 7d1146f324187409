"""Multi-layer perceptrons: the article's generator and discriminator, and the 2-D toy's networks.

Example:
    >>> import torch
    >>> from imggan.nn.mlp import MLP
    >>> tuple(MLP(8, [16, 16], 2)(torch.zeros(3, 8)).shape)
    (3, 2)
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from imggan.nn.blocks import activation


class MLP(nn.Module):
    """Linear layers with an activation between them; ``out_act`` after the last (``none``, ``sigmoid``, ...).

    ``forward(x, return_features=True)`` also returns the hidden activations (feature matching works on
    MLP discriminators too).
    """

    def __init__(
        self, in_features: int, hidden: Sequence[int], out_features: int, act: str = "relu", out_act: str = "none"
    ) -> None:
        super().__init__()
        sizes = [in_features, *hidden]
        self.hidden = nn.ModuleList(
            nn.Sequential(nn.Linear(a, b), activation(act)) for a, b in zip(sizes[:-1], sizes[1:], strict=True)
        )
        self.out = nn.Linear(sizes[-1], out_features)
        self.out_act = nn.Sigmoid() if out_act == "sigmoid" else nn.Tanh() if out_act == "tanh" else nn.Identity()

    def forward(self, x: Tensor, return_features: bool = False) -> Tensor | tuple[Tensor, list[Tensor]]:
        features = []
        for layer in self.hidden:
            x = layer(x)
            features.append(x)
        out = self.out_act(self.out(x))
        return (out, features) if return_features else out
