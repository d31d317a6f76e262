# -*- test-case-name: tests.shell.test_shell -*-
"""The real C{pantasks} program, driven as a person or a script would."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pexpect
import pytest

PROMPT = "pantasks: "


def pantasks_argv() -> list[str]:
    exe = os.path.join(os.path.dirname(sys.executable), "pantasks")
    if os.path.exists(exe):
        return [exe]
    return [sys.executable, "-c", "from pantasks.cli.shell import main; main()"]


def env_for(home: str) -> dict[str, str]:
    env = dict(os.environ)
    env["HOME"] = home
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("PTOLEMY", None)
    return env


def run_script(tmp_path, text: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    script = tmp_path / "script.pro"
    script.write_text(text)
    return subprocess.run(
        pantasks_argv() + [str(script), *args],
        cwd=tmp_path, env=env_for(str(tmp_path)), capture_output=True, text=True,
        timeout=timeout,
    )


@pytest.fixture
def shell(tmp_path):
    argv = pantasks_argv()
    child = pexpect.spawn(argv[0], argv[1:], cwd=str(tmp_path), env=env_for(str(tmp_path)),
                          encoding="utf-8", timeout=30)
    child.expect_exact(PROMPT)
    yield child
    if child.isalive():
        child.sendline("quit")
        child.expect(pexpect.EOF)
    child.close()


def test_script_mode_arguments_and_exit_status(tmp_path) -> None:
    r = run_script(tmp_path, "echo name=$SCRIPT_NAME n=$argv:n first=$argv:0\nexit 3\n", "a", "b")
    assert r.returncode == 3
    assert r.stdout == f"name={tmp_path / 'script.pro'} n=2 first=a\n"


def test_script_mode_failure_is_status_1_with_file_and_line(tmp_path) -> None:
    r = run_script(tmp_path, "echo one\necho $missing\necho never\n")
    assert r.returncode == 1
    assert r.stdout == "one\n"
    assert r.stderr == f"{tmp_path / 'script.pro'}:2: variable missing not found\n"


def test_missing_script_is_status_2(tmp_path) -> None:
    r = subprocess.run(pantasks_argv() + [str(tmp_path / "nope.pro")], cwd=tmp_path,
                       env=env_for(str(tmp_path)), capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert "no file" in r.stderr and "Traceback" not in r.stderr


def test_help(tmp_path) -> None:
    r = subprocess.run(pantasks_argv() + ["--help"], capture_output=True, text=True, timeout=60,
                       env=env_for(str(tmp_path)))
    assert r.returncode == 0
    assert "usage: pantasks" in r.stdout and "--norc" in r.stdout


def test_script_runs_real_jobs(tmp_path) -> None:
    r = run_script(tmp_path, """\
$n = 0
task t
  command echo job-output
  periods -exec 0.05 -poll 0.05 -timeout 5
  nmax 3
  task.exit 0
    $n ++
    queueprint stdout
  end
