# pantasks: `make run` starts it, `make test` runs every test.
# Both work from a bare clone: they build the virtualenv and, when run as
# root, install the Debian packages the tests need.

PYTHON  ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
# Debian packages used by tests and benchmarks (procps: ps/pgrep in tests;
# man-db/groff: man page checks; tcl/bash/parallel: benchmark references;
# openssh-server/-client, iproute2: the controller tests run real sshds, one in
# a network namespace; chromium: the web page tests look at it with a real,
# headless browser).
DEBS    := procps man-db groff-base tcl parallel openssh-server openssh-client iproute2 \
           chromium

.PHONY: all run test lint bench soak debs clean

all: $(STAMP)

debs:
	@missing=""; for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "note: missing Debian packages:$$missing (run as root or install them)"; fi; \
	fi

$(STAMP): setup.py pantasks/cli/bin/start_pantasks_server pantasks/cli/bin/start_pantasks_client
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]' --config-settings editable_mode=compat
	$(BIN)/python -c "from twisted.plugin import getPlugins, IPlugin; list(getPlugins(IPlugin))" 2>/dev/null || true
	touch $(STAMP)

run: $(STAMP)
	@echo "starting pantasks_server with the embedded default and etc/demo.pro;"
	@echo "connect from another terminal with:  $(BIN)/pantasks_client"
	@echo "(or: nc localhost PORT, then PASS <the password printed below>); Control-C stops it"
	@echo "the web status page: open the URL after 'web page at' below (user pantasks)"
	$(BIN)/pantasks_server --load etc/demo.pro --config etc/demo.conf

lint: $(STAMP)
	$(BIN)/ruff check pantasks tests bench twisted setup.py

test: debs $(STAMP) lint
	$(BIN)/pytest -q -m "not soak" tests

BENCHES := interp load dispatch latency status clients web fairness scale remote

bench: debs $(STAMP)
	@for b in $(BENCHES); do \
	  if [ -f bench/$$b.py ]; then echo "== $$b"; $(BIN)/python bench/$$b.py || exit 1; fi; \
	done

soak: $(STAMP)
	$(BIN)/pytest -q -m soak tests

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
