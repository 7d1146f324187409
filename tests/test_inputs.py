"""Input expansion (files, folders, globs), sidecar detection, output planning, shards, side-file pairing."""

from __future__ import annotations

from pathlib import Path

import pytest

from imggan.errors import ImgganError
from imggan.inputs import Job, expand_inputs, find_side_file, parse_shard, plan_outputs, shard_of
from imggan.task import SideInput

MASK = SideInput("mask", "Mask.", sidecar_suffixes=("_mask", ".mask"))


@pytest.fixture
def tree(tmp_path, make_image):
    """photos/{a.png, b.jpg, notes.txt, sub/c.png, sub/deeper/d.png}."""
    root = tmp_path / "photos"
    for rel in ("a.png", "b.jpg", "sub/c.png", "sub/deeper/d.png"):
        make_image(root / rel, size=(8, 8))
    (root / "notes.txt").write_text("not an image")
    return root


def rels(pairs):
    return [rel.as_posix() for _, rel in pairs]


def test_folder_lists_images_only(tree):
    """A folder contributes its image files (not text files, not subfolders without --recursive)."""
    assert rels(expand_inputs([str(tree)])) == ["a.png", "b.jpg"]


def test_recursive_folder_keeps_relative_paths(tree):
    """--recursive walks every level and keeps each file's path relative to the folder."""
    pairs = expand_inputs([str(tree)], recursive=True)
    assert rels(pairs) == ["a.png", "b.jpg", "sub/c.png", "sub/deeper/d.png"]
    assert all(source.is_absolute() and source.is_file() for source, _ in pairs)


def test_files_and_globs_are_relative_to_their_folder(tree):
    """A file or a glob match is relative to its own folder; duplicates across arguments appear once."""
    pairs = expand_inputs([str(tree / "sub" / "c.png"), str(tree / "*.png"), str(tree / "a.png")])
    assert rels(pairs) == ["a.png", "c.png"]


def test_recursive_glob(tree):
    """A ** glob with --recursive reaches every level."""
    assert sorted(rels(expand_inputs([str(tree / "**" / "*.png")], recursive=True))) == ["a.png", "c.png", "d.png"]


def test_missing_input_is_a_usage_error(tmp_path):
    """A path or glob that matches nothing raises ImgganError naming it."""
    with pytest.raises(ImgganError, match="no such file, folder or glob match: .*nothing"):
        expand_inputs([str(tmp_path / "nothing*.png")])


def test_sidecars_are_not_inputs(tmp_path, make_image):
    """cat_mask.png and dog.mask.png beside cat.png/dog.jpg are side files, not inputs; lone_mask.png is an input."""
    for name in ("cat.png", "cat_mask.png", "dog.jpg", "dog.mask.png", "lone_mask.png"):
        make_image(tmp_path / name, size=(8, 8))
    assert rels(expand_inputs([str(tmp_path)], side_inputs=[MASK])) == ["cat.png", "dog.jpg", "lone_mask.png"]
    assert len(expand_inputs([str(tmp_path)])) == 5  # a task without side inputs takes every image
    assert rels(expand_inputs([str(tmp_path / "*.png")], side_inputs=[MASK])) == ["cat.png", "lone_mask.png"]


@pytest.mark.parametrize("spec,expected", [(None, None), ("", None), ("0/1", (0, 1)), ("3/4", (3, 4))])
def test_parse_shard(spec, expected):
    """I/N parses to (I, N); empty means no sharding."""
    assert parse_shard(spec) == expected


@pytest.mark.parametrize("spec", ["4/4", "-1/4", "1/0", "a/b", "1", "1/2/3"])
def test_parse_shard_rejects_bad_specs(spec):
    """Out-of-range or malformed shards are usage errors."""
    with pytest.raises(ImgganError, match="--shard"):
        parse_shard(spec)


def test_shard_of_is_stable_and_covers_every_shard():
    """shard_of depends only on the relative path (same answer on every machine) and spreads files out."""
    names = [f"img_{i:03d}.png" for i in range(200)]
    shards = [shard_of(name, 4) for name in names]
    assert shards == [shard_of(Path(name), 4) for name in names]
    assert set(shards) == {0, 1, 2, 3}
    assert min(shards.count(k) for k in range(4)) > 25
    assert shard_of("sub/a.png", 7) == shard_of(Path("sub") / "a.png", 7)


