"""Training through the core trainer: a tiny conditional model learns its classes; bad data is refused."""

from pathlib import Path

import numpy as np
import pytest

from imggan.errors import ImgganError
from imggan_generate.recipes import complete_config, generate_recipe


def test_tiny_conditional_model_learns_the_labels(tmp_path: Path):
    """The article's MLP, conditioned on the class, on 8x8 digits: 250 steps put the label on the samples."""
    from imggan.metrics.generation import label_accuracy, train_classifier
    from imggan.train.trainer import train
    from imggan_generate.api import generate, load_generator
    from imggan_generate.data import load_image_set

    config = {
        "data": "sklearn:digits",
        "resolution": 8,
        "conditional": True,
        "steps": 250,
        "batch_size": 64,
        "lr_g": 1e-3,
        "lr_d": 2e-3,
        "sample_every": 0,
        "ckpt_every": 0,
        "progress": False,
        "tensorboard": False,
        "threads": 1,
        "eval_count": 0,
    }
    stats = train(generate_recipe(), config, tmp_path / "run")
    model = load_generator(stats["export"])
    assert model.num_classes == 10 and model.card["arch"]["arch"] == "mlp"
    real = load_image_set("sklearn:digits", 8)
    clf = train_classifier(real.images, real.labels, steps=200, size=8)
    samples = np.concatenate([generate(model, 20, label=k, seed=100 * k) for k in range(10)])
    accuracy = label_accuracy(clf, samples, np.repeat(np.arange(10), 20))["mean"]
    print(f"label accuracy {accuracy:.3f}, train {stats['seconds']:.1f}s")
    assert accuracy > 0.3, accuracy  # chance is 0.1


def _png(path: Path, value: int) -> None:
    import cv2

    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.full((12, 12, 3), value, np.uint8))


def test_empty_class_folder_is_a_clear_error(tmp_path: Path):
    _png(tmp_path / "data" / "cats" / "a.png", 10)
    (tmp_path / "data" / "dogs").mkdir()
    config = {**generate_recipe().defaults, "data": str(tmp_path / "data"), "resolution": 16, "conditional": True}
    with pytest.raises(ImgganError, match="class folder 'dogs' has no images"):
        complete_config(config)


def test_conditional_needs_class_folders(tmp_path: Path):
    _png(tmp_path / "flat" / "a.png", 10)
    config = {**generate_recipe().defaults, "data": str(tmp_path / "flat"), "resolution": 16, "conditional": True}
    with pytest.raises(ImgganError, match="sub-folder per class"):
        complete_config(config)


def test_class_folders_give_channels_and_classes(tmp_path: Path):
    for name, value in (("a", 30), ("b", 200)):
        _png(tmp_path / "d" / name / "x.png", value)
    config = complete_config(
        {
            **generate_recipe().defaults,
            "data": str(tmp_path / "d"),
            "resolution": 16,
            "conditional": True,
            "augment_flag": True,
        }
    )
    assert (config["channels"], config["num_classes"], config["class_names"]) == (3, 2, ["a", "b"])
    assert config["augment"] == ["color", "translation", "cutout"]


def test_cli_empty_class_folder_exits_2(tmp_path: Path):
    from click.testing import CliRunner

    from imggan.cli import cli

    _png(tmp_path / "data" / "cats" / "a.png", 10)
    (tmp_path / "data" / "dogs").mkdir()
    result = CliRunner().invoke(
        cli,
        [
            "train",
            "generate",
            "--data",
            str(tmp_path / "data"),
            "--out",
            str(tmp_path / "run"),
            "--conditional",
            "--resolution",
            "16",
            "--quiet",
        ],
    )
    assert result.exit_code == 2
    assert "class folder 'dogs' has no images" in result.output


