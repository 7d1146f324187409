"""The founding article's MLP GAN, in torch, trained correctly through imggan's trainer.

The founding GAN article the project started from (a TensorFlow tutorial, not part of this repo; its
section 4) trains an MLP GAN on MNIST with TensorFlow. Its loop has
two bugs, reproduced here by ``--article-loop``:

* the "generator" step is ``discriminator.train_on_batch(noise, ones)``: it fits D to classify *noise* as
  real and never touches G's weights, so G stays at its random initialisation forever;
* every step uses the same ``real_images[0:batch_size]``.

The correct game (the default) runs the ``digits`` recipe through :func:`imggan.train.trainer.train`: D is
updated on fresh random batches of real digits against G's samples, and G is updated through D's frozen
weights with the non-saturating loss. It uses scikit-learn's 8x8 digits (``load_digits``, shipped with
scikit-learn) instead of MNIST, so nothing is downloaded.

Usage:
    python examples/digits_gan.py --out runs/digits --steps 5000
    python examples/digits_gan.py --article-loop --steps 500      # the article's loop: G never learns
    # the same run from the command line:
    imggan train digits --out runs/digits --steps 5000
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from imggan.train import checkpoint as ckpt
from imggan.train.digits import digits_metrics, load_digits_array, make_recipe, sample
from imggan.train.trainer import train


def article_loop(steps: int, batch_size: int = 128, z_dim: int = 100, seed: int = 0) -> dict:
    """The article's training loop, transcribed to torch bug for bug; returns G's metrics before and after."""
    recipe = make_recipe()
    config = {**recipe.defaults, "z_dim": z_dim}
    torch.manual_seed(seed)
    G, D = recipe.build_generator(config), recipe.build_discriminator(config)
    opt_d = torch.optim.Adam(D.parameters())  # Keras compiles D with an optimizer; G is never compiled
    bce = torch.nn.BCEWithLogitsLoss()
    real_images = torch.from_numpy(load_digits_array())
    before = digits_metrics(sample(G, 1000, z_dim))
    g_before = [p.detach().clone() for p in G.parameters()]

    def train_on_batch(x: torch.Tensor, y: torch.Tensor) -> float:
        opt_d.zero_grad()
        loss = bce(D(x), y)
        loss.backward()
        opt_d.step()
        return float(loss.detach())

    ones, zeros = torch.ones(batch_size, 1), torch.zeros(batch_size, 1)
    for _ in range(steps):
        noise = torch.randn(batch_size, z_dim)
        batch = real_images[0:batch_size]  # bug 2: always the same images
        with torch.no_grad():
            fake_images = G(noise)  # generator.predict
        train_on_batch(batch, ones)
        train_on_batch(fake_images, zeros)
        noise = torch.randn(batch_size, z_dim)
        # bug 1: D is fit on noise labelled "real"; noise is z_dim-wide, so it cannot even be fed to this D
        # unless z_dim == 64: the article relied on Keras building D lazily on the first input it saw.
        if z_dim == real_images.shape[1]:
            train_on_batch(noise, ones)
    after = digits_metrics(sample(G, 1000, z_dim))
    unchanged = all(torch.equal(a, b) for a, b in zip(g_before, G.parameters(), strict=True))
    return {"before": before, "after": after, "generator_unchanged": unchanged}


def correct(out: Path, steps: int, extra: dict) -> dict:
    """Train the ``digits`` recipe with the trainer; returns the EMA generator's metrics before and after."""
    recipe = make_recipe()
    torch.manual_seed(0)
    before = digits_metrics(sample(recipe.build_generator(recipe.defaults), 1000, recipe.defaults["z_dim"]))
    stats = train(recipe, {"steps": steps, **extra}, out)
    tensors, meta = ckpt.load_checkpoint(ckpt.latest_checkpoint(out))
    generator = recipe.build_generator(meta["config"])
    generator.load_state_dict(ckpt.strip_prefix(tensors, "G_ema/"))
    after = digits_metrics(sample(generator, 1000, meta["config"]["z_dim"]))
    return {
        "before": before,
        "after": after,
        "real_digits": digits_metrics(load_digits_array()[:1000]),
        "d_accuracy": stats["losses"].get("d/acc"),
        "samples": str(sorted((out / "samples").glob("*.png"))[-1]),
        "model": stats["export"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("runs/digits"))
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--article-loop", action="store_true", help="Run the article's (broken) loop instead.")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="Trainer config overrides.")
    args = parser.parse_args()
    if args.article_loop:
        result = article_loop(args.steps, z_dim=64)
    else:
        from imggan.train.config import parse_set

        result = correct(args.out, args.steps, dict(parse_set(item) for item in args.set))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
