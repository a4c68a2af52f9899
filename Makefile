# The two set-up commands: `make demo` and `make test`. Everything else they need is installed here.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=
# The console's browser tests drive Debian's Chromium and need a CJK font: each is installed when it is missing.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install demo test lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	missing=""; test -x /usr/bin/chromium || missing="chromium"; \
	  { dpkg -s fonts-noto-cjk >/dev/null 2>&1 || fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; } || missing="$$missing fonts-noto-cjk"; \
	  [ -z "$$missing" ] || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq $$missing; }
	touch $(STAMP)

install: $(STAMP)

## make demo: start omnistock on the embedded default with a seeded catalogue; prints the URL and a token.
demo: install
	$(BIN)/omnistock demo

## make test: the whole suite (unit, integration on SQLite and PostgreSQL, end-to-end).
test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

bench: install
	$(BIN)/python bench/reserve.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .demo
