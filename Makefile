# `make demo`: set up and crawl the built-in replica marketplace. `make test`: the test suite.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# apt-get needs root; as another user, run `make APT="sudo apt-get" demo`.
APT    ?= apt-get

.PHONY: demo test test-fast lint bench fast install chromium redis-server clean

$(BIN)/thriftwatch: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/thriftwatch chromium

# Debian's Chromium, for the platforms whose results only a browser sees.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	    DEBIAN_FRONTEND=noninteractive $(APT) update -qq && \
	    DEBIAN_FRONTEND=noninteractive $(APT) install -y -qq chromium >/dev/null; }

# Debian's redis-server, for the shared crawl frontier's tests (they start their own, on loopback).
redis-server:
	@command -v redis-server >/dev/null 2>&1 || { \
	    DEBIAN_FRONTEND=noninteractive $(APT) update -qq && \
	    DEBIAN_FRONTEND=noninteractive $(APT) install -y -qq redis-server >/dev/null; }

demo: install
	$(BIN)/thriftwatch demo --db var/demo.db

test: install redis-server
	$(BIN)/python -m pytest

lint: $(BIN)/thriftwatch
	$(BIN)/ruff check .

# While editing: the pure tests only (no crawl, Chromium, scrapyd, compiler or Redis), on every
# core (pytest-xdist); under a minute on two.
test-fast: $(BIN)/thriftwatch
	$(BIN)/python -m pytest -q -n auto -m "not (crawl or browser or scrapyd or build or redis)"

# The flagger's hot modules compiled with mypyc (crawler/flagging/_compiled/); needs a C compiler.
fast: install
	$(BIN)/pip install --quiet -e '.[test,fast]'
	$(BIN)/thriftwatch compile

bench: install fast redis-server
	$(BIN)/python bench/crawl.py
	$(BIN)/python bench/store.py
	THRIFTWATCH_PURE=1 $(BIN)/python bench/flag.py
	$(BIN)/python bench/flag.py
	$(BIN)/python bench/sellers.py
	$(BIN)/python bench/scaleout.py

clean:
	rm -rf $(VENV) var build *.egg-info crawler/flagging/_compiled
