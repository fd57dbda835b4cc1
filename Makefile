# `make demo`: set up and crawl the built-in replica marketplace. `make test`: the test suite.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# apt-get needs root; as another user, run `make APT="sudo apt-get" demo`.
APT    ?= apt-get

.PHONY: demo test test-fast lint bench fast install chromium clean

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

demo: install
	$(BIN)/thriftwatch demo --db var/demo.db

test: install
	$(BIN)/python -m pytest

lint: $(BIN)/thriftwatch
	$(BIN)/ruff check .

# While editing: the pure tests only (no crawl, Chromium, scrapyd or compiler), on every core
# (pytest-xdist); under a minute on two.
test-fast: $(BIN)/thriftwatch
	$(BIN)/python -m pytest -q -n auto -m "not (crawl or browser or scrapyd or build)"

# The flagger's hot modules compiled with mypyc (crawler/flagging/_compiled/); needs a C compiler.
fast: install
	$(BIN)/pip install --quiet -e '.[test,fast]'
	$(BIN)/thriftwatch compile

bench: install fast
	$(BIN)/python bench/crawl.py
	$(BIN)/python bench/store.py
	THRIFTWATCH_PURE=1 $(BIN)/python bench/flag.py
	$(BIN)/python bench/flag.py
	$(BIN)/python bench/sellers.py

clean:
	rm -rf $(VENV) var build *.egg-info crawler/flagging/_compiled
