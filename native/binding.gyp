{
  "target_defaults": {
    "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra", "-Wno-missing-field-initializers"],
    "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"]
  },
  "targets": [
    {
      "target_name": "berth",
      "sources": ["src/addon/addon.cc", "src/common/cgroup.cc", "src/common/cgroup-common.cc", "src/common/cgroup-v1.cc", "src/common/cgroup-v2.cc", "src/common/device-filter.cc", "src/common/fsutil.cc", "src/common/in-root.cc", "src/common/untar.cc", "src/common/tar-reader.cc", "src/common/netlink.cc", "src/addon/zstd-decoder.cc", "src/addon/zstd-encoder.cc"],
      "libraries": ["-lzstd"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags_cc": ["-fexceptions"]
    },
    {
      "target_name": "berth-shim",
      "type": "executable",
      "sources": [
        "src/shim/main.cc", "src/shim/run.cc", "src/shim/container-child.cc", "src/shim/exec.cc", "src/shim/config.cc",
        "src/shim/rootfs.cc", "src/shim/cgroupfs.cc", "src/shim/mounts.cc", "src/shim/security.cc", "src/shim/identity.cc", "src/shim/process.cc",
        "src/shim/init.cc", "src/shim/tty.cc", "src/shim/logfile.cc", "src/shim/state.cc", "src/shim/proxy.cc", "src/shim/status.cc", "src/shim/rootless.cc", "src/shim/devices.cc", "src/shim/hooks.cc",
        "src/common/cgroup.cc", "src/common/cgroup-common.cc", "src/common/cgroup-v1.cc", "src/common/cgroup-v2.cc", "src/common/device-filter.cc",
        "src/common/fsutil.cc", "src/common/in-root.cc", "src/common/netlink.cc"
      ],
      "cflags_cc": ["-fno-exceptions", "-fno-rtti", "-Os", "-ffunction-sections", "-fdata-sections"],
      "ldflags": ["-static", "-Wl,--gc-sections", "-s"]
    }
  ]
}
