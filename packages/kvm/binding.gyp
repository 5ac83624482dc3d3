# Build recipe for the Kiln KVM addon (node-gyp). One C++ file: ioctls, mmap, eventfds and the
# vCPU thread loop; all policy lives in TypeScript (src/). Output: build/Release/kiln_kvm.node.
{
  "targets": [
    {
      "target_name": "kiln_kvm",
      "sources": ["native/kiln_kvm.cc"],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Wno-missing-field-initializers", "-O2"],
      "cflags_cc!": ["-fno-exceptions"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
