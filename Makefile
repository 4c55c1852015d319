# The two commands a newcomer runs (see README): `make demo` and `make test`.
# Both create .venv and install what they need; `make test` also installs Debian's chromium,
# postgresql and LibreOffice Calc when they are missing.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

.PHONY: demo test install system-packages bench
install: $(STAMP)

demo: $(STAMP)
	$(BIN)/doithoai demo

# Debian's chromium for the browser tests (Playwright drives it; it never downloads its own browser),
# Debian's postgresql binaries (the tests start their own throwaway cluster; no service needed) and
# LibreOffice Calc (a spreadsheet we did not write opens the register: no formula may run).
system-packages:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium fonts-noto-core"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v soffice >/dev/null 2>&1 || missing="$$missing libreoffice-calc-nogui"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq $$missing >/dev/null; fi

test: $(STAMP) system-packages
	$(BIN)/ruff check server moderation stream tests bench
	$(BIN)/mypy server moderation stream tests bench
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python bench/intake.py

# The README's pictures (docs/screenshots/) and the browser tests' others (tests/artifacts/): the
# browser tests with --screenshots. Without it (make test) they go to each test's tmp dir.
.PHONY: screenshots
screenshots: $(STAMP) system-packages
	$(BIN)/python -m pytest -q -m browser --screenshots $(PYTEST_ARGS)
