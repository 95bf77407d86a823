"""Where outputs go (README): --force replaces only what segment made, never an input; links,
writability, stale temporaries, concurrent writers and kill -9."""

from __future__ import annotations

import fcntl
import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import run_cli

from segment._files import LOCK_PREFIX, MARKER, TMP_PREFIX

BAD = Path(__file__).resolve().parents[1] / "bad_inputs"
FAST_RUN = ["--k", "2", "--ks", "none", "--no-map", "--listexp", "none", "--typology", "none"]


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def work(tmp_path, monkeypatch):
    """A working folder holding a copy of the small survey, its codebook and a model."""
    for name in ("survey.csv", "codebook.yaml", "model.json"):
        (tmp_path / name).write_bytes((BAD / name).read_bytes())
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _run_args(data: Path, out, *extra) -> list:
    return ["run", data, "--codebook", data.parent / "codebook.yaml", *FAST_RUN, "-o", out,
            "--quiet", *extra]  # fmt: skip


def _never(*args, **kwargs):
    raise AssertionError("the computation ran before the output was checked")


@pytest.fixture
def no_compute(monkeypatch):
    """Refusals must come before any work: the fit and the whole analysis raise if reached."""
    monkeypatch.setattr("segment.pipeline.run_analysis", _never)
    monkeypatch.setattr("segment.segments.fit.fit_segments", _never)
    monkeypatch.setattr("segment.segments.scoring.score_file", _never)


def _refused(args, capsys) -> str:
    code, stdout, stderr = run_cli(args, capsys)
    text = stdout + stderr
    assert code == 2, text
    assert "Traceback" not in text
    return text


# ----------------------------------------------------------------------------- the marker
@pytest.mark.parametrize("force", [False, True])
def test_run_never_replaces_a_folder_without_the_marker(work, capsys, no_compute, force):
    mine = work / "out"
    mine.mkdir()
    (mine / "notes.txt").write_text("years of work", encoding="utf-8")
    text = _refused(_run_args(work / "survey.csv", mine, *(["--force"] if force else [])), capsys)
    assert f"{mine}: not a folder segment made (no .segment-output marker)" in text
    assert "choose another -o or remove it yourself" in text
    assert _digest(mine) == {"notes.txt": hashlib.sha256(b"years of work").hexdigest()}


def test_a_folder_made_by_another_command_is_not_replaced(work, capsys, no_compute):
    quiz = work / "quiz"
    quiz.mkdir()
    (quiz / MARKER).write_text("command: quiz\n", encoding="utf-8")
    text = _refused(_run_args(work / "survey.csv", quiz, "--force"), capsys)
    assert "a folder made by `segment quiz`, not by `segment run`" in text


def test_run_writes_the_marker_and_replaces_its_own_report(work, capsys):
    out = work / "rep"
    assert run_cli(_run_args(work / "survey.csv", out), capsys)[0] == 0
    marker = (out / MARKER).read_text(encoding="utf-8")
    assert "command: run" in marker and "version: " in marker
    (out / "index.html").write_text("old", encoding="utf-8")
    assert run_cli(_run_args(work / "survey.csv", out), capsys)[0] == 0
    assert (out / "index.html").read_text(encoding="utf-8") != "old"
    assert sorted(p.name for p in work.iterdir()) == [
        "codebook.yaml", "model.json", "rep", "survey.csv",
    ]  # fmt: skip


# ----------------------------------------------------------------------------- inputs
@pytest.mark.parametrize(
    "case",
    ["run -o folder of data", "run -o parent of data", "score -o data", "score -o model",
     "score --labels data", "fit -o codebook", "codebook infer -o data", "typing-tool -o model",
     "quiz -o folder of tool", "fit -o hard link of data"],
)  # fmt: skip
def test_an_output_that_is_or_holds_an_input_is_refused(work, capsys, no_compute, case):
    data_dir = work / "data"
    data_dir.mkdir()
    for name in ("survey.csv", "codebook.yaml", "model.json"):
        os.replace(work / name, data_dir / name)
    data, cb, model = data_dir / "survey.csv", data_dir / "codebook.yaml", data_dir / "model.json"
    fit = ["fit", data, "--codebook", cb, "--k", "2", "--n-init", "1", "--typology", "none"]
    args = {
        "run -o folder of data": _run_args(data, data_dir, "--force"),
        "run -o parent of data": _run_args(data, data_dir / "sub" / "..", "--force"),
        "score -o data": ["score", model, data, "-o", data, "--force", "--quiet"],
        "score -o model": ["score", model, data, "-o", model, "--force", "--quiet"],
        "score --labels data": [
            "score",
            model,
            data,
            "-o",
            work / "s.csv",
            "--labels",
            data,
            "--force",
            "--quiet",
        ],
        "fit -o codebook": [*fit, "-o", cb, "--force"],
        "codebook infer -o data": ["codebook", "infer", data, "-o", data, "--force"],
        "typing-tool -o model": ["typing-tool", model, data, "-o", model, "--force"],
        "quiz -o folder of tool": ["quiz", model, "-o", data_dir, "--force"],
        "fit -o hard link of data": [*fit, "-o", work / "link.csv", "--force"],
    }[case]
    if case == "fit -o hard link of data":
        os.link(data, work / "link.csv")
    before = _digest(work)
    text = _refused(args, capsys)
    assert "an input" in text or "input folder" in text, text
    assert _digest(work) == before
    assert not list(work.glob(".segment-*")) and not list(data_dir.glob(".segment-*"))


