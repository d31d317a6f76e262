# -*- test-case-name: tests.lang.test_flow -*-
"""The C{load} benchmark: how long loading a 2,000-line macro library takes.

A generated library in the style of the IPP standard library (defaults
guarded by C{$?VAR}, then many macros with C{if}/C{else}, C{for},
C{foreach}, literal C{list} blocks, C{local}, comments and blank lines,
and a few task definitions) is written to a file and loaded with
C{input FILE} into a fresh engine (interpreter plus scheduler commands,
as the C{pantasks} program builds it), several times; the median is
reported.  The bar: under 1 s.

Usage: C{python bench/load.py [--lines N] [--rounds R]}; the last line is
C{RESULT load <seconds> s}.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

HEADER = """\
## generated macro library for the load benchmark
if ($?VERBOSE == 0)     set VERBOSE = 1
if ($?POLL_LIMIT == 0)  set POLL_LIMIT = 32
if ($?LABEL:n == 0)     set LABEL:n = 0
$LOADPOLL = 1.0
$LOADEXEC = 5.0
book init bench.pending

"""

MACRO = """\
# macro {i}: one of the generated helpers
macro lib.helper.{i} -c "generated helper {i}"
  if ($0 != 3)
    echo "USAGE: lib.helper.{i} (book) (page)"
    break
  end
  local state k word
  book getword $1 $2 pantaskState -var state
  if ("$state" == "NULL")
    book setword $1 $2 pantaskState INIT
  else
    for k 0 $LABEL:n
      if ($LABEL:$k == $state) last
    end
  end
  list words
    alpha{i}  host{i}.0
    beta{i}   host{i}.1
  end
  foreach word $words:0 $words:1
    $seen{i} = $word
  end
  $command = chiptool -pendingimfile -limit {{$POLL_LIMIT * 2}}
end

"""

TASK = """\
task bench.task.{i}
  host local
  periods -poll $LOADPOLL -exec $LOADEXEC -timeout 30
  npending 1
  stdout NULL
  task.exec
    if ($LABEL:n == 0) break
    $run = chiptool -pendingimfile
    command $run
  end
  task.exit 0
    ipptool2book stdout bench.pending -key chip_id:class_id -uniq
  end
  task.exit default
    echo failed
  end
end

"""


def library(lines: int) -> tuple[str, int, int]:
    """Library text of about C{lines} lines: (text, macros, tasks).

    Every twentieth block is a task definition, the others are macros.
    """
    parts = [HEADER]
    count = HEADER.count("\n")
    macros = tasks = 0
    while count < lines:
        if (macros + tasks) % 20 == 19:
            chunk = TASK.format(i=tasks)
            tasks += 1
        else:
            chunk = MACRO.format(i=macros)
            macros += 1
        parts.append(chunk)
        count += chunk.count("\n")
    return "".join(parts), macros, tasks


def load_once(path: str) -> tuple[float, Any]:
    """Seconds to load C{path} into a fresh engine, and the engine."""
    from twisted.internet import reactor

    from pantasks.engine import make_engine
    from pantasks.lang.context import CollectingSink

    sink = CollectingSink()
    engine = make_engine(reactor, log_sink=sink)
    interp = engine.interp
    ctx = interp.new_context(sink)
    start = time.perf_counter()
    d = interp.execute_text(ctx, f"input {path}")
    elapsed = time.perf_counter() - start
    box: list[Any] = []
    d.addBoth(box.append)
    if box != [1] or sink.stderr():
        raise SystemExit(f"load: the library did not load cleanly: {box} {sink.stderr()}")
    return elapsed, engine


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    text, macros, tasks = library(args.lines)
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        path = os.path.join(tmp, "library.pro")
        with open(path, "w") as f:
            f.write(text)
        times = []
        engine = None
        for _round in range(args.rounds):
            elapsed, engine = load_once(path)
            times.append(elapsed)
    assert engine is not None
    defined = sum(1 for name in engine.interp.macros if name.startswith("lib.helper."))
    defined_tasks = len(getattr(engine.scheduler, "tasks", {}))
    if defined != macros or defined_tasks != tasks:
        raise SystemExit(f"load: {defined} macros and {defined_tasks} tasks defined, "
                         f"expected {macros} and {tasks}")
    lines = text.count("\n")
    median = statistics.median(times)
    print(f"load: {lines}-line library ({macros} macros, {tasks} tasks), {args.rounds} rounds; "
          f"{os.cpu_count()} CPUs ({platform.machine()}), Python {platform.python_version()}")
    print(f"{'round':>5} {'seconds':>9}")
    for n, t in enumerate(times, 1):
        print(f"{n:>5} {t:9.4f}")
    print(f"{'median':>5} {median:9.4f}  ({lines / median:,.0f} lines/s)")
    print(f"bar: under 1 s: {'meets' if median < 1.0 else 'MISSES'}")
    print(f"RESULT load {median:.4f} s")


if __name__ == "__main__":
    main()
