"""Each adversarial loss, R1 and the WGAN gradient penalty against a hand computation on tiny tensors."""

from __future__ import annotations

import math

import pytest
import torch

from imggan.train.gan_losses import d_accuracy, get_gan_loss, gradient_penalty, r1_penalty

REAL = [2.0, -1.0]  # D's logits on two reals
FAKE = [0.5, -3.0]  # ... and on two fakes


def sig(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def t(values: list[float]) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64)


def test_minimax_is_the_articles_game() -> None:
    loss = get_gan_loss("minimax")
    # D maximises log D(x) + log(1 - D(G(z))): it minimises the negation, averaged per term.
    expected_d = -sum(math.log(sig(r)) for r in REAL) / 2 - sum(math.log(1 - sig(f)) for f in FAKE) / 2
    assert float(loss.d_loss(t(REAL), t(FAKE))) == pytest.approx(expected_d, rel=1e-12)
    # G minimises log(1 - D(G(z))).
    expected_g = sum(math.log(1 - sig(f)) for f in FAKE) / 2
    assert float(loss.g_loss(t(FAKE))) == pytest.approx(expected_g, rel=1e-12)


def test_nonsaturating() -> None:
    loss = get_gan_loss("non-saturating")  # alias
    expected_d = -sum(math.log(sig(r)) for r in REAL) / 2 - sum(math.log(1 - sig(f)) for f in FAKE) / 2
    assert float(loss.d_loss(t(REAL), t(FAKE))) == pytest.approx(expected_d, rel=1e-12)
    expected_g = -sum(math.log(sig(f)) for f in FAKE) / 2
    assert float(loss.g_loss(t(FAKE))) == pytest.approx(expected_g, rel=1e-12)


def test_nonsaturating_has_strong_gradient_where_minimax_saturates() -> None:
    # A fake D rejects with confidence (logit -8): minimax's gradient vanishes, non-saturating's does not.
    x = torch.tensor([-8.0], requires_grad=True)
    (g_mm,) = torch.autograd.grad(get_gan_loss("minimax").g_loss(x), x)
    (g_ns,) = torch.autograd.grad(get_gan_loss("nonsaturating").g_loss(x), x)
    assert abs(float(g_mm)) < 1e-3 < 0.99 < abs(float(g_ns))


def test_hinge() -> None:
    loss = get_gan_loss("hinge")
    expected_d = (max(0, 1 - 2.0) + max(0, 1 + 1.0)) / 2 + (max(0, 1 + 0.5) + max(0, 1 - 3.0)) / 2
    assert float(loss.d_loss(t(REAL), t(FAKE))) == pytest.approx(expected_d)  # (0 + 2)/2 + (1.5 + 0)/2
    assert float(loss.g_loss(t(FAKE))) == pytest.approx(-(0.5 - 3.0) / 2)


def test_lsgan() -> None:
    loss = get_gan_loss("lsgan")
    expected_d = 0.5 * (((2 - 1) ** 2 + (-1 - 1) ** 2) / 2 + (0.5**2 + 3.0**2) / 2)
    assert float(loss.d_loss(t(REAL), t(FAKE))) == pytest.approx(expected_d)
    assert float(loss.g_loss(t(FAKE))) == pytest.approx(0.5 * ((0.5 - 1) ** 2 + (-3 - 1) ** 2) / 2)


def test_wgan() -> None:
    loss = get_gan_loss("wgan-gp")
    assert loss.gradient_penalty
    assert float(loss.d_loss(t(REAL), t(FAKE))) == pytest.approx((0.5 - 3.0) / 2 - (2.0 - 1.0) / 2)
    assert float(loss.g_loss(t(FAKE))) == pytest.approx(1.25)


def test_unknown_loss_lists_known() -> None:
    with pytest.raises(KeyError, match="hinge"):
        get_gan_loss("nope")


def linear_d(w: torch.Tensor, b: float):
    """D(x) = sum(w * x) + b per sample: its input gradient is w everywhere, its square norm |w|^2."""
    return lambda x: (x * w).flatten(1).sum(1) + b


def test_r1_is_squared_input_gradient_norm() -> None:
    w = torch.tensor([[1.0, -2.0], [0.5, 3.0]], requires_grad=True)
    real = torch.randn(5, 2, 2)
    penalty = r1_penalty(linear_d(w, 0.3), real)
    assert float(penalty.detach()) == pytest.approx(1 + 4 + 0.25 + 9)
    # The graph reaches D's parameters: d(|w|^2)/dw = 2w.
    (grad,) = torch.autograd.grad(penalty, w)
    assert torch.allclose(grad, 2 * w)


def test_r1_on_a_quadratic_d() -> None:
    # D(x) = sum(x^2): grad 2x, |grad|^2 = 4 |x|^2, averaged over samples.
    real = torch.tensor([[1.0, 2.0], [0.0, -1.0]])
    penalty = r1_penalty(lambda x: x.square().sum(1), real)
    assert float(penalty.detach()) == pytest.approx((4 * 5 + 4 * 1) / 2)


def test_gradient_penalty() -> None:
    w = torch.tensor([3.0, 4.0])  # |grad| = 5 for every interpolate -> (5 - 1)^2
    real, fake = torch.randn(4, 2), torch.randn(4, 2)
    assert float(gradient_penalty(linear_d(w, 0.0), real, fake)) == pytest.approx(16.0)
    # Quadratic D: grad at x_hat is 2 x_hat; check against the interpolates drawn by the same generator.
    gen = torch.Generator().manual_seed(0)
    eps = torch.rand(4, 1, generator=torch.Generator().manual_seed(0))
    x_hat = eps * real + (1 - eps) * fake
    expected = ((2 * x_hat).norm(dim=1) - 1).square().mean()
    got = gradient_penalty(lambda x: x.square().sum(1), real, fake, generator=gen)
    assert float(got.detach()) == pytest.approx(float(expected), rel=1e-5)


def test_d_accuracy() -> None:
    assert float(d_accuracy(t(REAL), t(FAKE))) == pytest.approx((1 / 2 + 1 / 2) / 2)
    assert float(d_accuracy(t([0.9]), t([0.2]), threshold=0.5)) == 1.0
