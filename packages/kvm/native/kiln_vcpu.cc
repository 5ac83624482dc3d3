// The vCPU of the KVM VMM: its fd, the kvm_run mapping and the thread that loops on KVM_RUN,
// handing exits that need userspace to a JS callback on the main thread and answering the console
// and interrupt-status fast paths itself; registers, CPUID and MSRs. Part of the kiln_kvm addon
// (kiln_kvm.cc, kiln_addon.h).

#include <napi.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "kiln_addon.h"
#include "kiln_sampler.h"

namespace {

using namespace kiln;

// ---------------------------------------------------------------------------------------------
// vCPU: fd, kvm_run mapping and the thread that loops on KVM_RUN.
//
// Kick signal: SIGRTMIN+5. glibc reserves the first two real-time signals for itself (SIGRTMIN
// already skips them); Node and libuv install no handler for real-time signals (Node uses
// SIGUSR1 for the inspector, V8's profiler SIGPROF, libuv SIGCHLD/SIGPIPE). The handler is a
// no-op installed without SA_RESTART, so a signal arriving while the thread sits in KVM_RUN
// makes the ioctl return EINTR; kvm_run->immediate_exit=1 closes the window where the signal
// lands just before the thread enters KVM_RUN.

int KickSignal() { return SIGRTMIN + 5; }
void KickHandler(int) {}

struct VcpuState;

struct ExitMsg {
  std::shared_ptr<VcpuState> st;
  bool done = false;
  uint32_t reason = 0;
  uint64_t timeNs = 0;
  // KVM_EXIT_IO
  uint8_t ioDirection = 0, ioSize = 0;
  uint16_t ioPort = 0;
  uint32_t ioCount = 0;
  // KVM_EXIT_MMIO
  uint64_t mmioAddr = 0;
  uint32_t mmioLen = 0;
  bool mmioWrite = false;
  std::vector<uint8_t> data;  // bytes written by the guest (IO out / MMIO write)
  // other exits
  uint32_t suberror = 0;            // INTERNAL_ERROR suberror, SYSTEM_EVENT type, EXCEPTION nr
  std::vector<uint64_t> extra;      // INTERNAL_ERROR/SYSTEM_EVENT data, FAIL_ENTRY reason, ...
  // done
  int err = 0;
  uint64_t runs = 0;
};

struct VcpuState {
  int fd = -1;
  uint32_t id = 0;
  kvm_run* run = nullptr;
  size_t runSize = 0;

  pthread_t thread{};
  bool started = false;   // main thread only
  bool joined = false;    // main thread only
  std::atomic<bool> stop{false};
  std::atomic<bool> exited{false};
  // Console fast path: one-byte OUTs to `port` are written straight to `fd` by the vCPU thread,
  // without a round trip to JS (~0.1-0.5 ms per byte on this nested host; the guest's console
  // arrives one byte per exit). Encoded (port << 32 | fd), -1 when off. The TS serial model
  // turns it on only while THR writes are plain output (no DLAB, no loopback, no THRE irq).
  std::atomic<int64_t> portSink{-1};
  std::atomic<uint64_t> sinkBytes{0};
  // Interrupt-status fast path: 4-byte reads of a virtio-mmio InterruptStatus register and
  // writes of its InterruptACK are answered on the vCPU thread from a 32-bit word the TS
  // transport shares (a SharedArrayBuffer, Atomics on the JS side), so taking an interrupt costs
  // two plain exits instead of two JS round trips. Entries are appended before or while the
  // vCPU runs (count published with release); the typed arrays are kept alive by statusRefs.
  struct StatusRegister {
    uint64_t statusAddr;
    uint64_t ackAddr;
    int32_t* word;
  };
  static constexpr int kMaxStatusRegisters = 32;
  StatusRegister statusRegs[kMaxStatusRegisters]{};
  std::atomic<int> statusRegCount{0};
  std::vector<Napi::ObjectReference> statusRefs;  // main thread only

  // The profiler's sampler (kiln_sampler.h), configured by setProfile before start; the ring and
  // guest memory it writes and reads are kept alive by profileRefs.
  VcpuSampler sampler;
  std::vector<Napi::ObjectReference> profileRefs;  // main thread only

  std::mutex mu;
  std::condition_variable cv;
  bool answered = false;
  bool cancelled = false;
  std::vector<uint8_t> answer;
  std::string jsError;  // set when the JS exit handler threw

