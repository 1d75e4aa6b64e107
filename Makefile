# Doorstep's two set-up commands: `make run` (the main job) and `make test` (the whole suite).
# Both install what they need on a fresh Debian machine: Debian tools, the Python virtual
# environment from requirements.lock, and the npm packages the interop tests use (tests/js).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEB_PACKAGES := poppler-utils qpdf softhsm2 fonts-dejavu-core libnss3-tools
TYPED_PACKAGES := sync dossiers signing field api
PYTEST_ARGS ?=

.PHONY: run test quick lint typecheck deps debs clean

run: deps
	$(BIN)/doorstep serve --demo

test: deps lint typecheck
	$(BIN)/pytest $(PYTEST_ARGS)

# The suite without slow soak/differential tests, for the edit-test loop.
quick: deps
	$(BIN)/pytest -m "not slow" -x -q $(PYTEST_ARGS)

lint: deps
	$(BIN)/ruff check .

typecheck: deps
	$(BIN)/mypy $(wildcard $(TYPED_PACKAGES))

deps: debs $(VENV)/.installed tests/js/node_modules/.installed

debs:
	@missing=""; for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

$(VENV)/.installed: pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.lock
	$(BIN)/pip install -q --no-deps -e .
	touch $@

tests/js/node_modules/.installed: tests/js/package.json tests/js/package-lock.json
	cd tests/js && npm ci --no-audit --no-fund --loglevel=error
	touch $@

clean:
	rm -rf $(VENV) tests/js/node_modules .mypy_cache .ruff_cache .pytest_cache
