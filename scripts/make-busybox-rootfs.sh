#!/usr/bin/env bash
# Builds a busybox root filesystem tarball from Debian's busybox-static, the
# way the official image is laid out: /bin/busybox with one link per applet,
# plus /etc/passwd and /etc/group. The tarball is deterministic (sorted, fixed
# mtimes and owners), so every machine gets the same image ID.
set -euo pipefail
out=${1:?usage: make-busybox-rootfs.sh OUT.tar}
bb=$(command -v busybox)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/rootfs
mkdir -p "$root"/{bin,etc,home,root,tmp,var/spool/mail,var/www,usr/sbin,usr/bin}
chmod 1777 "$root/tmp"; chmod 700 "$root/root"
cp "$bb" "$root/bin/busybox"
for applet in $("$root/bin/busybox" --list); do
  [ "$applet" = busybox ] || ln -f "$root/bin/busybox" "$root/bin/$applet"
done
cat > "$root/etc/passwd" <<'P'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
P
cat > "$root/etc/group" <<'G'
root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
wheel:x:10:root
mail:x:8:
www-data:x:33:
users:x:100:
nogroup:x:65534:
G
tar --sort=name --mtime='2024-01-01 00:00:00Z' --owner=0 --group=0 --numeric-owner -C "$root" -cf "$out" .
