# -*- test-case-name: tests.test_etc_examples -*-
"""The examples under etc/ work as their comments say."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = """\
queueload tmp -x "cat {root}/etc/ipphosts.config"
ipptool2book tmp ipphosts -key camera
book getword ipphosts GPC1 XY01 -var host
echo host=$host
book getword ipphosts skycell count -var count
echo count=$count
input {root}/etc/modules/standard.pro
set.default LOGDIR /tmp/x
set.default LOGDIR /tmp/y
echo logdir=$LOGDIR
book init work
book newpage work p1
book setword work p1 pantaskState INIT
page.state work INIT
task chipjob
  task.exec
    host.for.chip GPC1 XY03
    command echo chip
  end
  task.exit 0
    show.job done
  end
  periods -exec 0.1
  nmax 1
end
run
sleep 1
"""


def pantasks() -> list[str]:
    exe = Path(sys.executable).with_name("pantasks")
    if exe.exists():
        return [str(exe)]
    return [sys.executable, "-c", "from pantasks.cli.shell import main; main()"]


def test_ipphosts_and_standard_module(tmp_path: Path) -> None:
    script = tmp_path / "check.pro"
    script.write_text(SCRIPT.format(root=ROOT))
    env = dict(os.environ, HOME=str(tmp_path), PYTHONPATH=str(ROOT))
    env.pop("PTOLEMY", None)
    r = subprocess.run(pantasks() + [str(script)], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    assert r.stdout == ("host=node01.0\ncount=2\nlogdir=/tmp/x\nwork INIT 1\n"
                        "done job 1 = echo chip\n")


def test_demo_script_loads(tmp_path: Path) -> None:
    script = tmp_path / "demo.pro"
    script.write_text(f"input {ROOT}/etc/demo.pro\nstatus -tasks\n")
    env = dict(os.environ, HOME=str(tmp_path), PYTHONPATH=str(ROOT))
    env.pop("PTOLEMY", None)
    r = subprocess.run(pantasks() + [str(script)], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert " Task Status" in r.stdout and "Traceback" not in r.stderr