def test_plan_outputs_mirrors_and_changes_format(tmp_path):
    """Outputs mirror relative paths under -o; --format swaps the suffix; the default folder is imggan-out."""
    pairs = [(tmp_path / "in" / "a.png", Path("a.png")), (tmp_path / "in" / "s" / "b.jpg", Path("s/b.jpg"))]
    jobs = plan_outputs(pairs, tmp_path / "out", "run")
    assert [j.output for j in jobs] == [tmp_path / "out" / "a.png", tmp_path / "out" / "s" / "b.jpg"]
    jobs = plan_outputs(pairs, tmp_path / "out", "run", fmt="webp")
    assert [j.output.name for j in jobs] == ["a.webp", "b.webp"]
    assert plan_outputs(pairs, None, "run")[0].output == Path("imggan-out") / "a.png"


def test_plan_outputs_single_file(tmp_path):
    """One input with an image-named -o writes exactly that file."""
    pairs = [(tmp_path / "a.png", Path("a.png"))]
    (job,) = plan_outputs(pairs, tmp_path / "result.jpg", "run", single_file_output=True)
    assert job.output == tmp_path / "result.jpg"


def test_plan_outputs_never_targets_an_input(tmp_path, make_image):
    """With -o at the input folder, or -o naming the input itself, the output gets a _<task> suffix."""
    source = tmp_path / "a.png"
    make_image(source)
    pairs = [(source.resolve(), Path("a.png"))]
    (job,) = plan_outputs(pairs, tmp_path, "denoise")
    assert job.output == tmp_path / "a_denoise.png"
    (job,) = plan_outputs(pairs, source, "denoise", single_file_output=True)
    assert job.output == tmp_path / "a_denoise.png"


def test_find_side_file_orders(tmp_path, make_image):
    """Side files resolve: the option's file, then a stem match in the option's folder, then a sidecar."""
    make_image(tmp_path / "in" / "sub" / "cat.png")
    make_image(tmp_path / "in" / "sub" / "cat_mask.png")
    make_image(tmp_path / "masks" / "sub" / "cat.png")
    make_image(tmp_path / "flat" / "cat.jpg")
    make_image(tmp_path / "one.png")
    job = Job(tmp_path / "in" / "sub" / "cat.png", Path("sub/cat.png"), tmp_path / "out" / "sub" / "cat.png")
    assert find_side_file(MASK, tmp_path / "one.png", job) == tmp_path / "one.png"
    assert find_side_file(MASK, tmp_path / "masks", job) == tmp_path / "masks" / "sub" / "cat.png"
    assert find_side_file(MASK, tmp_path / "flat", job) == tmp_path / "flat" / "cat.jpg"
    assert find_side_file(MASK, None, job) == tmp_path / "in" / "sub" / "cat_mask.png"
    assert find_side_file(MASK, tmp_path / "empty-folder", job) == tmp_path / "in" / "sub" / "cat_mask.png"
    other = Job(tmp_path / "in" / "dog.png", Path("dog.png"), tmp_path / "out" / "dog.png")
    assert find_side_file(MASK, tmp_path / "masks", other) is None


def test_find_side_file_never_returns_the_input(tmp_path, make_image):
    """A side folder equal to the input folder does not pair an image with itself."""
    make_image(tmp_path / "cat.png")
    job = Job(tmp_path / "cat.png", Path("cat.png"), tmp_path / "out" / "cat.png")
    assert find_side_file(MASK, tmp_path, job) is None
    make_image(tmp_path / "cat.mask.png")
    assert find_side_file(MASK, tmp_path, job) == tmp_path / "cat.mask.png"


def test_find_side_file_with_glob_characters_in_the_name(tmp_path, make_image):
    """Stems with glob characters ([1]) still pair with their sidecar."""
    make_image(tmp_path / "shot[1].png")
    make_image(tmp_path / "shot[1]_mask.png")
    job = Job(tmp_path / "shot[1].png", Path("shot[1].png"), tmp_path / "o.png")
    assert find_side_file(MASK, None, job) == tmp_path / "shot[1]_mask.png"
