# Two commands on a fresh machine: `make run` (the service on SQLite) and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# `make run PORT=8080 HOST=0.0.0.0`: only from make's command line, so that a shell's own HOST
# (zsh sets one to the machine's name) or PORT does not move the server; else serve's defaults.
given = $(if $(and $(filter command line,$(origin $(1))),$($(1))),$(2) '$($(1))')
SERVE_ADDRESS := $(call given,HOST,--host) $(call given,PORT,--port)

run: $(BIN)/.installed
	$(BIN)/cronbase migrate
	$(BIN)/cronbase seed
	$(BIN)/cronbase serve $(SERVE_ADDRESS)

test: lint
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(BIN)/.installed
	$(BIN)/ruff format --check src tests bench
	$(BIN)/ruff check src tests bench

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis

# Benchmarks against the local PostgreSQL (bench/README.md); `make bench QUICK=1` for a short run.
.PHONY: bench
bench: $(BIN)/.installed
	$(BIN)/python bench/run.py $(if $(filter 1 yes true,$(QUICK)),--quick)
