#!/usr/bin/env bash
# The main job on a built-in default: a live demo in the project's own network namespaces.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec ./bin/tcpcopy demo "$@"
