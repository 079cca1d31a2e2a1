# syntax=docker/dockerfile:1
# IronLB image: ghcr.io/ironlb/ironlb:<version> (the tag is package.json's version; the manifests
# and the chart's appVersion name the same). One image for both components:
#   controller: runs as the non-root user below;
#   speaker:    its DaemonSet runs it as root with every capability dropped except NET_RAW
#               (and NET_ADMIN when BGP MD5 is on), for AF_PACKET/ICMPv6 sockets and TCP-MD5.

ARG NODE_IMAGE=node:20.19.5-bookworm-slim

# ---- build: TypeScript and the native addon (node-gyp needs python3, make, g++)
FROM ${NODE_IMAGE} AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# The package's install script builds the native addon, so its sources come before npm ci.
COPY package.json package-lock.json binding.gyp ./
COPY src/native ./src/native
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build \
 && test -f build/Release/ironlb_native.node \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

# ---- runtime: compiled JavaScript, production dependencies, the addon
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY --from=build /src/build/Release/ironlb_native.node ./build/Release/ironlb_native.node
# 65532: the conventional "nonroot" user; the image needs no writable path of its own.
USER 65532:65532
EXPOSE 7472 7473 9443
ENTRYPOINT ["node", "/app/dist/cli/main.js"]
CMD ["--help"]
