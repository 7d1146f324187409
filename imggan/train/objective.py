"""The adversarial objective as one object: D's loss, its lazy regularisers, and G's weighted terms.

Like StyleGAN2-ADA's loss object, it knows the phases of a step and what each one minimises; the step
runner (:class:`imggan.train.trainer.Trainer`) owns the mechanics around them (micro-batches, autocast,
DDP's ``no_sync``, backward, clipping, the optimizer step):

- ``D`` (:meth:`AdversarialObjective.d_loss`): the D side of ``gan_loss`` on reals and fakes, concatenated
  into one forward pass when their shapes match, plus the WGAN-GP penalty for ``wgan-gp``.
- ``Dreg`` (:meth:`AdversarialObjective.d_regularizer`): the lazy R1 penalty, every ``r1_every`` steps,
  weighted ``r1_gamma / 2 * r1_every`` so its average strength does not depend on the interval; it is added
  to the same step's D loss, so under DDP one backward fires the gradient hooks once per parameter.
- ``G`` (:meth:`AdversarialObjective.g_loss`): the weighted sum of the named
  :class:`~imggan.train.losses.LossTerm` (``--loss adv=1,l1=10``), each logged on its own, with D frozen.

With no active term that needs D (or no D in the recipe) the objective has no D phases: reconstruction
pretraining.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn

from imggan.errors import ImgganError
from imggan.train.config import active_losses
from imggan.train.gan_losses import call_discriminator, d_accuracy, get_gan_loss, gradient_penalty, r1_penalty
from imggan.train.losses import BUILTIN_TERMS, LossContext, LossTerm
from imggan.train.recorder import StepRecorder


def registered_terms() -> dict[str, LossTerm]:
    """The built-in loss terms and every term a plugin registered."""
    terms = {t.name: t for t in BUILTIN_TERMS}
    try:
        from imggan.plugins import get_registry

        terms.update(get_registry().losses)
    except Exception:  # the trainer must work without the plugin manager (embedding, tests)
        pass
    return terms


def plain_logits(D: nn.Module, x: Tensor) -> Tensor:
    """D's logits on ``x`` (dropping the features of a D that always returns them)."""
    out = D(x)
    return out[0] if isinstance(out, tuple) else out


