#include "security.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "../common/fsutil.h"

namespace berth {

namespace {

// Docker's default set (moby oci/caps/defaults.go lists the same fourteen).
const int kDefaultCaps[] = {CAP_CHOWN,  CAP_DAC_OVERRIDE, CAP_FSETID,     CAP_FOWNER,           CAP_MKNOD,
                            CAP_NET_RAW, CAP_SETGID,      CAP_SETUID,     CAP_SETFCAP,          CAP_SETPCAP,
                            CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT, CAP_KILL, CAP_AUDIT_WRITE};

bool inDefaultSet(int cap) {
  for (int c : kDefaultCaps)
    if (c == cap) return true;
  return false;
}

int lastCap() {
  std::string s;
  if (readFile("/proc/sys/kernel/cap_last_cap", &s)) return static_cast<int>(parseInt64(s, CAP_LAST_CAP));
  return CAP_LAST_CAP;
}

std::string errnoText(const char* what) { return std::string(what) + ": " + strerror(errno); }

}  // namespace

bool dropBoundingCapabilities(std::string* err) {
  int last = lastCap();
  for (int cap = 0; cap <= last; cap++) {
    if (inDefaultSet(cap)) continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) {
      *err = errnoText("dropping capability from the bounding set");
      return false;
    }
  }
  return true;
}

bool setProcessCapabilities(bool root, std::string* err) {
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2];
  memset(data, 0, sizeof data);
  if (root) {
    for (int cap : kDefaultCaps) {
      data[cap / 32].effective |= 1u << (cap % 32);
      data[cap / 32].permitted |= 1u << (cap % 32);
    }
  }
  if (syscall(SYS_capset, &hdr, data) != 0) {
    *err = errnoText("setting capabilities");
    return false;
  }
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  return true;
}

bool setNoNewPrivs(std::string* err) {
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    *err = errnoText("setting no_new_privs");
    return false;
  }
  return true;
}

// A deny list that covers what Docker's default profile (moby
// profiles/seccomp/default.json) refuses to a container with the default
// capabilities: calls that reach past the container (modules, kexec, clocks,
// keyrings, mounts, namespaces, bpf, perf, the kernel log, NUMA policy,
// fanotify, vsock) fail with EPERM, personality() takes only the personas
// Docker allows; everything else is allowed.
bool installSeccomp(std::string* err) {
#if defined(__x86_64__)
  const unsigned arch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
  const unsigned arch = AUDIT_ARCH_AARCH64;
#else
#error "berth-shim: seccomp filter needs an architecture"
#endif
  const int denied[] = {
      SYS_acct, SYS_add_key, SYS_bpf, SYS_clock_adjtime, SYS_clock_settime, SYS_delete_module,
      SYS_finit_module, SYS_init_module, SYS_kexec_load, SYS_kexec_file_load, SYS_keyctl,
      SYS_lookup_dcookie, SYS_mount, SYS_move_pages, SYS_name_to_handle_at, SYS_open_by_handle_at,
      SYS_perf_event_open, SYS_pivot_root, SYS_process_vm_readv, SYS_process_vm_writev, SYS_quotactl,
      SYS_reboot, SYS_request_key, SYS_setns, SYS_settimeofday, SYS_swapon, SYS_swapoff, SYS_umount2,
      SYS_unshare, SYS_userfaultfd, SYS_mbind, SYS_set_mempolicy, SYS_get_mempolicy, SYS_kcmp,
      // Docker gives these only with CAP_SYSLOG, CAP_SYS_NICE, CAP_SYS_ADMIN,
      // CAP_SYS_TTY_CONFIG or CAP_SYS_PACCT, none of which a container has:
      // syslog would read the host's kernel log where dmesg_restrict is 0,
      // fanotify_init watches host-wide mounts since Linux 5.13.
      SYS_syslog, SYS_migrate_pages, SYS_fanotify_init, SYS_vhangup,
#ifdef SYS_quotactl_fd
      SYS_quotactl_fd,
#endif
#ifdef SYS_set_mempolicy_home_node
      SYS_set_mempolicy_home_node,
#endif
#ifdef SYS_io_uring_setup
      SYS_io_uring_setup, SYS_io_uring_enter, SYS_io_uring_register,
#endif
#ifdef SYS_fsopen
      SYS_fsopen, SYS_fsconfig, SYS_fsmount, SYS_fspick, SYS_move_mount, SYS_open_tree,
#endif
#ifdef SYS_mount_setattr
      SYS_mount_setattr,
#endif
#if defined(__x86_64__)
      SYS_iopl, SYS_ioperm, SYS_create_module, SYS_get_kernel_syms, SYS_query_module, SYS_nfsservctl,
      SYS_uselib, SYS_ustat, SYS_sysfs, SYS__sysctl,
#endif
  };
  const unsigned kNsFlags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID |
                            CLONE_NEWNET | CLONE_NEWCGROUP;
  const unsigned kEperm = SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA);
  std::vector<sock_filter> f;
  auto stmt = [&](unsigned short code, unsigned k) { f.push_back(BPF_STMT(code, k)); };
  auto jump = [&](unsigned short code, unsigned k, unsigned char jt, unsigned char jf) {
    f.push_back(BPF_JUMP(code, k, jt, jf));
  };
  // Other ABIs (i386 via int 0x80) would bypass a list keyed on native numbers.
  stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
  jump(BPF_JMP | BPF_JEQ | BPF_K, arch, 1, 0);
  stmt(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS);
  stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
