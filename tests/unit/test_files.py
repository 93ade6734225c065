"""Files written whole or not at all, private by default (kiosk.core.files)."""

import os
import stat

import pytest

from kiosk.core.files import PRIVATE, SHARED, atomic_writer, write_atomically


def test_a_file_is_replaced_whole_and_private(tmp_path):
    path = tmp_path / "report.html"
    path.write_text("old")
    os.chmod(path, 0o644)
    write_atomically(path, "new")
    assert path.read_text() == "new"
    assert stat.S_IMODE(path.stat().st_mode) == PRIVATE
    assert os.listdir(tmp_path) == ["report.html"]  # no temporary left behind


def test_a_failure_midway_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "walks.csv"
    path.write_text("the old walks\n")
    with pytest.raises(RuntimeError), atomic_writer(path) as handle:
        handle.write("half of the new")
        raise RuntimeError("the disk went away")
    assert path.read_text() == "the old walks\n"
    assert os.listdir(tmp_path) == ["walks.csv"]


def test_a_shared_file_is_readable_by_others(tmp_path):
    path = tmp_path / "calibration.json"
    write_atomically(path, "{}", SHARED)
    assert stat.S_IMODE(path.stat().st_mode) == SHARED


def test_a_pipe_is_written_directly_not_replaced(tmp_path):
    fifo = tmp_path / "out"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        write_atomically(fifo, "through the pipe")
        assert os.read(reader, 100) == b"through the pipe"
    finally:
        os.close(reader)
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_a_relative_path_in_the_working_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_atomically(type(tmp_path)("here.json"), "{}")
    assert (tmp_path / "here.json").read_text() == "{}"
