.PHONY: demo test lint docs sandbox
demo:  ## install and run the demo against the embedded sandbox
	scripts/demo
test:  ## install and run lint + the whole test suite
	scripts/test
docs:  ## regenerate action.yml and the README tables from src/build_status/inputs.py
	.venv/bin/python scripts/sync_docs.py
sandbox:  ## serve the Bitbucket sandbox on http://127.0.0.1:7990
	.venv/bin/build-status sandbox --port 7990