  Napi::ThreadSafeFunction tsfn;
  Napi::FunctionReference onDone;
};

void RequestStop(VcpuState* s) {
  s->stop.store(true);
  if (s->run) __atomic_store_n(&s->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
  if (s->started && !s->joined && !s->exited.load()) pthread_kill(s->thread, KickSignal());
}

Napi::Object ExitToJs(Napi::Env env, const ExitMsg& m) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("reason", Napi::Number::New(env, m.reason));
  o.Set("timeNs", Big(env, m.timeNs));
  switch (m.reason) {
    case KVM_EXIT_IO: {
      o.Set("direction", Napi::Number::New(env, m.ioDirection));
      o.Set("size", Napi::Number::New(env, m.ioSize));
      o.Set("port", Napi::Number::New(env, m.ioPort));
      o.Set("count", Napi::Number::New(env, m.ioCount));
      if (m.ioDirection == KVM_EXIT_IO_OUT)
        o.Set("data", Napi::Buffer<uint8_t>::Copy(env, m.data.data(), m.data.size()));
      break;
    }
    case KVM_EXIT_MMIO: {
      o.Set("physAddr", Big(env, m.mmioAddr));
      o.Set("len", Napi::Number::New(env, m.mmioLen));
      o.Set("isWrite", Napi::Boolean::New(env, m.mmioWrite));
      if (m.mmioWrite) o.Set("data", Napi::Buffer<uint8_t>::Copy(env, m.data.data(), m.data.size()));
      break;
    }
    case KVM_EXIT_INTERNAL_ERROR:
    case KVM_EXIT_SYSTEM_EVENT:
    case KVM_EXIT_EXCEPTION: {
      o.Set(m.reason == KVM_EXIT_SYSTEM_EVENT ? "type"
            : m.reason == KVM_EXIT_EXCEPTION   ? "exception"
                                               : "suberror",
            Napi::Number::New(env, m.suberror));
      Napi::Array a = Napi::Array::New(env, m.extra.size());
      for (size_t i = 0; i < m.extra.size(); i++) a.Set(i, Big(env, m.extra[i]));
      o.Set("data", a);
      break;
    }
    case KVM_EXIT_FAIL_ENTRY:
      o.Set("hardwareEntryFailureReason", Big(env, m.extra.size() > 0 ? m.extra[0] : 0));
      o.Set("cpu", Napi::Number::New(env, m.extra.size() > 1 ? (uint32_t)m.extra[1] : 0));
      break;
    case KVM_EXIT_UNKNOWN:
      o.Set("hardwareExitReason", Big(env, m.extra.size() > 0 ? m.extra[0] : 0));
      break;
    default:
      break;
  }
  return o;
}

// Runs on the main thread for every message a vCPU thread posts.
void CallJs(Napi::Env env, Napi::Function onExit, void*, ExitMsg* raw) {
  std::unique_ptr<ExitMsg> m(raw);
  VcpuState* s = m->st.get();
  if (env == nullptr) {  // environment shutting down: release a waiting thread
    std::lock_guard<std::mutex> lk(s->mu);
    s->cancelled = true;
    s->cv.notify_all();
    return;
  }
  if (m->done) {
    if (s->onDone.IsEmpty()) return;
    Napi::Object o = Napi::Object::New(env);
    o.Set("runs", Napi::Number::New(env, (double)m->runs));
    if (m->err) {
      o.Set("errno", Napi::Number::New(env, m->err));
      o.Set("errnoName", Napi::String::New(env, ErrnoName(m->err)));
      o.Set("message", Napi::String::New(env, "KVM_RUN failed: " + ErrnoName(m->err) + " (" + strerror(m->err) + ")"));
    }
    std::string jsErr;
    {
      std::lock_guard<std::mutex> lk(s->mu);
      jsErr = s->jsError;
    }
    if (!jsErr.empty()) o.Set("handlerError", Napi::String::New(env, jsErr));
    Napi::FunctionReference cb = std::move(s->onDone);
    try {
      cb.Call({o});
    } catch (const Napi::Error& e) {
      // Surface as an uncaught exception rather than losing it.
      e.ThrowAsJavaScriptException();
    }
    return;
  }
  std::vector<uint8_t> answer;
  std::string jsErr;
  try {
    Napi::Value r = onExit.Call({ExitToJs(env, *m)});
    if (r.IsTypedArray()) {
      Napi::TypedArray ta = r.As<Napi::TypedArray>();
      Napi::ArrayBuffer ab = ta.ArrayBuffer();
      const uint8_t* p = static_cast<const uint8_t*>(ab.Data()) + ta.ByteOffset();
      answer.assign(p, p + ta.ByteLength());
    } else if (r.IsNumber() || r.IsBigInt()) {
      uint64_t v = r.IsBigInt() ? r.As<Napi::BigInt>().Uint64Value(nullptr) : (uint64_t)r.As<Napi::Number>().Int64Value();
      answer.resize(8);
      memcpy(answer.data(), &v, 8);  // little-endian host
    }
  } catch (const Napi::Error& e) {
    jsErr = e.Message();
    if (jsErr.empty()) jsErr = "exit handler threw";
  }
  std::lock_guard<std::mutex> lk(s->mu);
  if (!jsErr.empty()) {
    s->jsError = jsErr;
    s->stop.store(true);
  }
  s->answer = std::move(answer);
  s->answered = true;
  s->cv.notify_all();
}

using Tsfn = Napi::TypedThreadSafeFunction<void, ExitMsg, CallJs>;

struct ThreadArg {
  std::shared_ptr<VcpuState> st;
  Tsfn tsfn;
};

// Posts one exit to JS and waits for the answer. Returns false if the thread must stop.
bool PostAndWait(ThreadArg* a, std::unique_ptr<ExitMsg> m) {
  VcpuState* s = a->st.get();
  {
    std::lock_guard<std::mutex> lk(s->mu);
    if (s->cancelled) return false;
    s->answered = false;
    s->answer.clear();
  }
  if (a->tsfn.BlockingCall(m.get()) != napi_ok) return false;
  m.release();
  std::unique_lock<std::mutex> lk(s->mu);
  s->cv.wait(lk, [s] { return s->answered || s->cancelled; });
  return !s->cancelled;
}

// Writes all of buf to fd from the vCPU thread, waiting when a non-blocking fd (a pipe libuv
// owns) is full; gives up only on a real error or when the vCPU is being stopped.
bool WriteAll(int fd, const uint8_t* buf, size_t n, VcpuState* s) {
  while (n > 0) {
    ssize_t w = write(fd, buf, n);
    if (w > 0) {
      buf += w;
      n -= (size_t)w;
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EAGAIN) {
      if (s->stop.load()) return true;  // dropping console bytes of a VM being torn down
      pollfd pfd{fd, POLLOUT, 0};
      poll(&pfd, 1, 100);
      continue;
    }
    return false;
  }
  return true;
}

// The interrupt-status fast path (see VcpuState::statusRegs): true if this exit was one.
bool HandleStatusRegister(VcpuState* s, kvm_run* run) {
  int n = s->statusRegCount.load(std::memory_order_acquire);
  for (int i = 0; i < n; i++) {
    const VcpuState::StatusRegister& r = s->statusRegs[i];
    if (!run->mmio.is_write && run->mmio.phys_addr == r.statusAddr) {
      uint32_t v = (uint32_t)__atomic_load_n(r.word, __ATOMIC_SEQ_CST);
      memcpy(run->mmio.data, &v, 4);
      return true;
    }
    if (run->mmio.is_write && run->mmio.phys_addr == r.ackAddr) {
      uint32_t v;
      memcpy(&v, run->mmio.data, 4);
      __atomic_fetch_and(r.word, (int32_t)~v, __ATOMIC_SEQ_CST);
      return true;
    }
  }
  return false;
}

void* VcpuThread(void* p) {
  std::unique_ptr<ThreadArg> a(static_cast<ThreadArg*>(p));
  VcpuState* s = a->st.get();
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, KickSignal());
  pthread_sigmask(SIG_UNBLOCK, &set, nullptr);

