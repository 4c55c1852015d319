# The two commands a newcomer runs (see README): `make demo` and `make test`.
# Both create .venv and install what they need; `make test` also installs Debian's chromium,
# postgresql, LibreOffice Calc and GStreamer when they are missing.
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
# LibreOffice Calc (a spreadsheet we did not write opens the register: no formula may run); Noto
# fonts (the pages' screenshots and the report's PDF, which embeds them) and poppler (the report's
# tests read the PDF back: pdftotext, pdftoppm).
# GStreamer as an encoder we did not write (tests/gst_client.py, run on Debian's python3 with its
# PyGObject): webrtcbin, DTLS and SRTP (bad), libnice (nice), x264enc (ugly), the H.264 decoder
# (libav), the RTP payloaders (good), test sources and Opus (base). coturn: a TURN server the WHIP/WHEP
# tests relay through (tests/test_webrtc_interop.py; started by the test, no service).
GSTREAMER_PACKAGES := gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good \
	gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-nice gstreamer1.0-libav \
	python3-gi gir1.2-gstreamer-1.0 gir1.2-gst-plugins-base-1.0 gir1.2-gst-plugins-bad-1.0

system-packages:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	test -f /usr/share/fonts/truetype/noto/NotoSans-Regular.ttf || missing="$$missing fonts-noto-core"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v soffice >/dev/null 2>&1 || missing="$$missing libreoffice-calc-nogui"; \
	command -v pdftoppm >/dev/null 2>&1 || missing="$$missing poppler-utils"; \
	command -v ffmpeg >/dev/null 2>&1 || missing="$$missing ffmpeg"; \
	command -v turnserver >/dev/null 2>&1 || missing="$$missing coturn"; \
	for pkg in $(GSTREAMER_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$pkg 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$pkg"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq $$missing >/dev/null; fi

test: $(STAMP) system-packages
	$(BIN)/ruff check server moderation stream notify reports tests bench
	$(BIN)/mypy server moderation stream notify reports tests bench
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python bench/intake.py

# The README's pictures (docs/screenshots/) and the browser tests' others (tests/artifacts/): the
# browser tests with --screenshots. Without it (make test) they go to each test's tmp dir.
.PHONY: screenshots
screenshots: $(STAMP) system-packages
	$(BIN)/python -m pytest -q -m browser --screenshots $(PYTEST_ARGS)