@pytest.mark.parametrize(
    "where, what",
    [("/", "the root folder"), (".", "the working folder"), ("..", "a folder holding the "
     "working folder"), ("~", "the home folder")],
)  # fmt: skip
def test_root_home_working_folder_and_its_ancestors_are_refused(
    work, capsys, no_compute, monkeypatch, where, what
):
    (work / "h").mkdir()
    monkeypatch.setenv("HOME", str(work / "h"))
    out = os.path.expanduser(where)  # as the shell expands `-o ~`
    text = _refused(_run_args(work / "survey.csv", out, "--force"), capsys)
    assert f"{out}: is {what}; refusing to write over it" in text


# ----------------------------------------------------------------------------- links
def test_a_link_to_a_report_folder_is_followed_and_kept(work, capsys):
    target = work / "reports" / "v1"
    assert run_cli(_run_args(work / "survey.csv", target), capsys)[0] == 0
    (target / "index.html").write_text("old", encoding="utf-8")
    link = work / "latest"
    link.symlink_to(target, target_is_directory=True)
    for _ in range(2):  # the old code left a `.latest.old` link that broke the next run
        assert run_cli(_run_args(work / "survey.csv", link), capsys)[0] == 0
    assert link.is_symlink() and link.resolve() == target
    assert (target / "index.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert sorted(p.name for p in work.iterdir()) == [
        "codebook.yaml", "latest", "model.json", "reports", "survey.csv",
    ]  # fmt: skip
    assert sorted(p.name for p in (work / "reports").iterdir()) == ["v1"]


@pytest.mark.parametrize("command", ["run", "fit"])
def test_a_dangling_link_is_refused(work, capsys, no_compute, command):
    link = work / "out"
    link.symlink_to(work / "missing" / "target")
    if command == "run":
        args = _run_args(work / "survey.csv", link, "--force")
    else:
        args = ["fit", "survey.csv", "--codebook", "codebook.yaml", "--k", "2", "-o", link]
    text = _refused(args, capsys)
    assert "dangling link" in text
    assert link.is_symlink() and not (work / "missing").exists()


def test_a_link_to_a_folder_segment_did_not_make_is_refused(work, capsys, no_compute):
    mine = work / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep", encoding="utf-8")
    (work / "out").symlink_to(mine, target_is_directory=True)
    text = _refused(_run_args(work / "survey.csv", work / "out", "--force"), capsys)
    assert "not a folder segment made" in text
    assert (mine / "notes.txt").read_text(encoding="utf-8") == "keep"


# ----------------------------------------------------------------------------- writability
@pytest.mark.parametrize("problem", ["read-only", "full", "parent is a file"])
@pytest.mark.parametrize("command", ["run", "fit", "score"])
def test_an_unwritable_output_is_refused_before_computing(
    work, capsys, no_compute, monkeypatch, problem, command
):
    folder = work / "ro"
    folder.mkdir()
    out = folder / ("rep" if command == "run" else "out.json")
    if problem == "read-only":
        folder.chmod(0o555)
        if os.geteuid() == 0:  # root writes anyway: the folder answers as a read-only one would
            real_mkstemp = __import__("tempfile").mkstemp

            def mkstemp(*args, dir=None, **kwargs):
                if dir is not None and Path(dir) == folder:
                    raise PermissionError(13, "Permission denied")
                return real_mkstemp(*args, dir=dir, **kwargs)

            monkeypatch.setattr("segment._files.tempfile.mkstemp", mkstemp)
    elif problem == "full":
        monkeypatch.setattr(
            "segment._files.shutil.disk_usage", lambda p: type("U", (), {"free": 0})()
        )
    else:
        folder.rmdir()
        folder.write_text("a file", encoding="utf-8")
        out = folder / "sub" / out.name
    args = {
        "run": _run_args(work / "survey.csv", out),
        "fit": ["fit", "survey.csv", "--codebook", "codebook.yaml", "--k", "2", "-o", out],
        "score": ["score", "model.json", "survey.csv", "-o", out.with_suffix(".csv"), "--quiet"],
    }[command]
    start = time.perf_counter()
    text = _refused(args, capsys)
    assert time.perf_counter() - start < 5
    expected = {
        "read-only": "Permission denied",
        "full": "MiB free",
        "parent is a file": "is a file",
    }
    assert expected[problem] in text
    if folder.is_dir():
        folder.chmod(0o755)
        assert list(folder.iterdir()) == []


