"""The emoji set's fetch, index and splits, on a tiny synthetic npm tarball (no network)."""

from __future__ import annotations

import io
import tarfile

import numpy as np
import pytest
from click.testing import CliRunner

from imggan.cli import cli
from imggan.data import emoji


@pytest.fixture
def tarball(tmp_path):
    return emoji.synthetic_tarball(tmp_path / "pkg.tgz", per_class=10)


def test_fetch_checks_digest_and_extracts_only_what_is_used(tmp_path, tarball):
    with pytest.raises(emoji.EmojiError, match="SHA-256"):
        emoji.fetch_emoji(tmp_path / "root", tarball=tarball)  # the pinned digest: not this tarball's
    assert not emoji.default_folder(tmp_path / "root").exists()
    folder = emoji.fetch_emoji(tmp_path / "root", tarball=tarball, sha256=emoji.sha256_of(tarball))
    assert folder == emoji.default_folder(tmp_path / "root")
    assert {p.name for p in folder.iterdir()} == {"emoji.json", "LICENSE", "png", "SOURCE.json"}
    assert len(list((folder / "png").glob("*.png"))) == 10 + 10 + 2 + 2  # + the skin variant and the repeat
    assert not list(folder.parent.glob("*.partial"))


def test_index_drops_small_categories_skin_tones_and_repeats(tmp_path, tarball):
    folder = emoji.extract(tarball, tmp_path / "x")
    entries, classes = emoji.emoji_index(folder, min_count=5)
    assert classes == ["Smileys & Emotion", "Animals & Nature"]  # Component (2 images) is no class
    assert len(entries) == 20  # the byte-identical repeat is kept once, the skin variant is not listed
    assert all(e.path.name != "skin.png" for e in entries)
    with pytest.raises(emoji.EmojiError, match="fetch --emoji"):
        emoji.emoji_index(tmp_path)


def test_splits_are_fixed_stratified_disjoint_and_keep_variants_together(tmp_path, tarball):
    entries, classes = emoji.emoji_index(emoji.extract(tarball, tmp_path / "x"), min_count=5)
    parts = {s: emoji.split_entries(entries, classes, s) for s in ("train", "val", "test", "trainval")}
    names = {s: {e.path.name for e in p} for s, p in parts.items()}
    assert names["train"] | names["val"] | names["test"] == {e.path.name for e in entries}
    assert not (names["train"] & names["val"] or names["train"] & names["test"] or names["val"] & names["test"])
    assert names["trainval"] == names["train"] | names["val"]
    for category in classes:  # every class in every split (10 images: 1 val, 2 test)
        assert all(any(e.category == category for e in parts[s]) for s in ("train", "val", "test"))
    runners = {s for s, p in parts.items() if s != "trainval" for e in p if e.group == "1F3C3"}
    assert len(runners) == 1  # person / man / woman running: one split
    assert [e.path for e in emoji.split_entries(entries, classes, "test")] == [e.path for e in parts["test"]]
    with pytest.raises(emoji.EmojiError, match="unknown split"):
        emoji.split_entries(entries, classes, "dev")


def test_read_emoji_composites_alpha_on_white(tmp_path, tarball):
    entries, _ = emoji.emoji_index(emoji.extract(tarball, tmp_path / "x"), min_count=5)
    image = emoji.read_emoji(entries[0].path, 8)
    assert image.shape == (8, 8, 3) and image.dtype == np.uint8
    assert (image[0, 0] == 255).all()  # transparent corner -> the white background
    assert image[4, 4].min() < 250  # the disc's colour in the middle
    (tmp_path / "bad.png").write_bytes(b"not a png")
    with pytest.raises(emoji.EmojiError, match="not a readable image"):
        emoji.read_emoji(tmp_path / "bad.png", 8)


def test_cli_fetch_emoji_reports_a_digest_mismatch_in_one_line(tmp_path, tarball):
    result = CliRunner().invoke(cli, ["data", "fetch", "--root", str(tmp_path), "--emoji-tarball", str(tarball)])
    assert result.exit_code == 1
    assert "SHA-256" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "emoji").exists() or not any((tmp_path / "emoji").iterdir())


def test_an_interrupted_fetch_leaves_no_folder_and_the_next_fetch_completes(tmp_path, tarball, monkeypatch):
    digest, root = emoji.sha256_of(tarball), tmp_path / "root"

    def interrupted(*_args, **_kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(emoji.json, "dumps", interrupted)  # stops while SOURCE.json is written, the last step
    with pytest.raises(KeyboardInterrupt):
        emoji.fetch_emoji(root, tarball=tarball, sha256=digest)
    assert not emoji.default_folder(root).exists()  # only a .partial, which the next fetch replaces
    monkeypatch.undo()
    folder = emoji.fetch_emoji(root, tarball=tarball, sha256=digest)
    assert (folder / "SOURCE.json").is_file() and not list(folder.parent.glob("*.partial"))


def test_a_wrong_tarball_is_one_error_and_no_folder(tmp_path, tarball):
    junk = tmp_path / "junk.tgz"
    junk.write_bytes(b"not a tarball at all")
    with pytest.raises(emoji.EmojiError, match="not a readable npm tarball"):
        emoji.fetch_emoji(tmp_path / "a", tarball=junk, sha256=emoji.sha256_of(junk))
    empty = tmp_path / "empty.tgz"
    with tarfile.open(empty, "w:gz") as tar:
        info = tarfile.TarInfo("package/README.md")
        tar.addfile(info, io.BytesIO(b""))
    with pytest.raises(emoji.EmojiError, match="no package/emoji.json"):
        emoji.fetch_emoji(tmp_path / "b", tarball=empty, sha256=emoji.sha256_of(empty))
    assert not emoji.default_folder(tmp_path / "a").exists()
    assert not emoji.default_folder(tmp_path / "b").exists()


def test_cli_emoji_and_style_refs_together_is_a_usage_error(tmp_path, tarball):
    args = ["data", "fetch", "--root", str(tmp_path), "--emoji-tarball", str(tarball), "--style-refs"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2 and "give one" in result.output
    assert not (tmp_path / "emoji").exists()