def test_validation_split_of_the_packaged_sets():
    from imggan_generate.recipes import _validation_set

    assert _validation_set({"data": "skimage:lfw", "resolution": 16}) is None  # the faces have no val split
    assert len(_validation_set({"data": "sklearn:digits", "resolution": 8}).images) == 179
    assert _validation_set({"data": "/some/folder", "resolution": 8}) is None


def test_lfw_faces_leaves_out_the_non_face_patches():
    from imggan_generate.data import load_image_set

    faces = load_image_set("skimage:lfw-faces:all", 8).images
    everything = load_image_set("skimage:lfw:all", 8).images
    assert len(faces) == 100 and len(everything) == 200
    assert np.array_equal(faces, everything[:100])
    with pytest.raises(ImgganError, match="unknown split"):
        load_image_set("skimage:lfw-faces:dev", 8)
    non_faces = {s: load_image_set(f"skimage:lfw-nonfaces:{s}", 8).images for s in ("train", "test", "all")}
    assert (len(non_faces["train"]), len(non_faces["test"])) == (80, 20)
    assert np.array_equal(non_faces["all"], everything[100:])


def test_lfw_faces_val_split_is_carved_out_of_train_and_keeps_the_test_faces():
    from imggan_generate.data import _faces_val_split, _split_index, load_image_set

    parts = {s: load_image_set(f"skimage:lfw-faces:{s}", 8).images for s in ("train", "val", "test", "all")}
    assert [len(parts[s]) for s in ("train", "val", "test")] == [70, 10, 20]
    old_train = _split_index(100, "train", (0.0, 0.2), None)
    train, val = _faces_val_split(old_train, "train"), _faces_val_split(old_train, "val")
    assert sorted([*train, *val]) == sorted(old_train) and not set(train) & set(val)
    assert np.array_equal(parts["test"], parts["all"][_split_index(100, "test", (0.0, 0.2), None)])
    assert np.array_equal(parts["val"], parts["all"][val])
    trainval = load_image_set("skimage:lfw-faces:trainval", 8).images  # the 80 non-test faces
    assert np.array_equal(trainval, parts["all"][np.concatenate([train, val])])


def test_export_a_checkpoint_and_ship_it_with_the_core_writer(tmp_path: Path):
    """Train, export a chosen checkpoint to RUN/export/, ship it with ``python -m imggan.cards`` and load it."""
    from imggan.cards import main as ship
    from imggan.train.api import export_run
    from imggan.train.trainer import train
    from imggan.weights import read_card
    from imggan_generate.api import generate, load_generator
    from imggan_generate.zoo import shipped_models

    config = {"data": "sklearn:digits", "resolution": 8, "conditional": True, "steps": 20, "batch_size": 8,
              "sample_every": 0, "ckpt_every": 10, "log_every": 5, "progress": False, "tensorboard": False,
              "threads": 1, "eval_count": 0}  # fmt: skip
    run = tmp_path / "run"
    train(generate_recipe(), config, run)
    exported = export_run(generate_recipe(), run, "10")
    assert exported == run / "export" / "generate.safetensors"
    card = read_card(exported)
    assert card["arch"]["name"] == "generate" and card["class_names"] == [str(i) for i in range(10)]
    assert card["sources"] == ["sklearn:digits"] and "data" not in card["config"]
    weights = tmp_path / "weights"
    ship([str(exported), str(weights), "--name", "tiny", "--file", "tiny", "--default", "--description", "tiny",
          "--command", "imggan train generate --data sklearn:digits", "--run", str(run), "--until", "10",
          "--field", "licences=BSD-3-Clause"])  # fmt: skip
    (entry,) = shipped_models(weights)
    assert (entry.name, entry.task, entry.default, entry.path.name) == ("tiny", "generate", True, "tiny.safetensors")
    assert entry.card["training"]["steps_total"] == 10 and entry.card["licences"] == "BSD-3-Clause"
    shipped, from_run = load_generator(entry.path), load_generator(run)
    assert np.array_equal(generate(shipped, 4, seed=1), generate(from_run, 4, seed=1))
