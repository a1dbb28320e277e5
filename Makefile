PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/exaop demo
	@echo "exaop is in $(BIN): '. $(BIN)/activate' puts it on your PATH (see the README's Quick start)"

test: $(STAMP)
	tools/system-packages
	$(BIN)/ruff check src tests bench tools
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests bench tools

bench: $(STAMP)
	$(BIN)/python bench/rpc_throughput.py
	$(BIN)/python bench/lifecycle.py
	$(BIN)/python bench/store_commit.py

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache
