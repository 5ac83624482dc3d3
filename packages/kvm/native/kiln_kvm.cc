// Kiln's Node-API addon over /dev/kvm (Linux KVM API, Documentation/virt/kvm/api.rst).
// Deliberately thin: it wraps ioctls, the guest-RAM mapping (memfd + mmap), eventfds and the
// per-vCPU thread that loops on KVM_RUN. Exits that need userspace are handed to a JS callback
// on the main thread synchronously; every decision (what a port does, when to stop) is made in
// TypeScript (packages/kvm/src, packages/vmm/src). Errors are JS Errors with a stable `code`:
// ENOKVM (no usable /dev/kvm), EIOCTL (an ioctl failed; `ioctl` and `errno` name it), EINVAL.
// This file: the module's Init, /dev/kvm and VM ioctls, guest memory. The vCPU is kiln_vcpu.cc,
// eventfds and the fd watcher kiln_eventfd.cc, TAP kiln_tap.cc; shared helpers kiln_addon.h.

#include <napi.h>
#include <v8.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <map>
#include <string>

#include "kiln_addon.h"

namespace {

using namespace kiln;

// ---------------------------------------------------------------------------------------------
// System level: /dev/kvm and VM ioctls on plain fds.

Napi::Value OpenKvm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = info.Length() > 0 && info[0].IsString() ? info[0].As<Napi::String>().Utf8Value()
                                                              : std::string("/dev/kvm");
  int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    std::string hint;
    if (err == ENOENT)
      hint = ": KVM is not available on this host (load the kvm module; inside a VM, enable nested virtualization)";
    else if (err == EACCES || err == EPERM)
      hint = ": permission denied (add your user to the 'kvm' group or run as root)";
    Napi::Error e = MakeError(env, "ENOKVM", "cannot open " + path + ": " + ErrnoName(err) + hint);
    e.Set("errno", Napi::Number::New(env, err));
    e.Set("errnoName", Napi::String::New(env, ErrnoName(err)));
    throw e;
  }
  return Napi::Number::New(env, fd);
}

Napi::Value CloseFd(const Napi::CallbackInfo& info) {
  int fd = ToFd(info.Env(), info[0]);
  close(fd);
  return info.Env().Undefined();
}

Napi::Value GetApiVersion(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Napi::Number::New(env, IOCTL(env, ToFd(env, info[0]), KVM_GET_API_VERSION, 0));
}

Napi::Value CheckExtension(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ToFd(env, info[0]);
  unsigned long cap = ToU32(env, info[1], "capability");
  return Napi::Number::New(env, IOCTL(env, fd, KVM_CHECK_EXTENSION, cap));
}

Napi::Value CreateVm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ToFd(env, info[0]);
  int vm = IOCTL(env, fd, KVM_CREATE_VM, 0);
  fcntl(vm, F_SETFD, FD_CLOEXEC);
  return Napi::Number::New(env, vm);
}

Napi::Value GetVcpuMmapSize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Napi::Number::New(env, IOCTL(env, ToFd(env, info[0]), KVM_GET_VCPU_MMAP_SIZE, 0));
}

Napi::Array CpuidToJs(Napi::Env env, CpuidBuf& c) {
  uint32_t n = c.hdr()->nent;
  Napi::Array out = Napi::Array::New(env, n);
  for (uint32_t i = 0; i < n; i++) {
    const kvm_cpuid_entry2& e = c.entries()[i];
    Napi::Object o = Napi::Object::New(env);
    o.Set("function", Napi::Number::New(env, e.function));
    o.Set("index", Napi::Number::New(env, e.index));
    o.Set("flags", Napi::Number::New(env, e.flags));
    o.Set("eax", Napi::Number::New(env, e.eax));
    o.Set("ebx", Napi::Number::New(env, e.ebx));
    o.Set("ecx", Napi::Number::New(env, e.ecx));
    o.Set("edx", Napi::Number::New(env, e.edx));
    out.Set(i, o);
  }
  return out;
}

Napi::Value GetSupportedCpuid(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ToFd(env, info[0]);
  for (uint32_t n = 128; n <= 4096; n *= 2) {
    CpuidBuf c(n);
    c.hdr()->nent = n;
    if (ioctl(fd, KILN_KVM_GET_SUPPORTED_CPUID, c.hdr()) == 0) return CpuidToJs(env, c);
    if (errno != E2BIG) ThrowIoctl(env, "KVM_GET_SUPPORTED_CPUID", errno);
  }
  ThrowIoctl(env, "KVM_GET_SUPPORTED_CPUID", E2BIG);
}

