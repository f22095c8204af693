# tcpcopy and intercept in one image (Debian 12 slim). Build: docker build -t tcpcopy .
# With no registry: bash scripts/container-base.sh, then podman build --network host
#   --build-arg NODE_IMAGE=localhost/tcpcopy-base:bookworm-node20 -t tcpcopy .
# Run (the tools need the host's network and packet capture / raw sockets):
#   docker run --rm --network host --cap-add NET_RAW --cap-add NET_ADMIN tcpcopy tcpcopy -x 80-10.0.0.2:8080 -s 10.0.0.3 --secret-file /run/secrets/tcpcopy
#   docker run --rm --network host --cap-add NET_RAW --cap-add NET_ADMIN tcpcopy intercept -F 'tcp and src port 8080' --secret-file /run/secrets/tcpcopy
ARG NODE_IMAGE=node:20-bookworm-slim

# Stage 1: build the package and install it, which compiles the addon against the libraries' headers.
FROM ${NODE_IMAGE} AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpcap-dev libnetfilter-queue-dev libmnl-dev build-essential python3 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-fund --no-audit
COPY . .
RUN npx tsc -p tsconfig.json && node scripts/make-man.mjs \
 && npm pack --ignore-scripts \
 && TCPCOPY_REQUIRE_ADDON=1 npm install -g --prefix /opt/tcpcopy --offline --no-fund --no-audit ./tcpcopy-*.tgz

# Stage 2: the runtime libraries only; the installed package (with its built addon) from stage 1.
FROM ${NODE_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpcap0.8 libnetfilter-queue1 libmnl0 iptables \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /opt/tcpcopy /opt/tcpcopy
ENV PATH=/opt/tcpcopy/bin:$PATH MANPATH=/opt/tcpcopy/share/man
CMD ["tcpcopy", "--help"]
