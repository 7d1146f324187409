"""The generators' fixed upsampling layer (``native_resolution``): it is the data pipeline's own resize."""

from pathlib import Path

import numpy as np
import pytest


def test_upsampling_layer_equals_the_data_pipelines_bicubic_resize():
    """On the real 8x8 digits, G's fixed layer gives the 16 px images the data loader gives (to 1 grey level)."""
    import torch

    from imggan_generate.data import _digits, load_image_set
    from imggan_generate.models import upsample_to

    images, _ = _digits()
    loaded = load_image_set("sklearn:digits:all", 16).images[:64, ..., 0].astype(np.float32)
    x = torch.from_numpy(images[:64] / 127.5 - 1.0)[:, None]
    ours = upsample_to(x, 16)[:, 0].add(1.0).mul(127.5).numpy()
    assert ours.shape == (64, 16, 16)
    assert np.abs(ours - loaded).max() <= 1.0
    assert float(ours.min()) >= 0.0 and float(ours.max()) <= 255.0  # clipped like the uint8 data


@pytest.mark.parametrize("arch", ["mlp", "dcgan"])
def test_native_resolution_generator_draws_small_and_upsamples(arch: str, tmp_path: Path):
    import torch
    import torch.nn.functional as F

    from imggan_generate.api import load_generator
    from imggan_generate.models import build_generator, generator_kwargs
    from imggan_generate.recipes import _export

    config = {"arch": arch, "resolution": 16, "channels": 1, "z_dim": 8, "width": 8, "num_classes": 3}
    config |= {"native_resolution": 8, "class_names": ["a", "b", "c"], "data": "synthetic"}
    torch.manual_seed(0)
    net = build_generator(config).eval()
    z, labels = torch.randn(4, 8), torch.tensor([0, 1, 2, 0])
    with torch.no_grad():
        out = net(z, labels)
    assert out.shape == (4, 1, 16, 16)
    # every output lies in the span of the bicubic upsampling of the 64 8x8 basis images (no clipping at init)
    basis = F.interpolate(torch.eye(64).view(64, 1, 8, 8), size=16, mode="bicubic", align_corners=False)
    up = basis.view(64, 256).T
    flat = out.view(4, 256).T
    coeffs = torch.linalg.lstsq(up, flat).solution
    assert float(out.abs().max()) < 1.0 and float((up @ coeffs - flat).abs().max()) < 1e-4
    free = build_generator({**config, "native_resolution": 0}).eval()  # a 16 px network is not in that span
    with torch.no_grad():
        other = free(z, labels).view(4, 256).T
    assert float((up @ torch.linalg.lstsq(up, other).solution - other).abs().max()) > 1e-3
    assert generator_kwargs(config)["native_resolution"] == 8
    assert "native_resolution" not in generator_kwargs({**config, "native_resolution": 16})
    model = load_generator(_export(net, config, tmp_path / "run"))  # the card rebuilds the same network
    with torch.no_grad():
        assert torch.equal(model.net(z, labels), out)


def test_native_resolution_above_the_output_is_refused():
    from imggan_generate.models import build_generator

    with pytest.raises(ValueError, match="native_resolution"):
        build_generator({"arch": "mlp", "resolution": 8, "channels": 1, "z_dim": 8, "native_resolution": 16})