class AdversarialObjective:
    """What each phase of a training step minimises.

    Args:
        config: the run's config (``losses``, ``gan_loss``, ``gp_weight``, ``r1_gamma``, ``r1_every``).
        has_discriminator: the recipe builds a D.
        recipe_name: for error messages.

    Raises:
        ImgganError: an unknown term, an empty objective, an unknown ``gan_loss``, or terms that need a D
            the recipe does not have.
    """

    def __init__(self, config: dict[str, Any], has_discriminator: bool, recipe_name: str = "recipe") -> None:
        known = registered_terms()
        self.weights = active_losses(config)
        unknown = [name for name in self.weights if name not in known]
        if unknown:
            raise ImgganError(f"unknown loss term(s) {unknown}; known: {', '.join(sorted(known))}")
        if not self.weights:
            raise ImgganError("the generator objective is empty (every --loss weight is 0)")
        self.terms = {name: known[name] for name in self.weights}
        try:
            self.gan = get_gan_loss(str(config["gan_loss"]))
        except KeyError as exc:
            raise ImgganError(str(exc.args[0])) from None
        self.uses_discriminator = any(t.needs_discriminator for t in self.terms.values())
        if self.uses_discriminator and not has_discriminator:
            raise ImgganError(f"recipe {recipe_name!r} has no discriminator but the objective needs one")
        self.needs_real_features = any(t.needs_real_features for t in self.terms.values())
        self.config = config
        self.gp_weight = float(config.get("gp_weight", 10.0))
        self.r1_gamma = float(config.get("r1_gamma") or 0.0)
        self.r1_every = max(1, int(config.get("r1_every") or 1))

    def phases(self, step: int) -> list[str]:
        """The phases of ``step``: ``["D", "Dreg", "G"]``, without ``Dreg`` off its interval, ``["G"]`` alone
        for reconstruction-only objectives."""
        if not self.uses_discriminator:
            return ["G"]
        return ["D", "Dreg", "G"] if self.r1_gamma > 0 and step % self.r1_every == 0 else ["D", "G"]

    # ------------------------------------------------------------------------------------------- D side
    def d_logits(self, D_train: nn.Module, real_in: Tensor, fake_in: Tensor) -> tuple[Tensor, Tensor]:
        """D's float logits on the conditioned, augmented reals and fakes (one forward when shapes match)."""
        if real_in.shape == fake_in.shape:
            logits = plain_logits(D_train, torch.cat([real_in, fake_in]))
            l_real, l_fake = logits.float().chunk(2)
            return l_real, l_fake
        real_logits = call_discriminator(D_train, real_in, False)[0].float()
        return real_logits, call_discriminator(D_train, fake_in, False)[0].float()

    def d_loss(
        self, D_plain: nn.Module, l_real: Tensor, l_fake: Tensor, real_in: Tensor, fake_in: Tensor, rec: StepRecorder
    ) -> Tensor:
        """Phase ``D``: D's adversarial loss (+ ``gp_weight`` * WGAN-GP), logged as ``d/*``."""
        loss = self.gan.d_loss(l_real, l_fake)
        rec.record("d/adv", loss)
        if self.gan.gradient_penalty:
            gp = gradient_penalty(lambda x: plain_logits(D_plain, x), real_in.float(), fake_in.float())
            rec.record("d/gp", gp)
            loss = loss + self.gp_weight * gp
        rec.record("d/real", l_real.mean())
        rec.record("d/fake", l_fake.mean())
        rec.record("d/acc", d_accuracy(l_real, l_fake, self.gan.threshold))
        return loss

    def d_regularizer(self, D_plain: nn.Module, real_in: Tensor, rec: StepRecorder) -> Tensor:
        """Phase ``Dreg``: the lazy R1 penalty, already weighted ``r1_gamma / 2 * r1_every``."""
        r1 = r1_penalty(lambda x: plain_logits(D_plain, x), real_in.float())
        rec.record("d/r1", r1)
        return (self.r1_gamma / 2.0) * self.r1_every * r1

    # ------------------------------------------------------------------------------------------- G side
    def g_loss(
        self,
        batch: dict[str, Any],
        fake: Tensor,
        real: Tensor,
        d_g: nn.Module | None,
        d_input: Callable[[dict[str, Any], Tensor], Tensor],
        want_features: bool,
        step: int,
        rec: StepRecorder,
    ) -> Tensor:
        """Phase ``G``: the weighted sum of the objective's terms (D frozen), each logged as ``g/<term>``.

        Args:
            batch: the prepared batch.
            fake: G's output on it.
            real: ``recipe.real(batch)``.
            d_g: D as the G step uses it (no DDP reducer, frozen), or ``None`` without D phases.
            d_input: ``(batch, images) -> D's input`` (condition, then augment).
            want_features: ask D for its feature maps (feature matching and similar terms).
            step: the training step (terms may schedule on it).
            rec: where the values go.
        """
        d_fake = fake_feats = real_feats = None
        if self.uses_discriminator and d_g is not None:
            d_fake, fake_feats = call_discriminator(d_g, d_input(batch, fake), want_features)
            if self.needs_real_features:
                with torch.no_grad():
                    _, real_feats = call_discriminator(d_g, d_input(batch, real), True)
        ctx = LossContext(
            batch=batch,
            fake=fake,
            real=real,
            d_fake=d_fake,
            d_fake_features=fake_feats,
            d_real_features=real_feats,
            gan_loss=self.gan.name,
            config=self.config,
            step=step,
        )
        total: Tensor | None = None
        for name, term in self.terms.items():
            value = term.fn(ctx).float()
            rec.record(f"g/{name}", value)
            weighted = self.weights[name] * value
            total = weighted if total is None else total + weighted
        assert total is not None
        rec.record("g/total", total)
        return total
