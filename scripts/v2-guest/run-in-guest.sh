#!/usr/bin/env bash
# Runs one shell command line in the pure cgroup v2 guest, from this
# directory of this machine, and exits with its status. Software emulation
# (no KVM here): slow, so run there only what needs v2.
#   scripts/v2-guest/run-in-guest.sh 'node --test dist/test/cgroup-v2.test.js'
set -euo pipefail
cd "$(dirname "$0")/../.."
guest=build/v2-guest
if ! command -v qemu-system-x86_64 >/dev/null; then
  echo "the cgroup v2 tier needs qemu-system-x86_64 (Debian: qemu-system-x86); run npm run setup" >&2
  exit 1
fi
bash scripts/v2-guest/make-guest.sh
share=$(mktemp -d /tmp/berth-v2-share.XXXXXX)
trap 'rm -rf "$share"' EXIT
cp scripts/v2-guest/stage2.sh "$share/"
cp "$guest/version" "$share/"
ln -s "$PWD/$guest/modules" "$share/modules"
pwd > "$share/cwd"
printf '%s\n' "$1" > "$share/command.sh"
cpus=$(nproc)
# No network device: nothing leaves this machine. The serial console is
# the guest's output; the status comes back through the share.
qemu-system-x86_64 -machine q35 -accel tcg,thread=multi -cpu max -smp "$cpus" -m "${BERTH_V2_MEMORY:-3072}" \
  -kernel "$guest/vmlinuz" -initrd "$guest/initramfs.gz" \
  -append "console=ttyS0 cgroup_no_v1=all systemd.unified_cgroup_hierarchy=1 panic=-1 quiet loglevel=3" \
  -virtfs "local,path=/,mount_tag=hostroot,security_model=passthrough,readonly=on,multidevs=remap" \
  -virtfs "local,path=$share,mount_tag=share,security_model=passthrough,multidevs=remap" \
  -nic none -nographic -no-reboot -serial mon:stdio -display none < /dev/null
if [ ! -s "$share/status" ]; then
  echo "the cgroup v2 guest stopped without an exit status (see its console above)" >&2
  exit 1
fi
exit "$(cat "$share/status")"
