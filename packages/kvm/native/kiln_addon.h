// kiln_addon.h — what the files of Kiln's Node-API addon share: errors with a stable `code`
// (ENOKVM, EIOCTL with `ioctl` and `errno`, EINVAL), the EINTR-retrying ioctl, argument helpers
// (64-bit values as Number or BigInt in, BigInt out), the monotonic clock, the variable-length
// KVM ioctl structs, and each file's export function (called by Init in kiln_kvm.cc).
#pragma once

#include <napi.h>

#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include <cstdint>
#include <string>
#include <vector>

void KilnVcpuInit(Napi::Env env, Napi::Object exports);     // kiln_vcpu.cc: the vCPU thread and its fast paths
void KilnEventfdInit(Napi::Env env, Napi::Object exports);  // kiln_eventfd.cc: eventfds, ioeventfd/irqfd, fd watcher
void KilnTapInit(Napi::Env env, Napi::Object exports);      // kiln_tap.cc: opening a TAP interface
void KilnFsInit(Napi::Env env, Napi::Object exports);       // kiln_fs.cc: *at calls for virtio-fs
void KilnProcessInit(Napi::Env env, Napi::Object exports);  // kiln_process.cc: spawning the tender

namespace kiln {

// ---------------------------------------------------------------------------------------------
// Errors

inline std::string ErrnoName(int err) {
  const char* name = strerrorname_np(err);
  return name ? name : ("errno " + std::to_string(err));
}

inline Napi::Error MakeError(Napi::Env env, const char* code, const std::string& message) {
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("code", Napi::String::New(env, code));
  return e;
}

[[noreturn]] inline void ThrowIoctl(Napi::Env env, const char* name, int err) {
  Napi::Error e = MakeError(env, "EIOCTL", std::string(name) + " failed: " + ErrnoName(err) +
                                               " (" + strerror(err) + ")");
  e.Set("ioctl", Napi::String::New(env, name));
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("errnoName", Napi::String::New(env, ErrnoName(err)));
  throw e;
}

[[noreturn]] inline void ThrowInval(Napi::Env env, const std::string& message) {
  throw MakeError(env, "EINVAL", message);
}

// ioctl that retries on EINTR and throws EIOCTL on failure. Returns the ioctl's result.
inline int Ioctl(Napi::Env env, int fd, unsigned long req, void* arg, const char* name) {
  for (;;) {
    int r = ioctl(fd, req, arg);
    if (r >= 0) return r;
    if (errno == EINTR) continue;
    ThrowIoctl(env, name, errno);
  }
}
#define IOCTL(env, fd, req, arg) Ioctl(env, fd, req, (void*)(arg), #req)

// ---------------------------------------------------------------------------------------------
// Variable-length ioctl structs. The uapi headers declare their trailing arrays with
// __DECLARE_FLEX_ARRAY, which C++ sizes differently from C (sizeof(kvm_cpuid2) is 12, not 8),
// and _IOWR encodes that size into the ioctl number, so the kernel would reject the call with
// EINVAL. Use explicit C-layout headers and the numbers the kernel expects.

struct CpuidHeader {  // struct kvm_cpuid2 without entries[]
  uint32_t nent;
  uint32_t padding;
};
struct MsrsHeader {  // struct kvm_msrs without entries[]
  uint32_t nmsrs;
  uint32_t pad;
};
constexpr unsigned long KILN_KVM_GET_SUPPORTED_CPUID = _IOWR(KVMIO, 0x05, CpuidHeader);
constexpr unsigned long KILN_KVM_SET_CPUID2 = _IOW(KVMIO, 0x90, CpuidHeader);
constexpr unsigned long KILN_KVM_GET_MSRS = _IOWR(KVMIO, 0x88, MsrsHeader);
constexpr unsigned long KILN_KVM_SET_MSRS = _IOW(KVMIO, 0x89, MsrsHeader);
static_assert(KILN_KVM_GET_SUPPORTED_CPUID == 0xc008ae05ul, "KVM_GET_SUPPORTED_CPUID");
static_assert(KILN_KVM_SET_CPUID2 == 0x4008ae90ul, "KVM_SET_CPUID2");
static_assert(KILN_KVM_GET_MSRS == 0xc008ae88ul, "KVM_GET_MSRS");
static_assert(KILN_KVM_SET_MSRS == 0x4008ae89ul, "KVM_SET_MSRS");
static_assert(sizeof(kvm_cpuid_entry2) == 40, "kvm_cpuid_entry2");
static_assert(sizeof(kvm_msr_entry) == 16, "kvm_msr_entry");

template <typename Hdr, typename Entry>
struct VarStruct {
  std::vector<uint64_t> storage;  // 8-byte aligned
  explicit VarStruct(size_t n) : storage((sizeof(Hdr) + n * sizeof(Entry) + 7) / 8, 0) {}
  Hdr* hdr() { return reinterpret_cast<Hdr*>(storage.data()); }
  Entry* entries() { return reinterpret_cast<Entry*>(reinterpret_cast<uint8_t*>(storage.data()) + sizeof(Hdr)); }
};
using CpuidBuf = VarStruct<CpuidHeader, kvm_cpuid_entry2>;
using MsrsBuf = VarStruct<MsrsHeader, kvm_msr_entry>;

// ---------------------------------------------------------------------------------------------
// Argument helpers: 64-bit values are accepted as Number or BigInt and returned as BigInt.

inline uint64_t ToU64(Napi::Env env, Napi::Value v, const char* what) {
  if (v.IsBigInt()) {
    bool lossless = true;
    uint64_t x = v.As<Napi::BigInt>().Uint64Value(&lossless);
    if (!lossless) ThrowInval(env, std::string(what) + " does not fit in 64 bits");
    return x;
  }
  if (v.IsNumber()) {
    double d = v.As<Napi::Number>().DoubleValue();
    if (!(d >= 0) || d > 9007199254740991.0 || d != (double)(uint64_t)d)
      ThrowInval(env, std::string(what) + " must be a non-negative integer");
    return (uint64_t)d;
  }
  ThrowInval(env, std::string(what) + " must be a number or bigint");
}

inline uint32_t ToU32(Napi::Env env, Napi::Value v, const char* what) {
  uint64_t x = ToU64(env, v, what);
  if (x > 0xffffffffull) ThrowInval(env, std::string(what) + " does not fit in 32 bits");
  return (uint32_t)x;
}

inline int ToFd(Napi::Env env, Napi::Value v) {
  if (!v.IsNumber()) ThrowInval(env, "file descriptor must be a number");
  int fd = v.As<Napi::Number>().Int32Value();
  if (fd < 0) ThrowInval(env, "file descriptor must be >= 0");
  return fd;
}

inline Napi::Value Big(Napi::Env env, uint64_t x) { return Napi::BigInt::New(env, x); }

inline bool Has(Napi::Object o, const char* key) {
  return o.Has(key) && !o.Get(key).IsUndefined();
}

inline uint64_t NowNs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

}  // namespace kiln