  kvm_run* run = s->run;
  int err = 0;
  uint64_t runs = 0;
  while (!s->stop.load()) {
    int r = ioctl(s->fd, KVM_RUN, 0);
    int run_errno = errno;  // before the sampler's KVM_GET_REGS can change it
    uint64_t t = NowNs();
    runs++;
    if (s->sampler.configured()) s->sampler.TakeIfWanted(s->fd);
    if (r < 0) {
      if (run_errno == EINTR || run_errno == EAGAIN) continue;  // loop condition re-checks stop
      err = run_errno;
      break;
    }
    if (run->exit_reason == KVM_EXIT_INTR) continue;
    if (run->exit_reason == KVM_EXIT_MMIO && run->mmio.len == 4 && HandleStatusRegister(s, run)) continue;
    if (run->exit_reason == KVM_EXIT_IO && run->io.direction == KVM_EXIT_IO_OUT && run->io.size == 1) {
      int64_t sink = s->portSink.load(std::memory_order_acquire);
      size_t n = run->io.count;
      if (sink >= 0 && (uint16_t)(sink >> 32) == run->io.port && run->io.data_offset + n <= s->runSize) {
        if (!WriteAll((int)(sink & 0xffffffff), reinterpret_cast<uint8_t*>(run) + run->io.data_offset, n, s)) {
          err = errno;
          break;
        }
        s->sinkBytes.fetch_add(n, std::memory_order_relaxed);
        continue;
      }
    }
    auto m = std::make_unique<ExitMsg>();
    m->st = a->st;
    m->reason = run->exit_reason;
    m->timeNs = t;
    uint8_t* ioData = nullptr;
    size_t ioBytes = 0;
    switch (run->exit_reason) {
      case KVM_EXIT_IO:
        m->ioDirection = run->io.direction;
        m->ioSize = run->io.size;
        m->ioPort = run->io.port;
        m->ioCount = run->io.count;
        ioData = reinterpret_cast<uint8_t*>(run) + run->io.data_offset;
        ioBytes = (size_t)run->io.size * run->io.count;
        if (run->io.data_offset + ioBytes > s->runSize) {  // never trust sizes blindly
          err = EFAULT;
          goto out;
        }
        if (run->io.direction == KVM_EXIT_IO_OUT) m->data.assign(ioData, ioData + ioBytes);
        break;
      case KVM_EXIT_MMIO:
        m->mmioAddr = run->mmio.phys_addr;
        m->mmioLen = run->mmio.len > 8 ? 8 : run->mmio.len;
        m->mmioWrite = run->mmio.is_write;
        if (m->mmioWrite) m->data.assign(run->mmio.data, run->mmio.data + m->mmioLen);
        break;
      case KVM_EXIT_INTERNAL_ERROR: {
        m->suberror = run->internal.suberror;
        uint32_t n = run->internal.ndata > 16 ? 16 : run->internal.ndata;
        m->extra.assign(run->internal.data, run->internal.data + n);
        break;
      }
      case KVM_EXIT_SYSTEM_EVENT: {
        m->suberror = run->system_event.type;
        uint32_t n = run->system_event.ndata > 16 ? 16 : run->system_event.ndata;
        m->extra.assign(run->system_event.data, run->system_event.data + n);
        break;
      }
      case KVM_EXIT_EXCEPTION:
        m->suberror = run->ex.exception;
        m->extra.push_back(run->ex.error_code);
        break;
      case KVM_EXIT_FAIL_ENTRY:
        m->extra.push_back(run->fail_entry.hardware_entry_failure_reason);
        m->extra.push_back(run->fail_entry.cpu);
        break;
      case KVM_EXIT_UNKNOWN:
        m->extra.push_back(run->hw.hardware_exit_reason);
        break;
      default:
        break;
    }
    {
      uint32_t reason = run->exit_reason;
      bool isIn = reason == KVM_EXIT_IO && run->io.direction == KVM_EXIT_IO_IN;
      bool isMmioRead = reason == KVM_EXIT_MMIO && !run->mmio.is_write;
      uint32_t mmioLen = m->mmioLen;
      if (!PostAndWait(a.get(), std::move(m))) break;
      std::lock_guard<std::mutex> lk(s->mu);
      if (isIn) {
        // Missing bytes read as all-ones, like an unclaimed ISA port.
        for (size_t i = 0; i < ioBytes; i++) ioData[i] = i < s->answer.size() ? s->answer[i] : 0xff;
      } else if (isMmioRead) {
        for (uint32_t i = 0; i < mmioLen; i++) run->mmio.data[i] = i < s->answer.size() ? s->answer[i] : 0xff;
      }
    }
  }
out:
  s->exited.store(true);
  auto done = std::make_unique<ExitMsg>();
  done->st = a->st;
  done->done = true;
  done->err = err;
  done->runs = runs;
  if (a->tsfn.BlockingCall(done.get()) == napi_ok) done.release();
  a->tsfn.Release();
  return nullptr;
}

