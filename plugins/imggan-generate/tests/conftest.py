"""Fixtures of the generation head's tests: small untrained generators saved as model files."""

from pathlib import Path

import pytest


def save_tiny(folder: Path, arch: str = "dcgan", resolution: int = 16, classes: int = 3, seed: int = 0) -> Path:
    """Save a randomly initialised generator (batch-norm statistics warmed up) as a model; return its path."""
    import torch

    from imggan_generate.models import build_generator
    from imggan_generate.recipes import _export

    config = {
        "arch": arch,
        "resolution": resolution,
        "channels": 3,
        "z_dim": 8,
        "width": 8,
        "num_classes": classes,
        "class_names": [f"c{i}" for i in range(classes)],
        "data": "synthetic",
    }
    torch.manual_seed(seed)
    net = build_generator(config)
    with torch.no_grad():
        for name, param in net.named_parameters():  # untrained class embeddings are all equal: make them differ
            if ".gamma." in name or ".beta." in name:
                param.add_(0.3 * torch.randn_like(param))
    with torch.no_grad():  # a few train-mode passes give the running statistics realistic values
        for _ in range(3):
            net(torch.randn(16, 8), torch.randint(0, classes, (16,)) if classes else None)
    net.eval()
    folder.mkdir(parents=True, exist_ok=True)
    return _export(net, config, folder)


@pytest.fixture
def tiny_model(tmp_path: Path) -> Path:
    """A conditional 16 px DCGAN-style generator with 3 classes (untrained)."""
    return save_tiny(tmp_path / "tiny")


@pytest.fixture
def tiny_faces(tmp_path: Path) -> Path:
    """An unconditional 32 px FastGAN-style generator (untrained)."""
    return save_tiny(tmp_path / "tinyfast", arch="fastgan", resolution=32, classes=0)
