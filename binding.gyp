{
  "targets": [
    {
      "target_name": "berth",
      "sources": [
        "native/addon/addon.cc",
        "native/addon/errors.cc",
        "native/addon/fds.cc",
        "native/addon/seccomp.cc",
        "native/addon/dgram.cc",
        "native/addon/process.cc",
        "native/addon/fs.cc",
        "native/addon/fsops.cc",
        "native/addon/bpf.cc",
        "native/addon/eventfd.cc",
        "native/addon/netlink.cc",
        "native/addon/netsock.cc",
        "native/addon/msg.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-fno-exceptions"],
      "libraries": ["-ldl"]
    },
    {
      "target_name": "berth-setup",
      "type": "executable",
      "sources": [
        "native/setup/main.cc",
        "native/setup/plan.cc",
        "native/setup/report.cc",
        "native/setup/resolve.cc",
        "native/setup/ns.cc",
        "native/setup/mounts.cc",
        "native/setup/process.cc",
        "native/setup/console.cc",
        "native/setup/hooks.cc",
        "native/setup/overlay.cc",
        "native/setup/stubinit.cc"
      ],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-O2", "-fno-exceptions", "-fno-rtti", "-fno-asynchronous-unwind-tables"],
      "ldflags": ["-static"],
      "libraries": ["-lc"]
    },
    {
      "target_name": "berth-front",
      "type": "executable",
      "sources": ["native/front/main.cc"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-O2", "-fno-exceptions", "-fno-rtti", "-fno-asynchronous-unwind-tables"],
      "ldflags": ["-static"],
      "libraries": ["-lc"]
    }
  ]
}