class Vcpu : public Napi::ObjectWrap<Vcpu> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Vcpu",
                       {
                           InstanceAccessor<&Vcpu::GetFd>("fd"),
                           InstanceAccessor<&Vcpu::GetId>("id"),
                           InstanceMethod<&Vcpu::GetRegs>("getRegs"),
                           InstanceMethod<&Vcpu::SetRegs>("setRegs"),
                           InstanceMethod<&Vcpu::GetSregs>("getSregs"),
                           InstanceMethod<&Vcpu::SetSregs>("setSregs"),
                           InstanceMethod<&Vcpu::SetFpu>("setFpu"),
                           InstanceMethod<&Vcpu::GetMsrs>("getMsrs"),
                           InstanceMethod<&Vcpu::SetMsrs>("setMsrs"),
                           InstanceMethod<&Vcpu::SetCpuid2>("setCpuid2"),
                           InstanceMethod<&Vcpu::GetMpState>("getMpState"),
                           InstanceMethod<&Vcpu::SetMpState>("setMpState"),
                           InstanceMethod<&Vcpu::GetTscKhz>("getTscKhz"),
                           InstanceMethod<&Vcpu::SetPortSink>("setPortSink"),
                           InstanceMethod<&Vcpu::AddStatusRegister>("addStatusRegister"),
                           InstanceMethod<&Vcpu::SetProfile>("setProfile"),
                           InstanceMethod<&Vcpu::Start>("start"),
                           InstanceMethod<&Vcpu::Stop>("stop"),
                           InstanceMethod<&Vcpu::Join>("join"),
                           InstanceMethod<&Vcpu::Close>("close"),
                       });
  }

  // new Vcpu(vmFd, id, mmapSize)
  explicit Vcpu(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Vcpu>(info), st_(std::make_shared<VcpuState>()) {
    Napi::Env env = info.Env();
    int vm = ToFd(env, info[0]);
    uint32_t id = ToU32(env, info[1], "vcpu id");
    uint64_t mmapSize = ToU64(env, info[2], "mmap size");
    if (mmapSize < sizeof(kvm_run)) ThrowInval(env, "vcpu mmap size is smaller than struct kvm_run");
    int fd = IOCTL(env, vm, KVM_CREATE_VCPU, (unsigned long)id);
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    void* run = mmap(nullptr, mmapSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (run == MAP_FAILED) {
      int err = errno;
      close(fd);
      ThrowIoctl(env, "mmap(kvm_run)", err);
    }
    st_->fd = fd;
    st_->id = id;
    st_->run = static_cast<kvm_run*>(run);
    st_->runSize = mmapSize;
  }

  ~Vcpu() override { Release(); }

 private:
  std::shared_ptr<VcpuState> st_;

  void CheckOpen(Napi::Env env) {
    if (st_->fd < 0) ThrowInval(env, "vcpu is closed");
  }
  void CheckNotRunning(Napi::Env env) {
    CheckOpen(env);
    if (st_->started && !st_->exited.load())
      ThrowInval(env, "vcpu registers cannot be accessed while its thread runs");
  }

  // Stops and joins the thread (never deadlocks: a thread waiting for a JS answer is
  // cancelled), then unmaps kvm_run and closes the fd.
  void Release() {
    VcpuState* s = st_.get();
    s->sampler.Stop();  // before the join: it kicks the thread
    if (s->started && !s->joined) {
      RequestStop(s);
      {
        std::lock_guard<std::mutex> lk(s->mu);
        s->cancelled = true;
        s->cv.notify_all();
      }
      pthread_join(s->thread, nullptr);
      s->joined = true;
    }
    s->statusRegCount.store(0);
    s->statusRefs.clear();
    s->profileRefs.clear();
    if (s->run) {
      munmap(s->run, s->runSize);
      s->run = nullptr;
    }
    if (s->fd >= 0) {
      close(s->fd);
      s->fd = -1;
    }
  }

  Napi::Value GetFd(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), st_->fd); }
  Napi::Value GetId(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), st_->id); }

