"""No silent data loss in batch: colliding outputs, multi-frame files, bad symlinks, bad -m / -o and the
temporary files a killed run leaves behind."""

from __future__ import annotations

import os

import cv2
import numpy as np
import pytest

LOUD_LOAD = """
    import numpy as np

    import imggan
    from imggan.task import SideInput, Task


    def load(ctx):
        raise SystemExit("the model was loaded before the usage error")


    @imggan.hookimpl
    def register_tasks(register):
        register(Task("fx-loud", "Refuses to load (fixture).", load=load, process=lambda m, items, ctx: [],
                      side_inputs=(SideInput("mask", "A mask.", short="-m"),)))
"""


@pytest.mark.parametrize("same_folder", [False, True], ids=["format-png", "output-is-the-input-folder"])
def test_colliding_outputs_are_a_usage_error_naming_them_before_any_work(
    invoke, make_image, files_under, tmp_path, same_folder
):
    make_image(tmp_path / "in" / "a.png")
    make_image(tmp_path / "in" / "a.jpg")
    make_image(tmp_path / "in" / "b.png")
    before = files_under(tmp_path)
    out = tmp_path / "in" if same_folder else tmp_path / "out"
    result = invoke("run", tmp_path / "in", "--steps", "gamma:1.2", "--format", "png", "-o", out)
    assert result.exit_code == 2
    assert "outputs would collide" in result.stderr
    assert f"{tmp_path / 'in' / 'a.jpg'} and {tmp_path / 'in' / 'a.png'}" in result.stderr
    assert files_under(tmp_path) == before  # nothing written


def test_distinct_formats_kept_do_not_collide(invoke, make_image, tmp_path):
    make_image(tmp_path / "in" / "a.png")
    make_image(tmp_path / "in" / "a.jpg")
    result = invoke("run", tmp_path / "in", "--steps", "gamma:1.2", "-o", tmp_path / "in", "-q")
    assert result.exit_code == 0
    assert sorted(p.name for p in (tmp_path / "in").iterdir()) == ["a.jpg", "a.png", "a_run.jpg", "a_run.png"]


def test_multi_page_tiff_and_animated_gif_are_processed_frame_by_frame(invoke, tmp_path):
    """Every page/frame goes through the task and comes back in one file of the same format; a still GIF in a
    folder is processed (not skipped); a multi-frame file that --format cannot store is refused, named."""
    folder = tmp_path / "in"
    folder.mkdir()
    frames = [np.full((16, 20, 3), 40 * (i + 1), np.uint8) for i in range(3)]
    cv2.imencodemulti(".tif", frames)[1].tofile(str(folder / "pages.tif"))
    cv2.imencodemulti(".gif", frames)[1].tofile(str(folder / "anim.gif"))
    cv2.imencode(".gif", frames[2])[1].tofile(str(folder / "still.gif"))
    cv2.imwrite(str(folder / "plain.png"), frames[1])
    result = invoke("run", folder, "--steps", "gamma:2", "-o", tmp_path / "out")
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["anim.gif", "pages.tif", "plain.png", "still.gif"]
    expected = [np.rint(((f / 255.0) ** 0.5) * 255).astype(np.uint8) for f in frames]
    ok, pages = cv2.imdecodemulti(np.fromfile(str(tmp_path / "out" / "pages.tif"), np.uint8), cv2.IMREAD_UNCHANGED)
    assert ok and len(pages) == 3 and all(np.array_equal(p, e) for p, e in zip(pages, expected, strict=True))
    ok, gif = cv2.imdecodemulti(np.fromfile(str(tmp_path / "out" / "anim.gif"), np.uint8), cv2.IMREAD_UNCHANGED)
    assert ok and len(gif) == 3
    means = [float(g[..., :3].mean()) for g in gif]  # GIF is palette-quantised: each frame brightened, in order
    assert means == sorted(means) and all(m > 40 * (i + 1) + 30 for i, m in enumerate(means))
    as_png = invoke("run", folder / "pages.tif", "--steps", "gamma:2", "--format", "png", "-o", tmp_path / "png")
    assert as_png.exit_code == 1
    assert "pages.tif: 3 frames (pages) cannot be written as .png: keep its format" in as_png.stderr


