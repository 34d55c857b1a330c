#!/usr/bin/env bash
# Everything Berth needs on a fresh Debian 12 machine, as root: Debian
# packages, npm packages, the native core, the TypeScript build, the base
# images and the cgroup v2 guest. Safe to run again: each step is skipped when done.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '[setup] %s\n' "$*"; }

pkgs=(busybox-static mmdebstrap iproute2 iptables runc g++ make python3 bsdutils python3-jupyter-client python3-jupyter-kernel-test python3-ipykernel python3-nbclient python3-nbformat jupyter-notebook python3-jupyter-server chromium skopeo umoci docker-registry apache2-utils qemu-system-x86 cpio uidmap passt slirp4netns munge slurmctld slurmd slurm-client tinyproxy-bin libzstd-dev podman)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done

# A user who is not root runs Berth rootless. What needs root (Debian
# packages, building into this checkout) is done once by root; the rest
# (the user's own base images) is the user's.
if [ "$(id -u)" != 0 ]; then
  if [ ${#missing[@]} -gt 0 ] || [ ! -x native/build/Release/berth-shim ] || [ ! -f dist/kernel/cli/main.js ]; then
    echo "Berth's set-up needs root once (Debian packages${missing[*]:+: ${missing[*]}}, and the build): run \`sudo npm run setup\` in $PWD, then this again." >&2
    exit 1
  fi
  if ! grep -q "^$(id -un):" /etc/subuid 2>/dev/null; then
    say "you have no subordinate id range: containers can run only as root, other owners are squashed to root. An administrator adds one with: sudo usermod --add-subuids 100000-165535 --add-subgids 100000-165535 $(id -un)"
  fi
  if [ -z "$(bin/berth images -q busybox:latest 2>/dev/null)" ]; then
    say "building the busybox image in your own store (rootless)"
    bin/berth build --network none -q -t busybox:latest images/busybox >/dev/null
  fi
  if [ -s images/debian/rootfs.tar ] && [ -z "$(bin/berth images -q debian:bookworm 2>/dev/null)" ]; then
    say "building the debian:bookworm image in your own store (rootless)"
    bin/berth build --network none -q -t debian:bookworm images/debian >/dev/null
  fi
  exit 0
fi
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -d node_modules/node-addon-api ] || [ package.json -nt node_modules/.berth-installed ]; then
  say "installing npm packages"
  npm install --no-audit --no-fund --loglevel=error
  touch node_modules/.berth-installed
fi

# Build against this machine's Node headers; nothing is downloaded.
gyp_dir=()
if [ -f /usr/include/node/node_api.h ]; then gyp_dir=(--nodedir=/usr); fi
if [ ! -f native/build/Makefile ] || [ native/binding.gyp -nt native/build/Makefile ]; then
  say "configuring the native build"
  npx --no-install node-gyp configure "${gyp_dir[@]}" --directory native >/dev/null
fi
say "building the native core (addon and berth-shim)"
npx --no-install node-gyp build "${gyp_dir[@]}" --directory native >/dev/null
say "compiling TypeScript"
npx --no-install tsc -p .
chmod +x dist/kernel/cli/main.js

mkdir -p build
if [ ! -f build/busybox-rootfs.tar ] || [ scripts/make-busybox-rootfs.sh -nt build/busybox-rootfs.tar ]; then
  say "making the busybox root filesystem tarball (fixture for the tests)"
  bash scripts/make-busybox-rootfs.sh build/busybox-rootfs.tar
fi

# Base images, built once from their Dockerfiles and reused.
cmp -s /bin/busybox images/busybox/busybox || cp /bin/busybox images/busybox/busybox
if [ -z "$(node dist/kernel/cli/main.js images -q busybox:latest 2>/dev/null)" ]; then
  say "building the busybox image (FROM scratch, Debian's busybox-static)"
  node dist/kernel/cli/main.js build --network none -q -t busybox:latest images/busybox >/dev/null
fi
if [ ! -s images/debian/rootfs.tar ]; then
  say "making the debian:bookworm root filesystem with mmdebstrap (once, about 20 s)"
  mmdebstrap --quiet --variant=minbase --format=tar bookworm images/debian/rootfs.tar.tmp
  mv images/debian/rootfs.tar.tmp images/debian/rootfs.tar
fi
if [ -z "$(node dist/kernel/cli/main.js images -q debian:bookworm 2>/dev/null)" ]; then
  say "building the debian:bookworm image (FROM scratch, ADD rootfs.tar /)"
  node dist/kernel/cli/main.js build --network none -q -t debian:bookworm images/debian >/dev/null
fi
# The notebooks' images: python3 on debian (09) and a registry (08), both
# built from Dockerfiles with inputs fetched here, so the builds need no network.
if ! ls images/python3/debs/*.deb >/dev/null 2>&1; then
  say "downloading python3 and what it needs beyond minbase (apt-get download)"
  tmp=$(mktemp -d)
  tar -xOf images/debian/rootfs.tar ./var/lib/dpkg/status | awk '/^Package:/{p=$2} /^Status: install ok installed/{print p}' | sort > "$tmp/have"
  apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces --no-enhances python3 \
    | grep -v '^ ' | grep -v '^<' | sort -u > "$tmp/need"
  mkdir -p "$tmp/debs"
  (cd "$tmp/debs" && apt-get download $(comm -23 "$tmp/need" "$tmp/have") 2>/dev/null >/dev/null || { apt-get update -qq && apt-get download $(comm -23 "$tmp/need" "$tmp/have") >/dev/null 2>&1; })
  chmod 644 "$tmp"/debs/*.deb
  rm -rf images/python3/debs && mv "$tmp/debs" images/python3/debs && rm -rf "$tmp"
fi
cmp -s /usr/bin/docker-registry images/registry/docker-registry || cp /usr/bin/docker-registry images/registry/docker-registry
if [ -z "$(node dist/kernel/cli/main.js images -q python3:bookworm 2>/dev/null)" ]; then
  say "building the python3:bookworm image (FROM debian:bookworm, the packages downloaded above)"
  node dist/kernel/cli/main.js build --network none -q -t python3:bookworm images/python3 >/dev/null
fi
if [ -z "$(node dist/kernel/cli/main.js images -q registry:2 2>/dev/null)" ]; then
  say "building the registry:2 image (Debian's docker-registry)"
  node dist/kernel/cli/main.js build --network none -q -t registry:2 images/registry >/dev/null
fi
# The pure cgroup v2 guest for npm run test:v2: Debian's kernel and a busybox initramfs.
bash scripts/v2-guest/make-guest.sh
say "ready"