#define REGS_FIELDS(X) \
  X(rax) X(rbx) X(rcx) X(rdx) X(rsi) X(rdi) X(rsp) X(rbp) X(r8) X(r9) X(r10) X(r11) X(r12) X(r13) X(r14) X(r15) X(rip) X(rflags)

  Napi::Value GetRegs(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckNotRunning(env);
    kvm_regs r{};
    IOCTL(env, st_->fd, KVM_GET_REGS, &r);
    Napi::Object o = Napi::Object::New(env);
#define X(f) o.Set(#f, Big(env, r.f));
    REGS_FIELDS(X)
#undef X
    return o;
  }

  // setRegs(partial): fields not given keep their current value.
  Napi::Value SetRegs(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckNotRunning(env);
    Napi::Object o = info[0].As<Napi::Object>();
    kvm_regs r{};
    IOCTL(env, st_->fd, KVM_GET_REGS, &r);
#define X(f) if (Has(o, #f)) r.f = ToU64(env, o.Get(#f), #f);
    REGS_FIELDS(X)
#undef X
    IOCTL(env, st_->fd, KVM_SET_REGS, &r);
    return env.Undefined();
  }

  static Napi::Object SegToJs(Napi::Env env, const kvm_segment& s) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("base", Big(env, s.base));
    o.Set("limit", Napi::Number::New(env, s.limit));
    o.Set("selector", Napi::Number::New(env, s.selector));
    o.Set("type", Napi::Number::New(env, s.type));
    o.Set("present", Napi::Number::New(env, s.present));
    o.Set("dpl", Napi::Number::New(env, s.dpl));
    o.Set("db", Napi::Number::New(env, s.db));
    o.Set("s", Napi::Number::New(env, s.s));
    o.Set("l", Napi::Number::New(env, s.l));
    o.Set("g", Napi::Number::New(env, s.g));
    o.Set("avl", Napi::Number::New(env, s.avl));
    o.Set("unusable", Napi::Number::New(env, s.unusable));
    return o;
  }
  static void SegFromJs(Napi::Env env, Napi::Object o, kvm_segment& s) {
    if (Has(o, "base")) s.base = ToU64(env, o.Get("base"), "segment base");
    if (Has(o, "limit")) s.limit = ToU32(env, o.Get("limit"), "segment limit");
#define SEGF(f, bits)                                                                 \
  if (Has(o, #f)) {                                                                   \
    uint32_t v = ToU32(env, o.Get(#f), "segment " #f);                                \
    if (v >> bits) ThrowInval(env, "segment " #f " out of range");                    \
    s.f = v;                                                                          \
  }
    SEGF(selector, 16) SEGF(type, 4) SEGF(present, 1) SEGF(dpl, 2) SEGF(db, 1) SEGF(s, 1) SEGF(l, 1)
    SEGF(g, 1) SEGF(avl, 1) SEGF(unusable, 1)
#undef SEGF
  }

#define SREGS_SEGS(X) X(cs) X(ds) X(es) X(fs) X(gs) X(ss) X(tr) X(ldt)
#define SREGS_CRS(X) X(cr0) X(cr2) X(cr3) X(cr4) X(cr8) X(efer) X(apic_base)

  Napi::Value GetSregs(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckNotRunning(env);
    kvm_sregs r{};
    IOCTL(env, st_->fd, KVM_GET_SREGS, &r);
    Napi::Object o = Napi::Object::New(env);
#define X(f) o.Set(#f, SegToJs(env, r.f));
    SREGS_SEGS(X)
#undef X
#define X(f) o.Set(#f, Big(env, r.f));
    SREGS_CRS(X)
#undef X
    for (const char* name : {"gdt", "idt"}) {
      const kvm_dtable& d = name[0] == 'g' ? r.gdt : r.idt;
      Napi::Object t = Napi::Object::New(env);
      t.Set("base", Big(env, d.base));
      t.Set("limit", Napi::Number::New(env, d.limit));
      o.Set(name, t);
    }
    return o;
  }

  // setSregs(partial): read-modify-write, so the interrupt bitmap and unset fields survive.
  Napi::Value SetSregs(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckNotRunning(env);
    Napi::Object o = info[0].As<Napi::Object>();
    kvm_sregs r{};
    IOCTL(env, st_->fd, KVM_GET_SREGS, &r);
#define X(f) if (Has(o, #f)) SegFromJs(env, o.Get(#f).As<Napi::Object>(), r.f);
    SREGS_SEGS(X)
#undef X
#define X(f) if (Has(o, #f)) r.f = ToU64(env, o.Get(#f), #f);
    SREGS_CRS(X)
#undef X
    for (const char* name : {"gdt", "idt"}) {
      if (!Has(o, name)) continue;
      kvm_dtable& d = name[0] == 'g' ? r.gdt : r.idt;
      Napi::Object t = o.Get(name).As<Napi::Object>();
      if (Has(t, "base")) d.base = ToU64(env, t.Get("base"), "table base");
      if (Has(t, "limit")) {
        uint32_t l = ToU32(env, t.Get("limit"), "table limit");
        if (l > 0xffff) ThrowInval(env, "table limit out of range");
        d.limit = (uint16_t)l;
      }
    }
    IOCTL(env, st_->fd, KVM_SET_SREGS, &r);
    return env.Undefined();
  }

  // setFpu({fcw, mxcsr}): the two fields a VMM sets at boot (Firecracker: 0x37f, 0x1f80).
  Napi::Value SetFpu(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckNotRunning(env);
    Napi::Object o = info[0].As<Napi::Object>();
    kvm_fpu f{};
    IOCTL(env, st_->fd, KVM_GET_FPU, &f);
    if (Has(o, "fcw")) f.fcw = (uint16_t)ToU32(env, o.Get("fcw"), "fcw");
    if (Has(o, "mxcsr")) f.mxcsr = ToU32(env, o.Get("mxcsr"), "mxcsr");
    IOCTL(env, st_->fd, KVM_SET_FPU, &f);
    return env.Undefined();
  }

  // getMsrs([index...]) -> [bigint...] (only as many as KVM returned)
  Napi::Value GetMsrs(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckNotRunning(env);
    Napi::Array idx = info[0].As<Napi::Array>();
    uint32_t n = idx.Length();
    MsrsBuf m(n);
    m.hdr()->nmsrs = n;
    for (uint32_t i = 0; i < n; i++) m.entries()[i].index = ToU32(env, idx.Get(i), "msr index");
    int got = Ioctl(env, st_->fd, KILN_KVM_GET_MSRS, m.hdr(), "KVM_GET_MSRS");
    Napi::Array out = Napi::Array::New(env, got);
    for (int i = 0; i < got; i++) out.Set(i, Big(env, m.entries()[i].data));
    return out;
  }

  // setMsrs([{index, data}...]) -> number of MSRs KVM accepted (stops at the first failure)
  Napi::Value SetMsrs(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckNotRunning(env);
    Napi::Array arr = info[0].As<Napi::Array>();
    uint32_t n = arr.Length();
    MsrsBuf m(n);
    m.hdr()->nmsrs = n;
    for (uint32_t i = 0; i < n; i++) {
      Napi::Object e = arr.Get(i).As<Napi::Object>();
      m.entries()[i].index = ToU32(env, e.Get("index"), "msr index");
      m.entries()[i].data = ToU64(env, e.Get("data"), "msr data");
    }
    return Napi::Number::New(env, Ioctl(env, st_->fd, KILN_KVM_SET_MSRS, m.hdr(), "KVM_SET_MSRS"));
  }

  Napi::Value SetCpuid2(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckNotRunning(env);
    Napi::Array arr = info[0].As<Napi::Array>();
    uint32_t n = arr.Length();
    CpuidBuf c(n);
    c.hdr()->nent = n;
    for (uint32_t i = 0; i < n; i++) {
      Napi::Object e = arr.Get(i).As<Napi::Object>();
      kvm_cpuid_entry2& d = c.entries()[i];
      d.function = ToU32(env, e.Get("function"), "cpuid function");
      d.index = Has(e, "index") ? ToU32(env, e.Get("index"), "cpuid index") : 0;
      d.flags = Has(e, "flags") ? ToU32(env, e.Get("flags"), "cpuid flags") : 0;
      d.eax = ToU32(env, e.Get("eax"), "eax");
      d.ebx = ToU32(env, e.Get("ebx"), "ebx");
      d.ecx = ToU32(env, e.Get("ecx"), "ecx");
      d.edx = ToU32(env, e.Get("edx"), "edx");
    }
    Ioctl(env, st_->fd, KILN_KVM_SET_CPUID2, c.hdr(), "KVM_SET_CPUID2");
    return env.Undefined();
  }

  Napi::Value GetMpState(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckNotRunning(env);
    kvm_mp_state s{};
    IOCTL(env, st_->fd, KVM_GET_MP_STATE, &s);
    return Napi::Number::New(env, s.mp_state);
  }

  Napi::Value SetMpState(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckNotRunning(env);
    kvm_mp_state s{};
    s.mp_state = ToU32(env, info[0], "mp_state");
    IOCTL(env, st_->fd, KVM_SET_MP_STATE, &s);
    return env.Undefined();
  }

  Napi::Value GetTscKhz(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckOpen(env);
    return Napi::Number::New(env, IOCTL(env, st_->fd, KVM_GET_TSC_KHZ, 0));
  }

  // start(onExit(exit) -> answer, onDone(info)): spawns the vCPU thread. onExit runs on the
  // main thread while the vCPU waits; its return value (Uint8Array or number) answers reads.
  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckOpen(env);
    VcpuState* s = st_.get();
    if (s->started) ThrowInval(env, "vcpu was already started");
    if (!info[0].IsFunction() || !info[1].IsFunction()) ThrowInval(env, "start(onExit, onDone) needs two functions");
    s->onDone = Napi::Persistent(info[1].As<Napi::Function>());
    Tsfn tsfn = Tsfn::New(env, info[0].As<Napi::Function>(), "kiln-vcpu", 0, 1);
    auto* arg = new ThreadArg{st_, tsfn};
    // Create the thread with every signal blocked so process-directed signals go to Node's
    // threads; the thread then unblocks only the kick signal.
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int err = pthread_create(&s->thread, nullptr, VcpuThread, arg);
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    if (err != 0) {
      delete arg;
      tsfn.Release();
      s->onDone.Reset();
      ThrowIoctl(env, "pthread_create", err);
    }
    s->started = true;
    if (s->sampler.configured()) s->sampler.Start(s->thread, KickSignal());
    return env.Undefined();
  }

  // setProfile(ring: Uint8Array, memory: Uint8Array, hz, descAddr, textLo, textHi, regions: number[]
  // of gpa, size, hostOffset triples): sample this vCPU into `ring` once started (before start()).
  Napi::Value SetProfile(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckOpen(env);
    VcpuState* s = st_.get();
    if (s->started) ThrowInval(env, "setProfile must come before start");
    if (info.Length() < 7 || !info[0].IsTypedArray() || !info[1].IsTypedArray() || !info[6].IsArray()) ThrowInval(env, "setProfile(ring, memory, hz, descAddr, textLo, textHi, regions)");
    auto ring = info[0].As<Napi::Uint8Array>();
    auto mem = info[1].As<Napi::Uint8Array>();
    uint32_t hz = info[2].As<Napi::Number>().Uint32Value();
    if (hz < 1 || hz > 10000) ThrowInval(env, "the sampling rate must be 1 to 10000 Hz");
    if (ring.ByteLength() < KILN_RING_HEADER + 16 || (reinterpret_cast<uintptr_t>(ring.Data()) & 7)) ThrowInval(env, "the profile ring is too small or misaligned");
    auto* header = reinterpret_cast<kiln_profile_ring*>(ring.Data());
    if (header->magic != KILN_RING_MAGIC || header->size < KILN_SAMPLE_MAX_SIZE || header->size % 16 || header->size > ring.ByteLength() - KILN_RING_HEADER) ThrowInval(env, "the profile ring has no valid header");
    auto arr = info[6].As<Napi::Array>();
    RamRegionMap regions[2];
    int n = 0;
    for (uint32_t i = 0; i + 2 < arr.Length() && n < 2; i += 3, n++)
      regions[n] = {(uint64_t)arr.Get(i).As<Napi::Number>().Int64Value(), (uint64_t)arr.Get(i + 1).As<Napi::Number>().Int64Value(), (uint64_t)arr.Get(i + 2).As<Napi::Number>().Int64Value()};
    s->sampler.Configure(hz, ring.Data(), mem.Data(), mem.ByteLength(), regions, n, (uint64_t)info[3].As<Napi::Number>().Int64Value(),
                         (uint64_t)info[4].As<Napi::Number>().Int64Value(), (uint64_t)info[5].As<Napi::Number>().Int64Value());
    s->profileRefs.push_back(Napi::Persistent(info[0].As<Napi::Object>()));
    s->profileRefs.push_back(Napi::Persistent(info[1].As<Napi::Object>()));
    return env.Undefined();
  }

  // stop(): ask the thread to leave KVM_RUN and exit; returns at once. onDone follows.
  // setPortSink(port, fd) routes one-byte OUTs to `port` straight to `fd`; setPortSink(-1)
  // turns it off. Safe while the vCPU runs. Returns the bytes written through the sink so far.
  Napi::Value SetPortSink(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    int64_t port = info[0].As<Napi::Number>().Int64Value();
    if (port < 0) {
      st_->portSink.store(-1, std::memory_order_release);
    } else {
      if (port > 0xffff) ThrowInval(env, "port must be 0..65535");
      int fd = ToFd(env, info[1]);
      st_->portSink.store((port << 32) | (uint32_t)fd, std::memory_order_release);
    }
    return Napi::Number::New(env, (double)st_->sinkBytes.load());
  }

  // addStatusRegister(statusAddr, ackAddr, word: Int32Array over a SharedArrayBuffer): the
  // interrupt-status fast path for one virtio-mmio slot (word[0] is the status).
  Napi::Value AddStatusRegister(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 3 || !info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsTypedArray())
      ThrowInval(env, "addStatusRegister(statusAddr, ackAddr, Int32Array)");
    auto word = info[2].As<Napi::TypedArray>();
    if (word.TypedArrayType() != napi_int32_array || word.ElementLength() < 1) ThrowInval(env, "the status word must be an Int32Array of length >= 1");
    int n = st_->statusRegCount.load();
    if (n >= VcpuState::kMaxStatusRegisters) ThrowInval(env, "too many status registers");
    auto arr = info[2].As<Napi::TypedArrayOf<int32_t>>();
    st_->statusRegs[n] = {(uint64_t)info[0].As<Napi::Number>().Int64Value(), (uint64_t)info[1].As<Napi::Number>().Int64Value(), arr.Data()};
    st_->statusRefs.push_back(Napi::Persistent(info[2].As<Napi::Object>()));
    st_->statusRegCount.store(n + 1, std::memory_order_release);
    return env.Undefined();
  }

  Napi::Value Stop(const Napi::CallbackInfo& info) {
    RequestStop(st_.get());
    return info.Env().Undefined();
  }

  // join(): waits for an exited thread (call after onDone). Returns false if still running.
  Napi::Value Join(const Napi::CallbackInfo& info) {
    VcpuState* s = st_.get();
    if (!s->started || s->joined) return Napi::Boolean::New(info.Env(), true);
    if (!s->exited.load()) return Napi::Boolean::New(info.Env(), false);
    s->sampler.Stop();  // before the join: it kicks the thread
    pthread_join(s->thread, nullptr);
    s->joined = true;
    return Napi::Boolean::New(info.Env(), true);
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Release();
    return info.Env().Undefined();
  }
};

}  // namespace

void KilnVcpuInit(Napi::Env env, Napi::Object exports) {
  struct sigaction sa{};
  sa.sa_handler = KickHandler;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: KVM_RUN must return EINTR
  sigaction(KickSignal(), &sa, nullptr);
  exports.Set("Vcpu", Vcpu::Init(env));
}