// ---------------------------------------------------------------------------------------------
// Guest memory: anonymous private memory (as QEMU and Firecracker use) with a transparent huge
// page hint, exposed to JS as one ArrayBuffer. It lives until memFree() (detach, then munmap):
// GuestMemory.free() in TS, which runVm's teardown always calls. The registry maps ids to
// mappings so a double free is harmless.

struct GuestRam {
  void* addr;     // 2 MiB-aligned start of guest RAM
  size_t size;
  void* mapping;  // the whole mapping, alignment slack included
  size_t mapping_size;
  int fd;         // the memfd of shared memory (the process platform), or -1
};
std::map<uint32_t, GuestRam> g_ram;  // main thread only
uint32_t g_next_ram_id = 1;

void ReleaseRam(uint32_t id) {
  auto it = g_ram.find(id);
  if (it == g_ram.end()) return;
  munmap(it->second.mapping, it->second.mapping_size);
  if (it->second.fd >= 0) close(it->second.fd);
  g_ram.erase(it);
}

// memCreate(size, shared): with `shared`, the memory is a memfd (MAP_SHARED) another process can
// map too — the process platform's tender maps guest RAM from it; its fd is returned as `fd`.
Napi::Value MemCreate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint64_t size = ToU64(env, info[0], "size");
  bool shared = info.Length() > 1 && info[1].ToBoolean();
  if (size == 0 || size % 4096 != 0) ThrowInval(env, "guest memory size must be a non-zero multiple of 4096");
  // 2 MiB-aligned so guest 2 MiB pages line up with host huge pages (as QEMU aligns its RAM).
  // The alignment slack stays mapped until free(): unmapping it now would cost a TLB
  // shoot-down across this process's threads, measured at 1-4 ms on this nested host.
  const size_t huge = 2u << 20;
  size_t mapping_size = size + huge;
  void* mapping = mmap(nullptr, mapping_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (mapping == MAP_FAILED) ThrowIoctl(env, "mmap", errno);
  void* addr = (void*)(((uintptr_t)mapping + huge - 1) & ~(uintptr_t)(huge - 1));
  int fd = -1;
  if (shared) {
    fd = memfd_create("kiln-guest-ram", MFD_CLOEXEC);
    int err = fd < 0 ? errno : ftruncate(fd, (off_t)size) != 0 ? errno : 0;
    if (!err && mmap(addr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0) == MAP_FAILED) err = errno;
    if (err) {
      if (fd >= 0) close(fd);
      munmap(mapping, mapping_size);
      ThrowIoctl(env, "memfd", err);
    }
  } else {
    madvise(addr, size, MADV_HUGEPAGE);  // a hint: harmless where THP is off
  }
  uint32_t id = g_next_ram_id++;
  g_ram[id] = GuestRam{addr, (size_t)size, mapping, mapping_size, fd};
  // The ArrayBuffer is built with V8's EmptyDeleter, which marks the memory as managed by us:
  // V8 then leaves it out of its external-memory accounting. napi_create_external_arraybuffer
  // would count it, and 64 MiB of "external memory" makes V8 start a major GC that cost 2-4 ms
  // in the middle of VM setup. The memory is released only by memFree(), which detaches first.
  // Node's napi_value is a v8::Local<v8::Value> handle (js_native_api_v8.h), valid in this scope.
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  std::shared_ptr<v8::BackingStore> store =
      v8::ArrayBuffer::NewBackingStore(addr, size, v8::BackingStore::EmptyDeleter, nullptr);
  v8::Local<v8::ArrayBuffer> local = v8::ArrayBuffer::New(isolate, std::move(store));
  napi_value ab = reinterpret_cast<napi_value>(*local);
  Napi::Object o = Napi::Object::New(env);
  o.Set("id", Napi::Number::New(env, id));
  o.Set("buffer", Napi::Value(env, ab));
  if (fd >= 0) o.Set("fd", Napi::Number::New(env, fd));
  return o;
}

