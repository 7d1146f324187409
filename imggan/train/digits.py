"""The ``digits`` recipe: the founding article's MLP GAN, trained correctly, on scikit-learn's 8x8 digits.

The founding article (a GAN tutorial, not in this repo; its section 4) builds a 4-layer MLP generator (ReLU,
sigmoid output) and a 3-layer MLP discriminator for MNIST in TensorFlow, but its training loop has two bugs: the
"generator" update is ``discriminator.train_on_batch(noise, ones)`` -- it fits *D* to random noise and never
touches G -- and every step reuses the same first ``batch_size`` images. Here the same networks (sized for 64
pixels) play the game through :mod:`imggan.train.trainer`: D learns on fresh random batches of real digits against G's
samples, and G is updated through D's frozen weights with the non-saturating loss.

``load_digits`` ships with scikit-learn (1797 images, 0..16 grey levels, scaled here to [0, 1]); nothing is
downloaded. :func:`digits_metrics` scores a generator by the sliced Wasserstein distance to the data and by
the confidence of a logistic-regression digit classifier trained on the real digits.

Example:
    >>> from imggan.train.digits import make_recipe
    >>> make_recipe().name
    'digits'
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from imggan.train.recipe import TrainRecipe

if TYPE_CHECKING:
    import numpy as np
    from torch import Tensor, nn

DEFAULTS: dict[str, Any] = {
    "steps": 5000,
    "batch_size": 64,  # the article used 128; 64 fresh batches a step train faster on 1797 images
    "z_dim": 100,  # the article's noise_dim
    "lr_g": 1e-3,
    "lr_d": 1e-3,
    "betas": [0.5, 0.99],
    "r1_gamma": 1.0,  # lazy R1: without it the article's MLPs collapse onto one or two digits
    "r1_every": 4,
    "ema_beta": 0.995,
    "sample_every": 1000,
    "sample_count": 64,
    "ckpt_every": 1000,
    "log_every": 50,
}


@functools.lru_cache(maxsize=1)
def load_digits_array() -> np.ndarray:
    """The 1797 digits as an N x 64 float32 array in [0, 1]."""
    import numpy as np
    from sklearn.datasets import load_digits

    return (load_digits().data / 16.0).astype(np.float32)


@functools.lru_cache(maxsize=1)
def _classifier() -> Any:
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression

    digits = load_digits()
    return LogisticRegression(max_iter=2000).fit(digits.data / 16.0, digits.target)


def digits_metrics(samples: np.ndarray, seed: int = 0) -> dict[str, float]:
    """Score N x 64 samples in [0, 1] against the real digits.

    Returns:
        ``swd``: sliced Wasserstein distance to the data (lower is better); ``confidence``: mean top-class
        probability of a classifier trained on real digits (reals score about 0.97, noise far lower);
        ``classes``: number of digit classes among the samples' predictions.
    """
    import numpy as np

    from imggan.metrics import sliced_wasserstein

    data = load_digits_array()
    clf = _classifier()
    probs = clf.predict_proba(np.clip(samples, 0, 1))
    return {
        "swd": sliced_wasserstein(samples, data, projections=128, seed=seed),
        "confidence": float(probs.max(1).mean()),
        "classes": float(len(np.unique(probs.argmax(1)))),
    }


def _batches(config: dict[str, Any], seed: int) -> Any:
    import numpy as np
    import torch

    from imggan.train.data import StatefulBatches

    data = torch.from_numpy(load_digits_array())
    rng = np.random.default_rng(seed)
    n, z_dim = int(config["batch_size"]), int(config["z_dim"])

    def draw() -> dict[str, Tensor]:
        # A fresh random batch every step (the article reused real_images[0:batch_size] forever).
        index = torch.from_numpy(rng.integers(0, len(data), n))
        z = torch.from_numpy(rng.normal(0.0, 1.0, (n, z_dim)).astype(np.float32))
        return {"target": data[index], "z": z}

    return StatefulBatches(draw, [rng])


def build_generator(config: dict[str, Any]) -> nn.Module:
    """The article's generator: Dense 128-128-(1024 -> 256 for 64 pixels), ReLU, sigmoid output."""
    from imggan.nn.mlp import MLP

    return MLP(int(config["z_dim"]), [128, 128, int(config.get("g_width", 256))], 64, act="relu", out_act="sigmoid")


def build_discriminator(config: dict[str, Any]) -> nn.Module:
    """The article's discriminator: Dense 128-128, ReLU, one output (a logit; the loss applies the sigmoid)."""
    from imggan.nn.mlp import MLP

    return MLP(64, [128, 128], 1, act="relu")


def _generate(G: nn.Module, batch: dict[str, Tensor]) -> Tensor:
    return G(batch["z"])


def sample(G: nn.Module, count: int, z_dim: int, seed: int = 0) -> np.ndarray:
    """``count`` samples of G (fixed latent seed) as a count x 64 array."""
    import torch

    device = next(G.parameters()).device
    z = torch.randn(count, z_dim, generator=torch.Generator().manual_seed(seed)).to(device)
    with torch.no_grad():
        return G(z).float().cpu().numpy()


def _evaluate(G: nn.Module, config: dict[str, Any]) -> dict[str, float]:
    return digits_metrics(sample(G, 1000, int(config["z_dim"])))


def _preview(fake: Tensor, batch: dict[str, Tensor]) -> Tensor:
    import torch

    images = fake.detach().float().reshape(-1, 1, 8, 8).clamp(0, 1)
    return torch.nn.functional.interpolate(images, scale_factor=4, mode="nearest")


def make_recipe() -> TrainRecipe:
    """The ``digits`` recipe."""
    return TrainRecipe(
        name="digits",
        help="The founding article's MLP GAN on scikit-learn's 8x8 digits (no --data needed).",
        build_generator=build_generator,
        build_discriminator=build_discriminator,
        make_batches=_batches,
        generate=_generate,
        losses={"adv": 1.0},
        defaults=dict(DEFAULTS),
        evaluate=_evaluate,
        preview=_preview,
    )
