from pathlib import Path

import pytest

from imggan.data.staging import staged_folder


def test_a_complete_folder_appears_under_its_name(tmp_path: Path):
    with staged_folder(tmp_path / "data") as partial:
        assert partial.name == "data.partial" and partial.is_dir()
        (partial / "a.txt").write_text("done")
    assert (tmp_path / "data" / "a.txt").read_text() == "done"
    assert not (tmp_path / "data.partial").exists()


def test_an_error_leaves_nothing_and_a_stale_partial_is_cleared(tmp_path: Path):
    (tmp_path / "data.partial").mkdir()
    (tmp_path / "data.partial" / "stale.txt").write_text("old")
    with pytest.raises(ValueError), staged_folder(tmp_path / "data") as partial:
        assert not (partial / "stale.txt").exists()
        (partial / "half.txt").write_text("half")
        raise ValueError("interrupted")
    assert list(tmp_path.iterdir()) == []