// memFree(id, buffer): detach the ArrayBuffer so JS can no longer touch the mapping, then unmap.
Napi::Value MemFree(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t id = ToU32(env, info[0], "memory id");
  if (info.Length() > 1 && info[1].IsArrayBuffer()) {
    Napi::ArrayBuffer ab = info[1].As<Napi::ArrayBuffer>();
    if (!ab.IsDetached()) ab.Detach();
  }
  ReleaseRam(id);
  return env.Undefined();
}

Napi::Value SetUserMemoryRegion(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int vm = ToFd(env, info[0]);
  Napi::Object o = info[1].As<Napi::Object>();
  kvm_userspace_memory_region r{};
  r.slot = ToU32(env, o.Get("slot"), "slot");
  r.flags = Has(o, "flags") ? ToU32(env, o.Get("flags"), "flags") : 0;
  r.guest_phys_addr = ToU64(env, o.Get("guestPhysAddr"), "guestPhysAddr");
  r.memory_size = ToU64(env, o.Get("size"), "size");
  if (r.memory_size != 0) {
    uint32_t id = ToU32(env, o.Get("memoryId"), "memoryId");
    uint64_t offset = ToU64(env, o.Get("offset"), "offset");
    auto it = g_ram.find(id);
    if (it == g_ram.end()) ThrowInval(env, "unknown or freed guest memory");
    if (offset > it->second.size || r.memory_size > it->second.size - offset)
      ThrowInval(env, "memory region lies outside the guest memory mapping");
    r.userspace_addr = (uint64_t)(uintptr_t)it->second.addr + offset;
  }
  IOCTL(env, vm, KVM_SET_USER_MEMORY_REGION, &r);
  return env.Undefined();
}

Napi::Value CreateIrqchip(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  IOCTL(env, ToFd(env, info[0]), KVM_CREATE_IRQCHIP, 0);
  return env.Undefined();
}

Napi::Value CreatePit2(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  kvm_pit_config c{};
  c.flags = info.Length() > 1 ? ToU32(env, info[1], "flags") : 0;
  IOCTL(env, ToFd(env, info[0]), KVM_CREATE_PIT2, &c);
  return env.Undefined();
}

Napi::Value SetTssAddr(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  unsigned long addr = ToU32(env, info[1], "address");
  IOCTL(env, ToFd(env, info[0]), KVM_SET_TSS_ADDR, addr);
  return env.Undefined();
}

Napi::Value SetIdentityMapAddr(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint64_t addr = ToU64(env, info[1], "address");
  IOCTL(env, ToFd(env, info[0]), KVM_SET_IDENTITY_MAP_ADDR, &addr);
  return env.Undefined();
}

Napi::Value IrqLine(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  kvm_irq_level l{};
  l.irq = ToU32(env, info[1], "irq");
  l.level = ToU32(env, info[2], "level");
  IOCTL(env, ToFd(env, info[0]), KVM_IRQ_LINE, &l);
  return env.Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("openKvm", Napi::Function::New(env, OpenKvm));
  exports.Set("close", Napi::Function::New(env, CloseFd));
  exports.Set("getApiVersion", Napi::Function::New(env, GetApiVersion));
  exports.Set("checkExtension", Napi::Function::New(env, CheckExtension));
  exports.Set("createVm", Napi::Function::New(env, CreateVm));
  exports.Set("getVcpuMmapSize", Napi::Function::New(env, GetVcpuMmapSize));
  exports.Set("getSupportedCpuid", Napi::Function::New(env, GetSupportedCpuid));
  exports.Set("memCreate", Napi::Function::New(env, MemCreate));
  exports.Set("memFree", Napi::Function::New(env, MemFree));
  exports.Set("setUserMemoryRegion", Napi::Function::New(env, SetUserMemoryRegion));
  exports.Set("createIrqchip", Napi::Function::New(env, CreateIrqchip));
  exports.Set("createPit2", Napi::Function::New(env, CreatePit2));
  exports.Set("setTssAddr", Napi::Function::New(env, SetTssAddr));
  exports.Set("setIdentityMapAddr", Napi::Function::New(env, SetIdentityMapAddr));
  exports.Set("irqLine", Napi::Function::New(env, IrqLine));
  KilnEventfdInit(env, exports);
  KilnTapInit(env, exports);
  exports.Set("nowNs", Napi::Function::New(env, [](const Napi::CallbackInfo& info) { return Big(info.Env(), NowNs()); }));
  KilnVcpuInit(env, exports);
  KilnFsInit(env, exports);
  KilnProcessInit(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(kiln_kvm, Init)