end
run
sleep 2
echo n=$n
""")
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("job-output\n") == 3
    assert r.stdout.endswith("n=3\n")


def test_rc_file_and_norc(tmp_path) -> None:
    (tmp_path / ".pantasksrc").write_text("$fromrc = yes\n")
    argv = pantasks_argv()
    child = pexpect.spawn(argv[0], argv[1:], cwd=str(tmp_path), env=env_for(str(tmp_path)),
                          encoding="utf-8", timeout=30)
    child.expect_exact(PROMPT)
    child.sendline("echo rc=$fromrc")
    child.expect_exact("rc=yes")
    child.sendline("quit")
    child.expect(pexpect.EOF)
    child = pexpect.spawn(argv[0], argv[1:] + ["--norc"], cwd=str(tmp_path),
                          env=env_for(str(tmp_path)), encoding="utf-8", timeout=30)
    child.expect_exact(PROMPT)
    child.sendline("echo rc=$fromrc")
    child.expect_exact("variable fromrc not found")
    child.sendline("quit")
    child.expect(pexpect.EOF)


def test_block_typed_at_the_prompt(shell) -> None:
    shell.sendline("macro twice")
    shell.expect_exact("> ")
    shell.sendline("echo $1 $1")
    shell.expect_exact("> ")
    shell.sendline("end")
    shell.expect_exact(PROMPT)
    shell.sendline("twice hey")
    shell.expect_exact("hey hey")
    shell.expect_exact(PROMPT)


def test_errors_do_not_end_the_shell(shell) -> None:
    for bad in ('echo "unbalanced', "nosuchcommand", "echo {1", "echo {1 % 0}"):
        shell.sendline(bad)
        shell.expect_exact(PROMPT)
        assert "Traceback" not in shell.before
    shell.sendline("for i a b")
    shell.expect_exact("> ")
    shell.sendline("echo never")
    shell.expect_exact("> ")
    shell.sendline("end")
    shell.expect_exact("for loop starting value must be numerical")
    shell.expect_exact(PROMPT)
    shell.sendline("echo alive")
    shell.expect_exact("alive")


def test_prompt_stays_responsive_while_jobs_and_sleeps_run(shell) -> None:
    shell.sendline("task slow")
    shell.expect_exact("> ")
    for line in ("command sleep 5.0731", "periods -exec 0.1 -timeout 20", "npending 2"):
        shell.sendline(line)
        shell.expect_exact("> ")
    shell.sendline("end")
    shell.expect_exact(PROMPT)
    shell.sendline("run")
    shell.expect_exact(PROMPT)
    time.sleep(0.5)
    # The reply comes while both jobs still run (Nrun 2): it did not wait.
    shell.sendline("status -tasks")
    shell.expect(r"\+\+ slow +2 +2 ")
    shell.expect_exact(PROMPT)
    # Quitting kills the running jobs: no sleep of ours survives.
    shell.sendline("quit")
    shell.expect(pexpect.EOF)
    out = subprocess.run(["pgrep", "-f", "^sleep 5.0731$"], capture_output=True, text=True)
    assert out.stdout == ""


def test_completion_of_command_names(shell) -> None:
    shell.send("showt\t")
    shell.expect_exact("showtask")
    shell.sendline(" nosuch")
    shell.expect_exact("task nosuch not found")


def test_history_is_saved(shell, tmp_path) -> None:
    shell.sendline("echo remember-me")
    shell.expect_exact(PROMPT)
    shell.sendline("quit")
    shell.expect(pexpect.EOF)
    assert "echo remember-me" in (tmp_path / ".pantasks").read_text()


def test_log_files_from_ptolemy_rc(tmp_path) -> None:
    (tmp_path / "ptolemy.rc").write_text("PANTASKS_SERVER_STDOUT task.log\n")
    r = run_script(tmp_path, """\
task t
  command echo from-the-job
  periods -exec 0.05 -timeout 5
  nmax 1
  task.exit 0
    queueprint stdout
  end
end
run
sleep 1
echo done
""")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "done\n"
    assert (tmp_path / "task.log").read_text() == "from-the-job\n"


def test_control_c_keeps_jobs_and_quit_kills_them(tmp_path) -> None:
    argv = pantasks_argv()
    child = pexpect.spawn(argv[0], argv[1:], cwd=str(tmp_path), env=env_for(str(tmp_path)),
                          encoding="utf-8", timeout=30)
    child.expect_exact(PROMPT)
    child.sendline("job sleep 47")
    child.expect_exact(PROMPT)
    time.sleep(0.5)
    assert subprocess.run(["pgrep", "-f", "^sleep 47$"], capture_output=True).returncode == 0
    child.sendintr()  # never leaves with running jobs: a hint instead
    child.expect_exact("(type quit or press Ctrl-D to leave pantasks)")
    child.expect_exact(PROMPT)
    assert subprocess.run(["pgrep", "-f", "^sleep 47$"], capture_output=True).returncode == 0
    child.sendline("quit")  # leaving kills them
    child.expect(pexpect.EOF)
    out = subprocess.run(["pgrep", "-f", "^sleep 47$"], capture_output=True, text=True)
    assert out.stdout == ""


def test_bad_option_is_one_line(tmp_path) -> None:
    r = subprocess.run(pantasks_argv() + ["--bogus"], capture_output=True, text=True,
                       timeout=60, env=env_for(str(tmp_path)))
    assert r.returncode == 2
    assert r.stderr == "pantasks: unrecognized arguments: --bogus (try pantasks --help)\n"
