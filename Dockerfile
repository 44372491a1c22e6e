# syntax=docker/dockerfile:1
# Parley: build with `docker build -t parley .`, or through docker-compose.yml (see deploy/README.md).
# Node 24 runs the TypeScript sources directly (type stripping): there is no compile step.
# better-sqlite3 ships prebuilt Node-API binaries; the toolchain stays for any native addon that
# has none for this platform (node-gyp then builds against the headers in this image).

# --- build: production dependencies ---------------------------------------------------------------
FROM node:24-bookworm-slim AS build
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
ENV npm_config_nodedir=/usr/local
WORKDIR /app
# package.json points @matrix-org/matrix-sdk-crypto-nodejs at stubs/: it must be here before npm ci.
COPY package.json package-lock.json ./
COPY stubs/ stubs/
RUN npm ci --omit=dev --no-audit --no-fund \
  && npm cache clean --force
COPY src/ src/
COPY config/ config/

# --- runtime: node, the dependencies and the sources; no compiler -------------------------------
FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
# Owned by root, so the service cannot modify its own code.
COPY --from=build /app /app
# /data holds the config, the registration, the JWT secret and the SQLite database. Created here
# and owned by `node`, so a fresh named volume mounted on it is writable by the service.
RUN mkdir /data && chown node:node /data
USER node
# 8080: the WebSocket gateway for native clients. 9009: the appservice listener, for the
# homeserver only (do not publish it).
EXPOSE 8080 9009
ENTRYPOINT ["node", "--disable-warning=DEP0060", "src/main.ts"]
CMD ["start", "--config", "/data/parley.yaml"]
