"""Adversarial training of a tiny inpainter through the core trainer: G improves, D learns to judge the hole."""

from __future__ import annotations

import cv2
import numpy as np
import torch

from imggan_inpaint import losses
from imggan_inpaint import recipes as recipe


def _textured_folder(folder, make_image) -> None:
    y, x = np.mgrid[0:160, 0:160]
    for i in range(2):
        stripes = (np.sin((x + 2 * y) * (0.6 + 0.2 * i)) > 0)[..., None] * 80
        cv2.imwrite(str(folder / f"img{i}.png"), (make_image(160, 160, seed=i) * 0.6 + stripes).astype(np.uint8))


def test_a_tiny_model_trained_adversarially_lowers_hole_l1_and_its_d_judges_the_hole(tmp_path, make_image) -> None:
    from imggan.train.api import configure
    from imggan.train.trainer import Trainer

    _textured_folder(tmp_path, make_image)
    r = recipe.build_recipe()
    tiny = {
        "data": str(tmp_path), "crop": 48, "batch_size": 4, "scales": [1.0], "steps": 40, "widths": [8, 16, 24],
        "blocks": 1, "fourier": False, "d_width": 8, "lr_g": 2e-3, "lr_d": 1e-3, "threads": 1, "device": "cpu",
        "sample_every": 0, "ckpt_every": 0, "progress": False, "smooth_prob": 0.0,
    }  # fmt: skip
    config = configure(r, tiny)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    trainer = Trainer(r, config, None)
    try:
        assert trainer.D is not None and trainer.weights.get("adv", 0) > 0  # adversarial by default
        torch.manual_seed(0)
        fixed = r.prepare_batch(next(r.make_batches({**r.defaults, **tiny}, seed=123)), torch.device("cpu"))

        def hole_l1() -> float:
            with torch.no_grad():
                return float(losses.hole_l1(r.generate(trainer.G, fixed), fixed["target"], fixed["hole"]))

        before = hole_l1()
        for _ in range(40):
            trainer.train_step()
        after = hole_l1()
        with torch.no_grad():
            fake = r.generate(trainer.G, fixed)
            real_logits = trainer.D(r.condition(fixed, fixed["target"])).flatten()
            fake_logits = trainer.D(r.condition(fixed, fake)).flatten()
    finally:
        trainer.close()
        torch.set_num_threads(threads)
    assert after < 0.95 * before, (before, after)
    # Better than chance on the hole: real fills score above fake ones more often than not.
    pairs = (real_logits[:, None] > fake_logits[None, :]).float().mean()
    assert float(pairs) > 0.5, (real_logits, fake_logits)
