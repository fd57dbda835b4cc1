# `make demo`: set up and crawl the built-in replica marketplace. `make test`: the test suite.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test bench install clean

$(BIN)/thriftwatch: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/thriftwatch

demo: install
	$(BIN)/thriftwatch demo --db var/demo.db

test: install
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python bench/crawl.py

clean:
	rm -rf $(VENV) var build *.egg-info
