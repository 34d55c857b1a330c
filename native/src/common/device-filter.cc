#include "device-filter.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

namespace berth {
namespace cgroup {

namespace {

bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  bpf_insn i;
  memset(&i, 0, sizeof i);
  i.code = code;
  i.dst_reg = dst & 0xf;
  i.src_reg = src & 0xf;
  i.off = off;
  i.imm = imm;
  return i;
}

const uint8_t R0 = 0, R1 = 1, R2 = 2, R3 = 3, R4 = 4, R5 = 5;

bpf_insn loadWord(uint8_t dst, int16_t off) { return insn(BPF_LDX | BPF_MEM | BPF_W, dst, R1, off, 0); }
bpf_insn alu32(uint8_t op, uint8_t dst, int32_t imm) { return insn(BPF_ALU | op | BPF_K, dst, 0, 0, imm); }
bpf_insn jneImm(uint8_t dst, int32_t imm, int16_t off) { return insn(BPF_JMP | BPF_JNE | BPF_K, dst, 0, off, imm); }
bpf_insn jneReg(uint8_t dst, uint8_t src, int16_t off) { return insn(BPF_JMP | BPF_JNE | BPF_X, dst, src, off, 0); }

int accessBits(const std::string& a) {
  int bits = 0;
  for (char ch : a) bits |= ch == 'm' ? BPF_DEVCG_ACC_MKNOD : ch == 'r' ? BPF_DEVCG_ACC_READ : ch == 'w' ? BPF_DEVCG_ACC_WRITE : 0;
  return bits;
}

// The context is struct bpf_cgroup_dev_ctx: access_type (type in the low
// 16 bits, access in the high), major, minor. R2..R5 hold them; each rule
// is a run of "skip to the next rule unless this matches" jumps ending in
// "return 1".
std::vector<bpf_insn> program(const std::vector<DeviceRule>& rules) {
  std::vector<bpf_insn> p = {
      loadWord(R2, 0), alu32(BPF_AND, R2, 0xffff),
      loadWord(R3, 0), alu32(BPF_RSH, R3, 16),
      loadWord(R4, 4), loadWord(R5, 8),
  };
  for (const auto& r : rules) {
    std::vector<bpf_insn> block;
    std::vector<size_t> jumps;  // indexes of the jumps to the next rule
    if (r.type != 'a') {
      jumps.push_back(block.size());
      block.push_back(jneImm(R2, r.type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR, 0));
    }
    int bits = accessBits(r.access);
    if (bits != (BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE)) {
      // Allowed when every bit asked for is in the rule: (access & bits) == access.
      block.push_back(insn(BPF_ALU | BPF_MOV | BPF_X, R1, R3, 0, 0));
      block.push_back(alu32(BPF_AND, R1, bits));
      jumps.push_back(block.size());
      block.push_back(jneReg(R1, R3, 0));
    }
    if (r.major >= 0) {
      jumps.push_back(block.size());
      block.push_back(jneImm(R4, static_cast<int32_t>(r.major), 0));
    }
    if (r.minor >= 0) {
      jumps.push_back(block.size());
      block.push_back(jneImm(R5, static_cast<int32_t>(r.minor), 0));
    }
    block.push_back(insn(BPF_ALU64 | BPF_MOV | BPF_K, R0, 0, 0, 1));
    block.push_back(insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
    for (size_t j : jumps) block[j].off = static_cast<int16_t>(block.size() - j - 1);
    p.insert(p.end(), block.begin(), block.end());
  }
  p.push_back(insn(BPF_ALU64 | BPF_MOV | BPF_K, R0, 0, 0, 0));
  p.push_back(insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
  return p;
}

long bpf(int cmd, union bpf_attr* attr) { return syscall(SYS_bpf, cmd, attr, sizeof *attr); }

}  // namespace

bool attachDeviceFilter(const std::string& dir, const std::vector<DeviceRule>& rules, std::string* err) {
  auto insns = program(rules);
  static char log[4096];
  union bpf_attr load;
  memset(&load, 0, sizeof load);
  load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  load.insns = reinterpret_cast<uint64_t>(insns.data());
  load.insn_cnt = static_cast<uint32_t>(insns.size());
  load.license = reinterpret_cast<uint64_t>("Apache");
  log[0] = 0;
  int prog = static_cast<int>(bpf(BPF_PROG_LOAD, &load));
  if (prog < 0 && errno != EPERM) {
    // Again with the verifier's log, only to say why.
    int first = errno;
    load.log_buf = reinterpret_cast<uint64_t>(log);
    load.log_size = sizeof log;
    load.log_level = 1;
    bpf(BPF_PROG_LOAD, &load);
    log[sizeof log - 1] = 0;
    errno = first;
  }
  if (prog < 0) {
    if (err)
      *err = std::string("cannot load the device cgroup program (cgroup v2 restricts devices through BPF): ") + strerror(errno) +
             (errno == EPERM ? "; the kernel allows it to root only (CAP_BPF or CAP_SYS_ADMIN)" : "") + (log[0] ? std::string(" ") + log : "");
    return false;
  }
  int cg = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  union bpf_attr at;
  memset(&at, 0, sizeof at);
  at.target_fd = static_cast<uint32_t>(cg);
  at.attach_bpf_fd = static_cast<uint32_t>(prog);
  at.attach_type = BPF_CGROUP_DEVICE;
  // Several programs may sit along the path (systemd's, ours); a request
  // must pass every one of them.
  at.attach_flags = BPF_F_ALLOW_MULTI;
  bool ok = cg >= 0 && bpf(BPF_PROG_ATTACH, &at) == 0;
  if (!ok && err) *err = "cannot attach the device cgroup program to " + dir + ": " + strerror(errno);
  if (cg >= 0) close(cg);
  close(prog);
  return ok;
}

}  // namespace cgroup
}  // namespace berth