def test_animated_png_is_refused_with_a_reason(invoke, tmp_path):
    """OpenCV reads an APNG's first frame only: the file is refused, named, rather than silently cut."""
    ok, png = cv2.imencode(".png", np.zeros((4, 4, 3), np.uint8))
    data = png.tobytes()
    actl = b"\x00\x00\x00\x08acTL" + (2).to_bytes(4, "big") + (0).to_bytes(4, "big") + b"\x00\x00\x00\x00"
    (tmp_path / "anim.png").write_bytes(data[:33] + actl + data[33:])  # acTL right after IHDR
    result = invoke("run", tmp_path / "anim.png", "--steps", "gamma:2", "-o", tmp_path / "out")
    assert result.exit_code == 1 and "anim.png: an animated PNG (2 frames)" in result.stderr


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_bad_symlinks_are_named_and_exit_1(invoke, make_image, tmp_path):
    make_image(tmp_path / "in" / "good.png")
    os.symlink(tmp_path / "gone.png", tmp_path / "in" / "dangling.png")
    os.symlink(tmp_path / "in" / "loop-b.png", tmp_path / "in" / "loop-a.png")
    os.symlink(tmp_path / "in" / "loop-a.png", tmp_path / "in" / "loop-b.png")
    for args in ([tmp_path / "in"], [tmp_path / "in" / "dangling.png", tmp_path / "in" / "loop-a.png"]):
        result = invoke("run", *args, "--steps", "gamma:1.0", "-o", tmp_path / "out", "--overwrite")
        assert result.exit_code == 1
        assert f"{tmp_path / 'in' / 'dangling.png'}: a broken symbolic link" in result.stderr
        assert f"{tmp_path / 'in' / 'loop-a.png'}: a symbolic link loop" in result.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["good.png"]


def test_nonexistent_side_input_and_non_image_output_are_usage_errors_before_loading(
    install_plugins, invoke, make_image, tmp_path
):
    install_plugins(fx_loud=LOUD_LOAD)
    make_image(tmp_path / "a.png")
    (tmp_path / "notes.txt").write_text("keep me\n")
    missing = invoke("fx-loud", tmp_path / "a.png", "-m", tmp_path / "nowhere.png", "-o", tmp_path / "out")
    assert missing.exit_code == 2
    assert f"-m/--mask {tmp_path / 'nowhere.png'}: no such file or folder" in missing.stderr
    text = invoke("fx-loud", tmp_path / "a.png", "-o", tmp_path / "notes.txt")
    assert text.exit_code == 2
    assert f"-o {tmp_path / 'notes.txt'}: an existing file that is not an image" in text.stderr
    assert (tmp_path / "notes.txt").read_text() == "keep me\n"


def test_stale_temporaries_of_a_killed_run_are_removed(invoke, make_image, files_under, tmp_path):
    make_image(tmp_path / "in" / "a.png")
    make_image(tmp_path / "in" / "b.png")
    out = tmp_path / "out"
    out.mkdir()
    (out / ".a.png.k3j2_x.tmp").write_bytes(b"half an image")  # what a SIGKILL mid-write leaves
    (out / ".b.png.zz.tmp").write_bytes(b"half")
    (out / ".unrelated.tmp").write_bytes(b"not ours")
    make_image(out / "b.png")  # b was finished before the kill: skipped, its temporary still removed
    result = invoke("run", tmp_path / "in", "--steps", "gamma:1.0", "-o", out, "-q")
    assert result.exit_code == 0
    assert files_under(out) == [".unrelated.tmp", "a.png", "b.png"]


def test_collisions_across_shards_are_found_by_every_shard(invoke, make_image, tmp_path):
    make_image(tmp_path / "in" / "a.png")
    make_image(tmp_path / "in" / "a.jpg")
    from imggan.inputs import shard_of

    assert shard_of("a.png", 2) != shard_of("a.jpg", 2)  # the two land in different shards
    for index in (0, 1):
        args = ("--steps", "gamma:1.0", "--format", "png", "--shard", f"{index}/2", "-o", tmp_path / "out")
        result = invoke("run", tmp_path / "in", *args)
        assert result.exit_code == 2 and "outputs would collide" in result.stderr
