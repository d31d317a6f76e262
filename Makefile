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

# The install is quiet (pip and setuptools talk a lot): its output is kept
# in $(VENV)/install.log and shown only when it fails.
$(STAMP): setup.py pantasks/cli/bin/start_pantasks_server pantasks/cli/bin/start_pantasks_client
	@echo "setting up $(VENV) (log: $(VENV)/install.log) ..."
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@{ $(BIN)/pip install --upgrade pip && \
	   $(BIN)/pip install -e '.[test]' --config-settings editable_mode=compat; \
	 } >$(VENV)/install.log 2>&1 || { cat $(VENV)/install.log; echo "make: the install failed (see above)"; exit 1; }
	@$(BIN)/python -c "from twisted.plugin import getPlugins, IPlugin; list(getPlugins(IPlugin))" >/dev/null 2>&1 || true
	@touch $(STAMP)

# The password: the server prints it the first time it generates it, and
# says where it is kept afterwards.
PASSWORD_FILE = $${XDG_CONFIG_HOME:-$$HOME/.config}/pantasks/password

run: $(STAMP)
	@echo "starting pantasks_server with etc/demo.pro and etc/demo.conf; Control-C stops it."
	@echo "connect from another terminal:  $(BIN)/pantasks_client   (it finds the password itself)"
	@echo "  or:  nc localhost PORT  (PORT: printed below), then type  PASS <password>  (cat $(PASSWORD_FILE))"
	@echo "the web status page: open the URL after 'web page at' below (user pantasks)"
	@$(BIN)/pantasks_server --load etc/demo.pro --config etc/demo.conf

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
