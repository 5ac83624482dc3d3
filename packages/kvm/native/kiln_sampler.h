// kiln_sampler.h — the profiler's sampler of one vCPU on KVM (`kiln profile`): a thread that,
// HZ times a second, marks a sample as wanted and kicks the vCPU thread out of KVM_RUN; the vCPU
// thread then reads RIP/RBP (KVM_GET_REGS) and takes the sample with arch/profile_capture.h —
// the same walk the process platform's tender does — into the ring the VMM drains
// (packages/vmm/src/profile/ring.ts), until the VMM pauses the ring. Guest RAM is read through the VMM's mapping, only inside
// the RAM regions it was given. Without a profile, nothing here runs.
#pragma once

#include <pthread.h>

#include <atomic>
#include <cstdint>
#include <thread>

extern "C" {
#include "../../../arch/profile_capture.h"
}

namespace kiln {

struct RamRegionMap {
  uint64_t gpa, size, hostOffset;
};

class VcpuSampler {
 public:
  // Before the vCPU thread starts: where samples go and how to read guest RAM.
  void Configure(uint32_t hz, uint8_t* ring, uint8_t* mem, uint64_t memSize, const RamRegionMap* regions, int nregions, uint64_t descAddr, uint64_t textLo, uint64_t textHi);
  bool configured() const { return hz_ != 0; }
  // Starts the timer thread, which kicks `target` with `signal` (after the vCPU thread exists).
  void Start(pthread_t target, int signal);
  // Ends the timer thread (idempotent).
  void Stop();
  // On the vCPU thread after every KVM_RUN: takes a sample if one is wanted.
  void TakeIfWanted(int vcpuFd);

 private:
  static const void* Map(void* self, uint64_t gpa, uint64_t len);
  uint32_t hz_ = 0;
  uint8_t* mem_ = nullptr;
  uint64_t memSize_ = 0;
  RamRegionMap regions_[2]{};
  int nregions_ = 0;
  kiln_capture_env env_{};
  std::atomic<bool> wanted_{false};
  std::atomic<bool> stop_{false};
  std::thread timer_;
};

}  // namespace kiln
