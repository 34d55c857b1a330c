#!/usr/bin/env bash
# Makes the pure cgroup v2 guest in build/v2-guest (once; later runs reuse
# it): Debian's own kernel, unpacked from linux-image-amd64 with apt-get
# download and dpkg-deb -x, its module index made with busybox depmod, and
# a busybox initramfs that mounts this machine's / read-only over virtio-9p
# under a tmpfs overlay, then runs stage2.sh there.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=build/v2-guest
say() { printf '[v2-guest] %s\n' "$*"; }
if [ -f "$out/ready" ] && [ "$out/ready" -nt scripts/v2-guest/make-guest.sh ] && [ "$out/ready" -nt scripts/v2-guest/init ]; then exit 0; fi
rm -rf "$out.tmp" && mkdir -p "$out.tmp/pkg" "$out.tmp/initramfs"
cd "$out.tmp"
say "downloading Debian's kernel (linux-image-amd64)"
pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
if [ -z "$pkg" ]; then echo "no Debian kernel package (linux-image-amd64) is known to apt: run apt-get update" >&2; exit 1; fi
apt-get download "$pkg" >/dev/null 2>&1 || { apt-get update -qq && apt-get download "$pkg" >/dev/null; }
dpkg-deb -x "$pkg"_*.deb pkg
rm -f "$pkg"_*.deb
version=$(ls pkg/lib/modules)
busybox depmod -b pkg "$version"
# What the initramfs loads to reach the 9p root and lay the overlay on it.
modules=()
add() {
  local rel=$1 dep
  for dep in $(awk -v m="$rel:" '$1 == m { for (i = 2; i <= NF; i++) print $i }' "pkg/lib/modules/$version/modules.dep"); do add "$dep"; done
  [[ " ${modules[*]-} " == *" $rel "* ]] || modules+=("$rel")
}
for m in virtio_pci 9pnet_virtio 9p overlay; do
  add "$(awk -F: -v m="/$m.ko" 'index($1, m) && substr($1, length($1) - length(m) + 1) == m { print $1; exit }' "pkg/lib/modules/$version/modules.dep")"
done
mkdir -p initramfs/bin initramfs/modules initramfs/proc initramfs/sys initramfs/dev initramfs/lower initramfs/upper initramfs/newroot
cp /bin/busybox initramfs/bin/busybox
for m in "${modules[@]}"; do cp "pkg/lib/modules/$version/$m" initramfs/modules/; echo "$(basename "$m")" >> initramfs/modules/order; done
cp ../../scripts/v2-guest/init initramfs/init
chmod 755 initramfs/init
(cd initramfs && find . | cpio -o -H newc --quiet | gzip -1) > initramfs.gz
mv "pkg/boot/vmlinuz-$version" vmlinuz
mv "pkg/lib/modules" modules
rm -rf pkg initramfs
echo "$version" > version
cd ../..
rm -rf "$out" && mv "$out.tmp" "$out"
touch "$out/ready"
say "kernel $version ready in $out"
