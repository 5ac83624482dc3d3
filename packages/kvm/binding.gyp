# Build recipe for the Kiln KVM addon (node-gyp). kiln_kvm.cc: ioctls, mmap, eventfds and the
# vCPU thread loop; kiln_fs.cc: the *at file system calls of the virtio-fs server; kiln_process.cc:
# spawning the process platform's tender (posix_spawn, pidfd). All policy
# lives in TypeScript (src/). Output: build/Release/kiln_kvm.node.
{
  "targets": [
    {
      "target_name": "kiln_kvm",
      "sources": ["native/kiln_kvm.cc", "native/kiln_fs.cc", "native/kiln_process.cc"],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Wno-missing-field-initializers", "-O2"],
      "cflags_cc!": ["-fno-exceptions"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
