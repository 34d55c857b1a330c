#!/bin/sh
# The guest's second stage, in the overlay root: the kernel's file systems,
# a pure cgroup v2 hierarchy with every controller handed down, a fresh
# tmpfs for Berth's store and run state (overlayfs cannot use 9p as an upper
# layer), then the command the host left in the share. Its exit status goes
# back through the share; the guest powers off.
share=/mnt/v2-share
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup
mkdir -p /dev/pts /dev/shm
mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts
mount -t tmpfs -o mode=1777 shm /dev/shm
# Scratch space for Berth's stores (TMPDIR): a tmpfs, since overlayfs takes
# no overlay as an upper layer. /tmp itself stays this machine's (under the
# overlay), where a checkout under /tmp is found.
mkdir -p /scratch
mount -t tmpfs -o mode=1777 scratch /scratch
export TMPDIR=/scratch
mount -t tmpfs -o mode=755 run /run
mkdir -p "/lib/modules/$(cat "$share/version")"
mount --bind "$share/modules/$(cat "$share/version")" "/lib/modules/$(cat "$share/version")"
# The kernel asks /sbin/modprobe for what it needs on the way (crc32c for
# ext4, netfilter parts); this machine has none, busybox has one.
[ -e /sbin/modprobe ] || ln -s /bin/busybox /sbin/modprobe
for m in bridge veth loop overlay ext4 crc32c_generic; do busybox modprobe "$m" 2>/dev/null; done
# What a rootless user's outbound network needs and cannot load itself:
# /dev/net/tun for pasta, and NAT for the bridges in the user's namespace.
for m in tun nf_tables nft_compat nft_chain_nat nft_masq xt_MASQUERADE iptable_nat; do busybox modprobe "$m" 2>/dev/null; done
chmod 666 /dev/net/tun  # as udev's default rules make it on a Debian host
hostname v2-guest
ip link set lo up
# Hand every controller down from the root, as systemd does on a v2 host.
controllers=$(cat /sys/fs/cgroup/cgroup.controllers)
for c in $controllers; do echo "+$c" > /sys/fs/cgroup/cgroup.subtree_control; done
echo "v2-guest: cgroup2 with: $(cat /sys/fs/cgroup/cgroup.subtree_control)"
# A subtree delegated to an unprivileged user (nobody), as systemd's
# Delegate=yes does for a user's service: the directory and the files that
# create and populate children are the user's; limits of the subtree itself
# stay root's. Rootless containers get their limits from such a subtree.
d=/sys/fs/cgroup/delegated
mkdir -p $d/session
for c in $(cat $d/cgroup.controllers); do echo "+$c" > $d/cgroup.subtree_control; done
chown 65534:65534 $d $d/cgroup.procs $d/cgroup.subtree_control $d/cgroup.threads $d/session $d/session/cgroup.procs $d/session/cgroup.threads
export BERTH_DELEGATED_CGROUP=$d
export HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
cd "$(cat "$share/cwd")"
sh "$share/command.sh" > /dev/console 2>&1
echo $? > "$share/status"
sync
poweroff -f
