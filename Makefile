# The two commands a newcomer runs. Both install what they need first (Node 24, npm packages,
# a pinned Synapse in .venv-synapse/).
.PHONY: dev cluster test bench fuzz typecheck lint setup clean

setup:
	@bash -c 'source scripts/env.sh && ensure_node && ensure_deps && npm run --silent build' && scripts/synapse.sh install

dev:
	@scripts/dev.sh

# Two nodes over a private PostgreSQL and Redis, beside a local Synapse (data in .dev-cluster/).
cluster:
	@scripts/cluster.sh

test: setup
	@scripts/test.sh

bench: setup
	@bash -c 'source scripts/env.sh && ensure_node && npm run --silent build && npm run --silent bench'

fuzz: setup
	@bash -c 'source scripts/env.sh && ensure_node && npm run --silent fuzz'

typecheck: setup
	@bash -c 'source scripts/env.sh && ensure_node && npm run --silent typecheck'

lint: setup
	@bash -c 'source scripts/env.sh && ensure_node && npm run --silent lint'

clean:
	rm -rf .test-data
