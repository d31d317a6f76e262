# -*- test-case-name: tests.lang.test_interp -*-
"""The C{interp} benchmark: the speed of the script interpreter.

The opihi loop of C{benchmarks.md}::

    $n = 0
    for i 0 200000
      $n = $n + $i % 7
    end

against the same loop in C{bash} and in C{tclsh}.  Each contender runs as
its own process (pantasks through its real command line,
C{pantasks SCRIPT}), alternated round by round (pantasks, bash, tclsh,
pantasks, ...), and each also runs an empty script the same way, so the
start-up cost (Python importing Twisted, for pantasks) can be taken out:
the figure compared is the median loop time minus the median start-up
time.  Every run's printed sum is checked (599994).

The bar: pantasks no slower than bash (ratio <= 1.0); tclsh is the limit
to approach.

Usage: C{python bench/interp.py [--rounds R] [--count N]}; the last line
is C{RESULT interp <seconds> s (ratio <r> vs bash)}.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

OPIHI = """\
$n = 0
for i 0 {count}
  $n = $n + $i % 7
end
echo $n
"""
BASH = "n=0; for ((i=0; i<{count}; i++)); do n=$((n + i % 7)); done; echo $n"
TCL = ("set n 0\nfor {{set i 0}} {{$i < {count}}} {{incr i}} "
       "{{ set n [expr {{$n + $i % 7}}] }}\nputs $n\n")


def expected_sum(count: int) -> str:
    """What every contender must print."""
    return str(sum(i % 7 for i in range(count)))


def commands(tmp: str, count: int) -> dict[str, tuple[list[str], list[str]]]:
    """For each contender: (loop command, empty command)."""
    def write(name: str, text: str) -> str:
        path = os.path.join(tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    pantasks = [sys.executable, "-c",
                "import sys; from pantasks.cli.shell import main; main(sys.argv[1:])", "--norc"]
    out = {
        "pantasks": (pantasks + [write("loop.pro", OPIHI.format(count=count))],
                     pantasks + [write("empty.pro", "echo {}\n".format(expected_sum(count)))]),
        "bash": (["bash", "-c", BASH.format(count=count)],
                 ["bash", "-c", "echo {}".format(expected_sum(count))]),
    }
    tclsh = shutil.which("tclsh")
    if tclsh:
        out["tclsh"] = ([tclsh, write("loop.tcl", TCL.format(count=count))],
                        [tclsh, write("empty.tcl", "puts {}\n".format(expected_sum(count)))])
    return out


def timed(argv: list[str], want: str) -> float:
    """Wall seconds of one run; its output must be C{want}."""
    env = dict(os.environ, PYTHONPATH=ROOT)
    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=ROOT)
    elapsed = time.perf_counter() - start
    if proc.stdout.strip() != want or proc.returncode != 0:
        raise SystemExit(f"interp: {argv[0]} printed {proc.stdout.strip()!r} "
                         f"(exit {proc.returncode}), not {want!r}:\n{proc.stderr}")
    return elapsed


def machine() -> str:
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return (f"{os.cpu_count()} CPUs ({platform.machine()}, {cpu or 'unknown CPU'}), "
            f"Python {platform.python_version()}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--count", type=int, default=200000)
    args = parser.parse_args(argv)
    want = expected_sum(args.count)
    with tempfile.TemporaryDirectory(prefix="bench-interp-") as tmp:
        cmds = commands(tmp, args.count)
        loops: dict[str, list[float]] = {name: [] for name in cmds}
        empties: dict[str, list[float]] = {name: [] for name in cmds}
        for _round in range(args.rounds):
            for name, (loop, empty) in cmds.items():
                empties[name].append(timed(empty, want))
                loops[name].append(timed(loop, want))
    print(f"interp: for i 0 {args.count} / $n = $n + $i % 7 / end, {args.rounds} alternated "
          f"rounds, medians; {machine()}")
    print(f"{'contender':<10} {'total s':>9} {'start-up s':>11} {'loop s':>9} {'vs bash':>9}")
    net = {name: statistics.median(loops[name]) - statistics.median(empties[name])
           for name in cmds}
    for name in cmds:
        print(f"{name:<10} {statistics.median(loops[name]):9.3f} "
              f"{statistics.median(empties[name]):11.3f} {net[name]:9.3f} "
              f"{net[name] / net['bash']:9.2f}")
    ratio = net["pantasks"] / net["bash"]
    verdict = "meets" if ratio <= 1.0 else "MISSES"
    print(f"bar: pantasks loop no slower than bash (ratio <= 1.0): {verdict}")
    print(f"RESULT interp {net['pantasks']:.3f} s (ratio {ratio:.2f} vs bash)")


if __name__ == "__main__":
    main()