# ----------------------------------------------------------------------------- temporaries
def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_stale_temporaries_of_dead_writers_are_cleaned_and_nothing_else(work, capsys):
    dead = _dead_pid()
    out = work / "out"
    out.mkdir()
    stale_dir = out / f"{TMP_PREFIX}{dead}-rep-k2j4"
    stale_dir.mkdir()
    (stale_dir / "index.html").write_text("half", encoding="utf-8")
    stale_file = out / f"{TMP_PREFIX}{dead}-cb.yaml-x1y2.tmp"
    stale_file.write_text("half", encoding="utf-8")
    live = out / f"{TMP_PREFIX}{os.getppid()}-other.csv-a1b2.tmp"  # a live writer's: kept
    live.write_text("busy", encoding="utf-8")
    old = out / f"{TMP_PREFIX}{dead}-report.old"  # a swap killed half-way: put back
    old.mkdir()
    (old / "index.html").write_text("previous", encoding="utf-8")
    user = [out / ".rep.keep", out / "segment-tmp-1-notes.txt"]  # not ours
    for p in user:
        p.write_text("mine", encoding="utf-8")
    code, _, stderr = run_cli(["codebook", "infer", "survey.csv", "-o", out / "cb.yaml"], capsys)
    assert code == 0, stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["cb.yaml", "report", live.name, *(p.name for p in user)]
    )
    assert (out / "report" / "index.html").read_text(encoding="utf-8") == "previous"


def test_a_second_writer_is_refused_while_the_lock_is_held(work, capsys, no_compute):
    out = work / "rep"
    lock = work / f"{LOCK_PREFIX}rep"
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, b"4242\n")
        text = _refused(_run_args(work / "survey.csv", out, "--force"), capsys)
        assert f"another segment command is writing {out} (lock held by pid 4242)" in text
        fit = ["fit", "survey.csv", "--codebook", "codebook.yaml", "--k", "2", "-o", "m.json"]
        os.close(os.open(work / f"{LOCK_PREFIX}m.json", os.O_CREAT | os.O_RDWR))
        fd2 = os.open(work / f"{LOCK_PREFIX}m.json", os.O_RDWR)
        fcntl.flock(fd2, fcntl.LOCK_EX)
        assert "lock held by pid unknown" in _refused(fit, capsys)
        os.close(fd2)
    finally:
        os.close(fd)
    assert not out.exists() and not (work / "m.json").exists()


_KILLED = """
import sys, time
import segment._files as files
def stuck(command):  # called once the new folder is complete, just before the swap
    print("writing", flush=True)
    time.sleep(60)
files.marker_text = stuck
from segment.cli import main
main(sys.argv[1:])
"""


def test_kill_9_mid_write_keeps_the_previous_output_and_the_next_run_cleans_up(work, capsys):
    out = work / "quiz"
    args = ["quiz", "-o", str(out), "--force"]  # the bundled typing tool: fast
    assert run_cli(args, capsys)[0] == 0
    before = _digest(out)
    proc = subprocess.Popen([sys.executable, "-c", _KILLED, *args], stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None and proc.stdout.readline() == b"writing\n"
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    leftovers = [p.name for p in work.iterdir() if p.name.startswith(".segment-")]
    assert any(n.startswith(f"{TMP_PREFIX}{proc.pid}-quiz-") for n in leftovers), leftovers
    assert _digest(out) == before  # the previous quiz is intact
    assert run_cli(args, capsys)[0] == 0
    assert _digest(out) == before  # same tool: same bytes
    assert not [p.name for p in work.iterdir() if p.name.startswith(".segment-")]
