"""The batch runner and the in-memory pipeline: mirroring, side inputs, resume, shards, safety, batching."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

import imggan.weights
from imggan.errors import ImgganError
from imggan.io import binarize_mask, read_image
from imggan.pipeline import join_image, match_dtype, process_image, run_task, split_image
from imggan.task import Item, RunContext, SideInput, Task

BLUR = "gaussian-blur:sigma=1"


def is_temporary(name: str) -> bool:
    """True for the runner's in-flight files (``.<name>.<random>.tmp``)."""
    return name.startswith(".") or name.endswith(".tmp")


class Recorder:
    """A tiny task whose model inverts images and remembers every batch it saw (thread-safe)."""

    def __init__(self, name: str = "fx-invert", side_inputs=(), crash_after: int | None = None, crash=None):
        self.batches: list[list[str]] = []
        self.crash_after = crash_after
        self.crash = crash or KeyboardInterrupt
        self.lock = threading.Lock()
        self.task = Task(name=name, help="Invert.", load=self.load, process=self.process, side_inputs=side_inputs)

    def load(self, ctx: RunContext) -> str:
        return "model"

    def process(self, model: str, items: list[Item], ctx: RunContext) -> list[np.ndarray]:
        with self.lock:
            if self.crash_after is not None and len(self.seen) >= self.crash_after:
                raise self.crash()
            self.batches.append([item.relative.as_posix() for item in items])
        return [np.iinfo(item.image.dtype).max - item.image for item in items]

    @property
    def seen(self) -> list[str]:
        return [name for batch in self.batches for name in batch]


@pytest.fixture
def photos(tmp_path, make_image):
    """photos/ with six 16x20 images at three levels."""
    names = ["a.png", "b.jpg", "c.png", "sub/d.png", "sub/e.png", "sub/deep/f.png"]
    for name in names:
        make_image(tmp_path / "photos" / name, size=(16, 20))
    return tmp_path / "photos", names


# ------------------------------------------------------------------------------------------ output tree


def test_recursive_run_mirrors_the_tree(photos, tmp_path, files_under):
    """With recursive=True every image is processed into the same relative path under the output folder."""
    root, names = photos
    report = run_task(Recorder().task, [root], tmp_path / "out", recursive=True, device="cpu")
    assert report.exit_code == 0 and report.failed == []
    assert files_under(tmp_path / "out") == sorted(names)
    source, _ = read_image(root / "sub" / "deep" / "f.png")
    result, _ = read_image(tmp_path / "out" / "sub" / "deep" / "f.png")
    assert (result == 255 - source).all()


def test_cli_recursive_mirrors_the_tree(photos, tmp_path, invoke, files_under):
    """`imggan run DIR -r -o OUT --format png` mirrors every subfolder and switches the format."""
    root, names = photos
    result = invoke("run", root, "--steps", BLUR, "-o", tmp_path / "out", "-r", "--format", "png", "--device", "cpu")
    assert result.exit_code == 0, result.output
    assert files_under(tmp_path / "out") == sorted(str(Path(n).with_suffix(".png").as_posix()) for n in names)
    assert "6 done" in result.stderr


def test_non_recursive_run_takes_the_top_level_only(photos, tmp_path, files_under):
    """Without recursive only the folder's own images are processed."""
    root, _ = photos
    run_task(Recorder().task, [root], tmp_path / "out")
    assert files_under(tmp_path / "out") == ["a.png", "b.jpg", "c.png"]


# ------------------------------------------------------------------------------------------ side inputs


