"""``--data emoji:google``: the emoji classes and splits as an image set (a synthetic package, no network)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from imggan.data import emoji
from imggan.errors import ImgganError
from imggan_generate import data


@pytest.fixture
def emoji_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = emoji.extract(emoji.synthetic_tarball(tmp_path / "pkg.tgz", per_class=10), tmp_path / "pkg")
    monkeypatch.setattr(emoji, "default_folder", lambda root=None: folder)
    monkeypatch.setattr(emoji, "MIN_COUNT", 5)
    data._emoji.cache_clear()
    yield folder
    data._emoji.cache_clear()


def test_emoji_source_gives_labelled_splits(emoji_folder: Path):
    train = data.load_image_set("emoji:google", 16)
    val, test = data.load_image_set("emoji:google:val", 16), data.load_image_set("emoji:google:test", 16)
    assert train.class_names == ["Smileys & Emotion", "Animals & Nature"]
    assert train.images.shape[1:] == (16, 16, 3) and train.images.dtype == np.uint8
    assert (len(train.images), len(val.images), len(test.images)) == (14, 2, 4)
    assert sorted(np.bincount(test.labels).tolist()) == [2, 2]
    assert not {p.name for p in train.paths} & {p.name for p in test.paths}
    assert (train.images[:, 0, 0] == 255).all()  # transparent corners on white
    # the two classes differ in colour: orange smileys (high red, RGB order) vs green animals
    smiley, animal = train.images[train.labels == 0][:, 8, 8], train.images[train.labels == 1][:, 8, 8]
    assert smiley[:, 0].mean() > animal[:, 0].mean() + 100


def test_emoji_source_not_fetched_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(emoji, "default_folder", lambda root=None: tmp_path / "missing")
    data._emoji.cache_clear()
    with pytest.raises(ImgganError, match="imggan data fetch --emoji"):
        data.load_image_set("emoji:google:train", 16)
    with pytest.raises(ImgganError, match="unknown packaged source"):
        data.load_image_set("emoji:apple", 16)


def test_shipped_emoji_model_draws_its_classes(tmp_path: Path):
    from click.testing import CliRunner

    from imggan.cli import cli
    from imggan_generate.api import generate, load_generator

    model = load_generator("emoji", "cpu")
    assert model.resolution == 32 and model.num_classes == 9 and model.class_names[-1] == "Flags"

    def yellowness(label: str) -> float:  # min(R, G) - B in the middle of 20 samples
        centre = generate(model, 20, label=label, seed=0)[:, 8:24, 8:24].reshape(-1, 3).astype(float).mean(axis=0)
        return float(min(centre[0], centre[1]) - centre[2])

    assert yellowness("Smileys & Emotion") > 60  # yellow faces
    assert yellowness("Flags") < 40 and yellowness("Travel & Places") < 40
    result = CliRunner().invoke(
        cli, ["generate", "--model", "emoji", "--label", "8", "--grid", "-n", "10", "-o", str(tmp_path) + "/"]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "grid-8.png").stat().st_size > 0
