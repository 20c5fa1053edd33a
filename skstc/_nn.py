"""The network of STC: an MLP autoencoder (the encoder maps inputs to the latent space)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


def _mlp(dims: Sequence[int], negative_slope: float) -> nn.Sequential:
    """Dense layers ``dims[0] -> ... -> dims[-1]``, LeakyReLU between, linear output."""
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(dims[:-1], dims[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(dims) - 2:
            layers.append(nn.LeakyReLU(negative_slope))
    return nn.Sequential(*layers)


class AutoEncoder(nn.Module):
    """MLP autoencoder with a linear bottleneck and a linear output.

    Parameters
    ----------
    n_features : int
        Input dimension.
    hidden_dims : sequence of int
        Widths of the encoder's hidden layers.
    n_components : int
        Dimension of the latent space (the bottleneck).
    decoder_dims : sequence of int or None, default=None
        Widths of the decoder's hidden layers, from the bottleneck outwards; None mirrors
        ``hidden_dims`` (a symmetric autoencoder, the paper's), ``()`` is a linear decoder.
    negative_slope : float, default=0.01
        Slope of the LeakyReLU activations.
    """

    def __init__(
        self,
        n_features: int,
        hidden_dims: Sequence[int],
        n_components: int,
        decoder_dims: Sequence[int] | None = None,
        negative_slope: float = 0.01,
    ) -> None:
        super().__init__()
        dims = [int(n_features), *map(int, hidden_dims), int(n_components)]
        self.encoder = _mlp(dims, negative_slope)
        if decoder_dims is None:
            self.decoder = _mlp(dims[::-1], negative_slope)
        else:
            self.decoder = _mlp([int(n_components), *map(int, decoder_dims), int(n_features)],
                                negative_slope)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = self.encoder(x)
        return z, self.decoder(z)
