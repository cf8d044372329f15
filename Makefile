# eblagh — `make demo` (terminal chat on the embedded default) and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: install demo test lint unit bench bench-import bench-nlp bench-delivery bench-api bench-conversation check-external clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) (Python 3.11)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

demo: install
	$(BIN)/eblagh shell --demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

unit: install
	$(BIN)/pytest -q

test: lint unit

bench: bench-import bench-nlp bench-delivery bench-api bench-conversation

bench-import: install
	$(BIN)/python bench/imports.py

bench-nlp: install
	$(BIN)/python bench/nlp.py

bench-delivery: install
	$(BIN)/python bench/delivery.py

bench-api: install
	$(BIN)/python bench/api.py

bench-conversation: install
	$(BIN)/python bench/conversation.py --memory

# eblagh run against a third-party Bot API emulator (npm telegram-test-api; needs node and npm):
# aiogram and ptb, long polling and webhook. See docs/external-check.md.
check-external: install
	$(BIN)/python scripts/external_botapi_check.py --framework all --mode all

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
