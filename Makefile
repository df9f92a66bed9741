# foveal — two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-dev
DEMO   := demo

.PHONY: help demo test bench bench-accuracy clean

help: ## Show this help
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP) ## Create .venv, install, train + evaluate + predict on a built-in dataset
	@rm -rf $(DEMO) && mkdir -p $(DEMO)/inbox
	$(BIN)/foveal data export digits $(DEMO)/digits
	$(BIN)/foveal train $(DEMO)/digits --model svm --features pixels --out $(DEMO)/run
	$(BIN)/foveal eval $(DEMO)/run/model $(DEMO)/digits --json $(DEMO)/eval.json
	@for d in 0 3 7 9; do cp "$$(ls $(DEMO)/digits/test/$$d/*.png | head -n 1)" $(DEMO)/inbox/; done
	$(BIN)/foveal predict $(DEMO)/run/model $(DEMO)/inbox --top-k 2
	@$(BIN)/python -c "import json; m = json.load(open('$(DEMO)/eval.json'))['metrics']; \
	print(f\"\nsummary: test accuracy {m['accuracy']:.4f}, macro F1 {m['macro_f1']:.4f} -- bundle in $(DEMO)/run/model\")"

test: $(STAMP) ## Create .venv if needed, install with dev extras, run the test suite
	$(BIN)/python -m pytest -n 2 -p no:cacheprovider

bench: $(STAMP) ## Run the benchmarks (ratios against references measured in the same run)
	$(BIN)/python bench/run.py
	$(BIN)/python bench/trainer.py
	$(BIN)/python bench/serve.py
	$(BIN)/python bench/compress.py
	$(BIN)/python bench/distill.py
	$(BIN)/python bench/time_to_accuracy.py

bench-accuracy: $(STAMP) ## Reproduce the held-out accuracies of the README (about 2 min)
	$(BIN)/python bench/accuracy.py

clean: ## Remove the demo output and run folders (keeps .venv)
	rm -rf $(DEMO) runs
