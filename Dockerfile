# syntax=docker/dockerfile:1
# One image for both roles of the pod: `serve` (the default) and `reloader` (the sidecar).
#
#   docker build -t reverse-proxy .
#   podman build -t reverse-proxy .
#
# A registry behind a TLS-intercepting proxy needs its CA bundle; pass it as a build secret so it
# never lands in a layer:  --secret id=npm-ca,src=/etc/ssl/certs/ca-certificates.crt
# NODE_IMAGE lets a build use a locally made base with the same layout as the official one.
ARG NODE_IMAGE=node:24-slim

# ---- build: compile TypeScript to dist/ -------------------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: no dependency needs an install script to build, and the `node` devDependency's
# script would fetch a second Node binary the image already has.
RUN --mount=type=cache,id=reverse-proxy-npm,target=/root/.npm \
    --mount=type=secret,id=npm-ca \
    if [ -s /run/secrets/npm-ca ]; then export NPM_CONFIG_CAFILE=/run/secrets/npm-ca; fi; \
    npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npx tsc -p tsconfig.build.json

# ---- production dependencies only ---------------------------------------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /src
COPY package.json package-lock.json ./
RUN --mount=type=cache,id=reverse-proxy-npm,target=/root/.npm \
    --mount=type=secret,id=npm-ca \
    if [ -s /run/secrets/npm-ca ]; then export NPM_CONFIG_CAFILE=/run/secrets/npm-ca; fi; \
    npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# ---- runtime ------------------------------------------------------------------------------------
FROM ${NODE_IMAGE}
# tini as PID 1: forwards SIGTERM to the master (which drains) and reaps any orphaned process.
# socat: for people, `kubectl exec … -- socat - UNIX-CONNECT:/run/reverse-proxy/admin.sock`.
# The package managers of the base image are not needed at run time: less to patch, less to exploit.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini socat \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin \
 && rm -rf /usr/local/lib/node_modules /opt/yarn-* \
 && rm -f /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack /usr/local/bin/yarn /usr/local/bin/yarnpkg
# A fixed UID/GID that the chart's runAsUser/fsGroup match; no shell, no home to write to.
RUN groupadd --gid 10001 reverse-proxy \
 && useradd --no-log-init --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin reverse-proxy
WORKDIR /app
COPY --from=deps /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
COPY bin ./bin
RUN ln -s /app/bin/reverse-proxy.js /usr/local/bin/reverse-proxy \
 && mkdir -p /run/reverse-proxy /etc/reverse-proxy \
 && chown reverse-proxy:reverse-proxy /run/reverse-proxy
ENV NODE_ENV=production
USER 10001:10001
EXPOSE 8080
ENTRYPOINT ["/usr/bin/tini", "--", "reverse-proxy"]
CMD ["serve"]
