# Build recipe for the Kiln KVM addon (node-gyp), one file per concern: kiln_kvm.cc: the module's
# Init, /dev/kvm and VM ioctls, guest memory (mmap, memfd); kiln_vcpu.cc: the vCPU thread loop on
# KVM_RUN and its fast paths; kiln_eventfd.cc: eventfds, ioeventfd/irqfd and the fd watcher;
# kiln_sampler.cc: the profiler's sampler of a vCPU (arch/profile_capture.h); kiln_tap.cc: opening a TAP interface; kiln_fs.cc: the *at file system calls of the virtio-fs
# server; kiln_process.cc: spawning the process platform's tender (posix_spawn, pidfd);
# kiln_addon.h: the helpers they share. All policy lives in TypeScript (src/).
# Output: build/Release/kiln_kvm.node.
{
  "targets": [
    {
      "target_name": "kiln_kvm",
      "sources": ["native/kiln_kvm.cc", "native/kiln_vcpu.cc", "native/kiln_eventfd.cc", "native/kiln_tap.cc",
                  "native/kiln_fs.cc", "native/kiln_process.cc", "native/kiln_sampler.cc"],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Wno-missing-field-initializers", "-O2"],
      "cflags_cc!": ["-fno-exceptions"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