#if defined(__x86_64__)
  jump(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1);  // x32 ABI
  stmt(BPF_RET | BPF_K, kEperm);
#endif
  // clone3 passes flags in memory the filter cannot read: answer ENOSYS so
  // libc falls back to clone, whose flags we can check.
  jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone3, 0, 1);
  stmt(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS);
  jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone, 0, 3);
  stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0]));
  jump(BPF_JMP | BPF_JSET | BPF_K, kNsFlags, 0, 1);
  stmt(BPF_RET | BPF_K, kEperm);
  stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
  // personality(): only Linux, PER_LINUX32, UNAME26 (alone or with
  // PER_LINUX32) and the 0xffffffff query, as Docker allows. Any other
  // persona (READ_IMPLIES_EXEC, ADDR_NO_RANDOMIZE...) is EPERM.
  const unsigned kPersonas[] = {0x0, 0x8, 0x20000, 0x20008, 0xffffffff};
  const unsigned char nPersonas = sizeof kPersonas / sizeof kPersonas[0];
  jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_personality, 0, static_cast<unsigned char>(nPersonas + 5));
  stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0]) + 4);  // high word must be 0
  jump(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, static_cast<unsigned char>(nPersonas + 1));
  stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0]));
  for (unsigned char i = 0; i < nPersonas; i++)
    jump(BPF_JMP | BPF_JEQ | BPF_K, kPersonas[i], static_cast<unsigned char>(nPersonas - i), 0);
  stmt(BPF_RET | BPF_K, kEperm);
  stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  // socket(AF_VSOCK): a channel to the hypervisor host, refused as Docker does.
  jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_socket, 0, 3);
  stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0]));
  jump(BPF_JMP | BPF_JEQ | BPF_K, 40 /* AF_VSOCK */, 0, 1);
  stmt(BPF_RET | BPF_K, kEperm);
  stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
  for (int nr : denied) {
    jump(BPF_JMP | BPF_JEQ | BPF_K, static_cast<unsigned>(nr), 0, 1);
    stmt(BPF_RET | BPF_K, kEperm);
  }
  stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  struct sock_fprog prog = {static_cast<unsigned short>(f.size()), f.data()};
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
    *err = errnoText("installing the seccomp filter");
    return false;
  }
  return true;
}

}  // namespace berth