class MaskTask:
    """A fixture task with a mask side input: the model blacks out the mask's holes."""

    def __init__(self) -> None:
        self.paired: dict[str, str | None] = {}
        self.shapes: dict[str, tuple] = {}
        self.task = Task(
            name="fx-mask",
            help="Black out masked pixels.",
            load=lambda ctx: None,
            process=self.process,
            side_inputs=(SideInput("mask", "Mask image or folder.", sidecar_suffixes=("_mask", ".mask")),),
        )

    def process(self, model, items, ctx):
        results = []
        for item in items:
            mask = item.sides["mask"]
            path = item.extra.get("mask_path")
            self.paired[item.relative.as_posix()] = None if path is None else Path(path).name
            if mask is None:
                results.append(item.image)
                continue
            self.shapes[item.relative.as_posix()] = mask.shape
            holes = binarize_mask(mask, (item.image.shape[1], item.image.shape[0])) > 0
            out = item.image.copy()
            out[holes] = 0
            results.append(out)
        return results


def mask_of(kind: str, size=(16, 20)) -> np.ndarray:
    """Distinct masks so a wrong pairing shows: left half, top half, or nothing."""
    mask = np.zeros(size, np.uint8)
    if kind == "left":
        mask[:, : size[1] // 2] = 255
    elif kind == "top":
        mask[: size[0] // 2] = 255
    return mask


def holes_of(path: Path) -> np.ndarray:
    image, _ = read_image(path)
    return (image == 0).all(axis=2)


def test_sidecar_masks_pair_by_stem_and_are_not_inputs(tmp_path, make_image, files_under):
    """cat_mask.png pairs with cat.png and dog.mask.png with dog.jpg; the masks themselves are not processed."""
    make_image(tmp_path / "in" / "cat.png", size=(16, 20))
    make_image(tmp_path / "in" / "dog.png", size=(16, 20))
    make_image(tmp_path / "in" / "owl.png", size=(16, 20))
    cv2.imwrite(str(tmp_path / "in" / "cat_mask.png"), mask_of("left"))
    cv2.imwrite(str(tmp_path / "in" / "dog.mask.png"), mask_of("top"))
    fixture = MaskTask()
    report = run_task(fixture.task, [tmp_path / "in"], tmp_path / "out")
    assert report.exit_code == 0
    assert files_under(tmp_path / "out") == ["cat.png", "dog.png", "owl.png"]
    assert fixture.paired == {"cat.png": "cat_mask.png", "dog.png": "dog.mask.png", "owl.png": None}
    assert holes_of(tmp_path / "out" / "cat.png")[:, :10].all()
    assert not holes_of(tmp_path / "out" / "cat.png")[:, 10:].all()
    assert holes_of(tmp_path / "out" / "dog.png")[:8].all()


def test_side_input_decoded_as_one_channel(tmp_path, make_image):
    """A SideInput with grayscale=True (the default) reaches the task as an HxW array, even from a colour file."""
    make_image(tmp_path / "in" / "cat.png", size=(16, 20))
    cv2.imwrite(str(tmp_path / "in" / "cat_mask.png"), cv2.cvtColor(mask_of("left"), cv2.COLOR_GRAY2BGR))
    fixture = MaskTask()
    run_task(fixture.task, [tmp_path / "in"], tmp_path / "out")
    assert fixture.shapes == {"cat.png": (16, 20)}


def test_mask_folder_pairs_by_stem_mirroring_subfolders(tmp_path, make_image):
    """--mask FOLDER pairs each input with the mask of the same stem (in the mirrored subfolder first)."""
    for rel in ("cat.png", "dog.jpg", "sub/cat.png"):
        make_image(tmp_path / "in" / rel, size=(16, 20))
    (tmp_path / "masks" / "sub").mkdir(parents=True)
    cv2.imwrite(str(tmp_path / "masks" / "cat.png"), mask_of("left"))
    cv2.imwrite(str(tmp_path / "masks" / "dog.png"), mask_of("top"))
    cv2.imwrite(str(tmp_path / "masks" / "sub" / "cat.png"), mask_of("top"))
    fixture = MaskTask()
    report = run_task(
        fixture.task, [tmp_path / "in"], tmp_path / "out", recursive=True, sides={"mask": tmp_path / "masks"}
    )
    assert report.exit_code == 0
    assert set(fixture.paired) == {"cat.png", "dog.jpg", "sub/cat.png"}
    assert holes_of(tmp_path / "out" / "cat.png")[:, :10].all()
    assert holes_of(tmp_path / "out" / "sub" / "cat.png")[:8].all()
    assert not holes_of(tmp_path / "out" / "sub" / "cat.png")[8:].all()


def test_mask_option_through_a_plugin_cli(install_plugins, invoke, tmp_path, make_image, files_under):
    """A plugin task's SideInput becomes a --mask option; a mask folder pairs by stem from the command line."""
    install_plugins(
        fx_masker="""
        import numpy as np
        import imggan
        from imggan.io import binarize_mask
        from imggan.task import SideInput, Task


        def process(model, items, ctx):
            out = []
            for item in items:
                image = item.image.copy()
                image[binarize_mask(item.sides["mask"]) > 0] = 0
                out.append(image)
            return out


        @imggan.hookimpl
        def register_tasks(register):
            register(Task("fx-mask", "Black out the mask.", load=lambda ctx: None, process=process,
                          side_inputs=(SideInput("mask", "Masks.", short="-m", sidecar_suffixes=("_mask",)),)))
        """
    )
    assert "--mask" in invoke("fx-mask", "--help").stdout
    make_image(tmp_path / "in" / "cat.png", size=(16, 20))
    make_image(tmp_path / "in" / "dog.png", size=(16, 20))
    (tmp_path / "masks").mkdir()
    cv2.imwrite(str(tmp_path / "masks" / "cat.png"), mask_of("left"))
    cv2.imwrite(str(tmp_path / "masks" / "dog.png"), mask_of("top"))
    result = invoke("fx-mask", tmp_path / "in", "-m", tmp_path / "masks", "-o", tmp_path / "out", "-q")
    assert result.exit_code == 0, result.output
    assert files_under(tmp_path / "out") == ["cat.png", "dog.png"]
    assert holes_of(tmp_path / "out" / "cat.png")[:, :10].all()
    assert holes_of(tmp_path / "out" / "dog.png")[:8].all()


# ------------------------------------------------------------------------------------------ resume


def test_resume_after_a_crash_processes_only_the_rest(photos, tmp_path, files_under):
    """A run killed after 3 images leaves only whole outputs; the re-run skips them and does the other 3."""
    root, names = photos
    out = tmp_path / "out"
    crashing = Recorder(crash_after=3)
    with pytest.raises(KeyboardInterrupt):
        run_task(crashing.task, [root], out, recursive=True)
    written = files_under(out)
    assert written == sorted(crashing.seen)
    assert len(written) == 3
    assert not [name for name in written if is_temporary(Path(name).name)]
    for name in written:  # every file left behind is a complete, readable image
        assert read_image(out / name)[0].shape[:2] == (16, 20)

    resumed = Recorder()
    report = run_task(resumed.task, [root], out, recursive=True)
    assert sorted(resumed.seen) == sorted(set(names) - set(written))
    assert len(report.skipped) == 3 and len(report.done) == 3
    assert files_under(out) == sorted(names)

    again = Recorder()
    report = run_task(again.task, [root], out, recursive=True)
    assert again.seen == [] and len(report.skipped) == 6
    report = run_task(again.task, [root], out, recursive=True, overwrite=True)
    assert len(again.seen) == 6 and len(report.done) == 6


def test_crash_while_writing_leaves_no_partial_file(photos, tmp_path, monkeypatch, files_under):
    """An interrupt in the middle of writing an output (before the rename) leaves no partial or temporary file."""
    root, _ = photos
    real_fsync = imggan.weights.os.fsync
    calls = []

    def fsync_then_die(fd):
        calls.append(fd)
        if len(calls) == 2:
            raise KeyboardInterrupt
        real_fsync(fd)

    monkeypatch.setattr(imggan.weights.os, "fsync", fsync_then_die)
    with pytest.raises(KeyboardInterrupt):
        run_task(Recorder().task, [root], tmp_path / "out")
    written = files_under(tmp_path / "out")
    assert len(written) < 3
    assert not [name for name in written if is_temporary(name)]
    for name in written:
        assert read_image(tmp_path / "out" / name)[0].shape[:2] == (16, 20)


# ------------------------------------------------------------------------------------------ shards


def test_shards_cover_every_input_exactly_once(tmp_path, make_image, files_under):
    """Running shards 0/3, 1/3 and 2/3 processes each of 20 inputs exactly once between them."""
    names = [f"img_{i:02d}.png" for i in range(16)] + ["sub/x.png", "sub/y.png", "sub/z.png", "sub/w.png"]
    for name in names:
        make_image(tmp_path / "in" / name, size=(8, 8))
    seen: list[str] = []
    for index in range(3):
        recorder = Recorder()
        report = run_task(recorder.task, [tmp_path / "in"], tmp_path / "out", recursive=True, shard=f"{index}/3")
        assert report.exit_code == 0
        assert recorder.seen, f"shard {index}/3 got no input"
        seen.extend(recorder.seen)
    assert sorted(seen) == sorted(names)
    assert len(seen) == len(set(seen))
    assert files_under(tmp_path / "out") == sorted(names)


def test_cli_shards_cover_every_input(tmp_path, make_image, invoke, files_under):
    """`imggan run --shard I/N` for every I writes every output once; the done counts add up."""
    names = [f"p{i}.png" for i in range(9)]
    for name in names:
        make_image(tmp_path / "in" / name, size=(8, 8))
    total = 0
    for index in range(4):
        result = invoke("run", tmp_path / "in", "--steps", BLUR, "-o", tmp_path / "out", "--shard", f"{index}/4")
        assert result.exit_code == 0, result.output
        total += int(re.search(r"imggan run: (\d+) done", result.stderr).group(1))
    assert total == 9
    assert files_under(tmp_path / "out") == sorted(names)


# ------------------------------------------------------------------------------------------ input safety


def test_output_into_the_input_folder_never_overwrites(tmp_path, make_image, files_under):
    """-o pointing at the input folder writes <stem>_<task> files beside the inputs; inputs stay byte-identical."""
    for name in ("a.png", "b.jpg"):
        make_image(tmp_path / "in" / name, size=(16, 20))
    before = {name: (tmp_path / "in" / name).read_bytes() for name in ("a.png", "b.jpg")}
    report = run_task("run", [tmp_path / "in"], tmp_path / "in", steps=BLUR)
    assert report.exit_code == 0
    assert files_under(tmp_path / "in") == ["a.png", "a_run.png", "b.jpg", "b_run.jpg"]
    assert {name: (tmp_path / "in" / name).read_bytes() for name in before} == before
    run_task("run", [tmp_path / "in"], tmp_path / "in", steps=BLUR, overwrite=True)
    assert {name: (tmp_path / "in" / name).read_bytes() for name in before} == before


def test_cli_output_file_equal_to_the_input(tmp_path, make_image, invoke):
    """`imggan run a.png -o a.png` writes a_run.png and leaves a.png untouched."""
    make_image(tmp_path / "a.png")
    before = (tmp_path / "a.png").read_bytes()
    result = invoke("run", tmp_path / "a.png", "--steps", BLUR, "-o", tmp_path / "a.png", "-q")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "a.png").read_bytes() == before
    assert (tmp_path / "a_run.png").is_file()


def test_single_output_file_name(tmp_path, make_image):
    """One input with `-o result.jpg` writes that exact file, converting the format."""
    make_image(tmp_path / "a.png")
    report = run_task("run", [tmp_path / "a.png"], tmp_path / "res" / "result.jpg", steps=BLUR)
    assert report.done == [tmp_path / "res" / "result.jpg"]
    assert read_image(tmp_path / "res" / "result.jpg")[1].format == ".jpg"


def test_output_file_name_with_several_inputs_is_a_usage_error(photos, tmp_path):
    """Several inputs cannot go to one file name."""
    root, _ = photos
    with pytest.raises(ImgganError, match="need an output folder"):
        run_task("run", [root], tmp_path / "one.png", steps=BLUR)


def test_unknown_task_name(tmp_path):
    """run_task with an unknown task name lists the installed ones."""
    with pytest.raises(ImgganError, match="unknown task 'nope'.*run"):
        run_task("nope", [tmp_path], tmp_path / "out")


# ------------------------------------------------------------------------------------------ failures and batching


def test_failed_items_are_reported_and_the_rest_done(tmp_path, make_image):
    """A task failing on one image (prepare or model) reports it with its reason; the others are written."""
    for name in ("a.png", "bad.png", "c.png", "worse.png"):
        make_image(tmp_path / "in" / name, size=(8, 8))

    def prepare(item, ctx):
        if item.source.name == "bad.png":
            raise ValueError("prepare refused bad.png")
        return item

    def process(model, items, ctx):
        if any(item.source.name == "worse.png" for item in items):
            raise ImgganError("model refused worse.png")
        return [item.image for item in items]

    task = Task("fx-picky", "Picky.", load=lambda ctx: None, process=process, prepare=prepare)
    errors: list[tuple[Path, str]] = []
    report = run_task(
        task, [tmp_path / "in"], tmp_path / "out", batch_size=4, report_error=lambda p, r: errors.append((p, r))
    )
    assert report.exit_code == 1
    assert sorted(p.name for p in report.done) == ["a.png", "c.png"]
    reasons = {path.name: reason for path, reason in errors}
    assert reasons == {"bad.png": "ValueError: prepare refused bad.png", "worse.png": "model refused worse.png"}
    assert report.failed == errors


def test_same_size_images_are_batched(tmp_path, make_image):
    """batch_size groups same-size images (never mixing sizes) and every image is processed once."""
    for i in range(6):
        make_image(tmp_path / "in" / f"big{i}.png", size=(12, 12))
    for i in range(3):
        make_image(tmp_path / "in" / f"small{i}.png", size=(6, 10))
    batches: list[list[tuple]] = []

    def process(model, items, ctx):
        batches.append([item.image.shape for item in items])
        return [item.image for item in items]

    task = Task("fx-batch", "Batch.", load=lambda ctx: None, process=process)
    report = run_task(task, [tmp_path / "in"], tmp_path / "out", batch_size=4)
    assert len(report.done) == 9
    assert all(len(set(batch)) == 1 for batch in batches)
    assert sum(len(batch) for batch in batches) == 9
    assert max(len(batch) for batch in batches) == 4


def test_batch_sizes_respect_the_limit(tmp_path, make_image):
    """With batch_size=4, six same-size images arrive in batches of at most 4, at least one of them full."""
    for i in range(6):
        make_image(tmp_path / "in" / f"im{i}.png", size=(12, 12))
    recorder = Recorder()
    run_task(recorder.task, [tmp_path / "in"], tmp_path / "out", batch_size=4)
    sizes = [len(batch) for batch in recorder.batches]
    assert sum(sizes) == 6 and max(sizes) == 4


def test_one_bad_item_does_not_sink_its_batch(tmp_path, make_image):
    """When a batch fails, its items are retried one by one so only the bad one fails."""
    for i in range(4):
        make_image(tmp_path / "in" / f"im{i}.png", size=(12, 12))

    def process(model, items, ctx):
        if any(item.source.name == "im2.png" for item in items):
            raise RuntimeError("im2 poisons the batch")
        return [item.image for item in items]

    task = Task("fx-poison", "Poison.", load=lambda ctx: None, process=process)
    report = run_task(task, [tmp_path / "in"], tmp_path / "out", batch_size=4)
    assert sorted(p.name for p in report.done) == ["im0.png", "im1.png", "im3.png"]
    assert [(p.name, r) for p, r in report.failed] == [("im2.png", "RuntimeError: im2 poisons the batch")]


def test_task_returning_the_wrong_number_of_results_fails_cleanly(tmp_path, make_image):
    """A model returning fewer results than inputs is an error per item, not a silent mismatch."""
    make_image(tmp_path / "in" / "a.png")
    task = Task("fx-short", "Short.", load=lambda ctx: None, process=lambda m, items, ctx: [])
    report = run_task(task, [tmp_path / "in"], tmp_path / "out")
    assert report.exit_code == 1
    assert "returned 0 results for 1 inputs" in report.failed[0][1]


def test_finish_stage_and_missing_result(tmp_path, make_image):
    """A task's finish stage shapes the saved image; a finish returning None is reported as no result."""
    make_image(tmp_path / "in" / "a.png", size=(8, 8))
    make_image(tmp_path / "in" / "b.png", size=(8, 8))

    def finish(item, ctx):
        return None if item.source.name == "b.png" else np.full_like(item.result, 9)

    task = Task(
        "fx-finish",
        "Finish.",
        load=lambda ctx: None,
        process=lambda m, items, ctx: [i.image for i in items],
        finish=finish,
    )
    report = run_task(task, [tmp_path / "in"], tmp_path / "out")
    assert (read_image(tmp_path / "out" / "a.png")[0] == 9).all()
    assert [(p.name, r) for p, r in report.failed] == [("b.png", "task 'fx-finish' produced no result")]


def test_nothing_to_do_does_not_load_the_model(tmp_path, make_image):
    """When every output exists the model is never loaded (a resumed finished run costs nothing)."""
    make_image(tmp_path / "in" / "a.png")
    make_image(tmp_path / "out" / "a.png")

    def load(ctx):
        raise AssertionError("model loaded for nothing")

    task = Task("fx-lazy", "Lazy.", load=load, process=lambda m, items, ctx: [])
    report = run_task(task, [tmp_path / "in"], tmp_path / "out")
    assert report.skipped == [tmp_path / "out" / "a.png"] and report.exit_code == 0


# ------------------------------------------------------------------------------------------ kinds of image


@pytest.mark.parametrize(
    "channels,dtype,suffix",
    [
        (1, np.uint8, ".png"),
        (4, np.uint8, ".png"),
        (3, np.uint16, ".png"),
        (4, np.uint16, ".tif"),
        (1, np.uint16, ".png"),
    ],
)
def test_batch_keeps_gray_alpha_and_depth(tmp_path, make_image, channels, dtype, suffix):
    """Gray stays one channel, alpha is re-attached untouched, 16-bit stays 16-bit through the batch runner."""
    source = make_image(tmp_path / "in" / f"x{suffix}", size=(10, 14), channels=channels, dtype=dtype)
    report = run_task(Recorder().task, [tmp_path / "in"], tmp_path / "out")
    assert report.exit_code == 0, report.failed
    result, info = read_image(tmp_path / "out" / f"x{suffix}")
    assert result.shape == source.shape and result.dtype == source.dtype
    peak = np.iinfo(dtype).max
    if channels == 4:
        assert (result[..., 3] == source[..., 3]).all()
        assert (result[..., :3] == peak - source[..., :3]).all()
    else:
        assert (result == peak - source).all()


def test_alpha_follows_a_resize(tmp_path, make_image):
    """When a task changes the size, the alpha channel is resized with the image."""
    make_image(tmp_path / "in" / "x.png", size=(10, 14), channels=4)
    run_task("run", [tmp_path / "in"], tmp_path / "out", steps="resize:2")
    result, _ = read_image(tmp_path / "out" / "x.png")
    assert result.shape == (20, 28, 4)


@pytest.mark.parametrize(
    "shape,dtype", [((12, 16), np.uint8), ((12, 16, 4), np.uint8), ((12, 16, 3), np.uint16), ((12, 16), np.uint16)]
)
def test_process_image_keeps_gray_alpha_and_depth(shape, dtype):
    """process_image returns the same layout and dtype it was given; alpha passes through unchanged."""
    rng = np.random.default_rng(5)
    image = rng.integers(0, np.iinfo(dtype).max + 1, shape, dtype=np.int64).astype(dtype)
    out = process_image("run", image, steps=BLUR, device="cpu")
    assert out.shape == image.shape and out.dtype == image.dtype
    if len(shape) == 3 and shape[2] == 4:
        assert (out[..., 3] == image[..., 3]).all()
        expected = cv2.GaussianBlur(image[..., :3], (0, 0), 1.0)
        assert (out[..., :3] == expected).all()
    if dtype == np.uint16:
        assert out.max() > 255


def test_process_image_with_a_task_object_and_sides():
    """process_image accepts a Task and passes side arrays by name."""
    fixture = MaskTask()
    image = np.full((16, 20, 3), 200, np.uint8)
    out = process_image(fixture.task, image, sides={"mask": mask_of("left")}, device="cpu")
    assert (out[:, :10] == 0).all() and (out[:, 10:] == 200).all()


def test_split_and_join_are_inverse():
    """split_image/join_image round-trip gray, BGR, BGRA and one-channel 3-D arrays."""
    rng = np.random.default_rng(6)
    for shape in ((5, 6), (5, 6, 3), (5, 6, 4), (5, 6, 1)):
        image = rng.integers(0, 256, shape, dtype=np.uint8)
        bgr, alpha = split_image(image)
        assert bgr.shape == (5, 6, 3)
        channels = 1 if image.ndim == 2 or image.shape[2] == 1 else image.shape[2]
        back = join_image(bgr, alpha, channels, "uint8")
        assert (back == image.reshape(back.shape)).all()


def test_match_dtype_scales():
    """8 <-> 16 bit conversion scales by 257 and floats map [0, 1] to the full range."""
    assert match_dtype(np.array([0, 1, 255], np.uint8), np.uint16).tolist() == [0, 257, 65535]
    assert match_dtype(np.array([0, 257, 65535], np.uint16), np.uint8).tolist() == [0, 1, 255]
    assert match_dtype(np.array([0.0, 0.5, 2.0]), np.uint8).tolist() == [0, 128, 255]


def test_rerun_never_feeds_on_own_outputs(make_image, tmp_path):
    """Outputs nested in the input folder (-o in/out -r) or beside inputs (-o in) are not inputs on a re-run."""
    from imggan.pipeline import run_task

    make_image(tmp_path / "in" / "a.png")
    make_image(tmp_path / "in" / "sub" / "b.png")
    for _ in range(2):
        report = run_task("run", [tmp_path / "in"], tmp_path / "in" / "out", recursive=True, overwrite=True,
                          steps="clahe")  # fmt: skip
        assert sorted(p.name for p in report.done) == ["a.png", "b.png"]
    for _ in range(2):
        report = run_task("run", [tmp_path / "in"], tmp_path / "in", overwrite=True, steps="clahe")
        assert [p.name for p in report.done] == ["a_run.png"]
        assert report.exit_code == 0


def test_model_is_checked_before_anything_is_skipped(tmp_path, make_image):
    """A task's check_model runs even when every output exists; a bad --model is then a usage error."""
    from imggan.errors import ModelNotFoundError

    make_image(tmp_path / "in" / "a.png")
    make_image(tmp_path / "out" / "a.png")

    def check(ctx):
        raise ModelNotFoundError(f"{ctx.model}: not a model")

    task = Task("fx-checked", "Checked.", load=lambda ctx: None, process=lambda m, i, c: [], check_model=check)
    with pytest.raises(ModelNotFoundError, match="bad.safetensors: not a model"):
        run_task(task, [tmp_path / "in"], tmp_path / "out", model="bad.safetensors")
