# The two commands a newcomer runs (see README): `make demo` and `make test`.
# Both create .venv and install what they need; `make test` also installs Debian's chromium.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

.PHONY: demo test install browser lint bench
install: $(STAMP)

demo: $(STAMP)
	$(BIN)/doithoai demo

# Debian's chromium for the browser tests (Playwright drives it; it never downloads its own browser).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium fonts-noto-core >/dev/null; }

test: $(STAMP) browser
	$(BIN)/ruff check server moderation stream tests bench
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python bench/intake.py
