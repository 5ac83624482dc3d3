// kiln_sampler.cc — the KVM side of the profiler's sampling (kiln_sampler.h).

#include "kiln_sampler.h"

#include <errno.h>
#include <linux/kvm.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <time.h>

namespace kiln {

void VcpuSampler::Configure(uint32_t hz, uint8_t* ring, uint8_t* mem, uint64_t memSize, const RamRegionMap* regions, int nregions, uint64_t descAddr, uint64_t textLo, uint64_t textHi) {
  hz_ = hz;
  mem_ = mem;
  memSize_ = memSize;
  nregions_ = nregions > 2 ? 2 : nregions;
  for (int i = 0; i < nregions_; i++) regions_[i] = regions[i];
  env_ = kiln_capture_env{Map, this, descAddr, textLo, textHi, reinterpret_cast<kiln_profile_ring*>(ring)};
}

const void* VcpuSampler::Map(void* p, uint64_t gpa, uint64_t len) {
  auto* self = static_cast<VcpuSampler*>(p);
  for (int i = 0; i < self->nregions_; i++) {
    const RamRegionMap& r = self->regions_[i];
    if (gpa >= r.gpa && len <= r.size && gpa - r.gpa <= r.size - len && r.hostOffset + (gpa - r.gpa) + len <= self->memSize_)
      return self->mem_ + r.hostOffset + (gpa - r.gpa);
  }
  return nullptr;
}

void VcpuSampler::Start(pthread_t target, int signal) {
  if (!hz_ || timer_.joinable()) return;
  timer_ = std::thread([this, target, signal] {
    // Block every signal here: process-directed ones belong to Node's threads.
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, nullptr);
    timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    const long period = 1000000000L / hz_;
    while (!stop_.load(std::memory_order_relaxed)) {
      next.tv_nsec += period;
      if (next.tv_nsec >= 1000000000L) next.tv_sec++, next.tv_nsec -= 1000000000L;
      while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, nullptr) == EINTR) {}
      if (stop_.load(std::memory_order_relaxed) || __atomic_load_n(&env_.ring->paused, __ATOMIC_RELAXED)) break;  // the VMM took the profile: no more kicks
      wanted_.store(true, std::memory_order_release);
      pthread_kill(target, signal);
    }
  });
}

void VcpuSampler::Stop() {
  stop_.store(true);
  if (timer_.joinable()) timer_.join();
}

void VcpuSampler::TakeIfWanted(int vcpuFd) {
  if (!wanted_.load(std::memory_order_relaxed) || !wanted_.exchange(false, std::memory_order_acquire)) return;
  kvm_regs regs;
  if (ioctl(vcpuFd, KVM_GET_REGS, &regs) != 0) return;
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  kiln_capture_sample(&env_, regs.rip, regs.rbp, (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec);
}

}  // namespace kiln
