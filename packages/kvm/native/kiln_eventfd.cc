// eventfds for the KVM VMM (packages/kvm/src): eventfd create/read/write, KVM_IOEVENTFD (a guest
// register write signals an eventfd without a userspace exit) and KVM_IRQFD (an eventfd write
// raises a guest interrupt), and the fd watcher that hands readable fds — ioeventfds, TAP — to
// JS on the main thread's libuv loop. Part of the kiln_kvm addon (kiln_kvm.cc, kiln_addon.h).

#include <napi.h>
#include <uv.h>

#include <errno.h>
#include <linux/kvm.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>
#include <map>

#include "kiln_addon.h"

namespace {

using namespace kiln;

// ---------------------------------------------------------------------------------------------
// eventfd, KVM_IOEVENTFD, KVM_IRQFD

Napi::Value EventFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t init = info.Length() > 0 ? ToU32(env, info[0], "initval") : 0;
  int fd = eventfd(init, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0) ThrowIoctl(env, "eventfd", errno);
  return Napi::Number::New(env, fd);
}

// Returns the counter (and resets it) or null when it is zero.
Napi::Value EventFdRead(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ToFd(env, info[0]);
  uint64_t v = 0;
  for (;;) {
    ssize_t n = read(fd, &v, sizeof v);
    if (n == (ssize_t)sizeof v) return Big(env, v);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return env.Null();
    ThrowIoctl(env, "read(eventfd)", n < 0 ? errno : EIO);
  }
}

Napi::Value EventFdWrite(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ToFd(env, info[0]);
  uint64_t v = ToU64(env, info[1], "value");
  for (;;) {
    ssize_t n = write(fd, &v, sizeof v);
    if (n == (ssize_t)sizeof v) return env.Undefined();
    if (n < 0 && errno == EINTR) continue;
    ThrowIoctl(env, "write(eventfd)", n < 0 ? errno : EIO);
  }
}

Napi::Value IoEventFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int vm = ToFd(env, info[0]);
  Napi::Object o = info[1].As<Napi::Object>();
  kvm_ioeventfd e{};
  e.addr = ToU64(env, o.Get("addr"), "addr");
  e.len = ToU32(env, o.Get("len"), "len");
  e.fd = ToFd(env, o.Get("fd"));
  if (Has(o, "datamatch")) {
    e.datamatch = ToU64(env, o.Get("datamatch"), "datamatch");
    e.flags |= KVM_IOEVENTFD_FLAG_DATAMATCH;
  }
  if (Has(o, "pio") && o.Get("pio").ToBoolean()) e.flags |= KVM_IOEVENTFD_FLAG_PIO;
  if (Has(o, "deassign") && o.Get("deassign").ToBoolean()) e.flags |= KVM_IOEVENTFD_FLAG_DEASSIGN;
  IOCTL(env, vm, KVM_IOEVENTFD, &e);
  return env.Undefined();
}

Napi::Value IrqFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int vm = ToFd(env, info[0]);
  Napi::Object o = info[1].As<Napi::Object>();
  kvm_irqfd f{};
  f.fd = ToFd(env, o.Get("fd"));
  f.gsi = ToU32(env, o.Get("gsi"), "gsi");
  if (Has(o, "deassign") && o.Get("deassign").ToBoolean()) f.flags |= KVM_IRQFD_FLAG_DEASSIGN;
  IOCTL(env, vm, KVM_IRQFD, &f);
  return env.Undefined();
}

// ---------------------------------------------------------------------------------------------
// eventfd watcher: a uv_poll on the main thread's loop. When the fd becomes readable the counter
// is read (and reset) here and passed to the JS callback as a number, so one notification burst
// is one call. Keeps the loop alive until unwatchFd(). For ioeventfds (guest QueueNotify).

struct FdWatch {
  uv_poll_t poll;
  Napi::FunctionReference cb;
  napi_env env;
  int fd;
  uint32_t id;
  bool raw;  // only report readability; the caller reads the fd itself (TAP)
};
std::map<uint32_t, FdWatch*> g_watches;
uint32_t g_next_watch = 1;

void OnWatchClosed(uv_handle_t* h) {
  FdWatch* w = static_cast<FdWatch*>(h->data);
  w->cb.Reset();
  delete w;
}

void OnWatchReadable(uv_poll_t* h, int status, int events) {
  FdWatch* w = static_cast<FdWatch*>(h->data);
  uint64_t total = 0;
  if (w->raw) {
    total = (status == 0 && (events & UV_READABLE)) ? 1 : 0;
  } else if (status == 0 && (events & UV_READABLE)) {
    for (;;) {
      uint64_t v = 0;
      ssize_t n = read(w->fd, &v, sizeof v);
      if (n == (ssize_t)sizeof v) {
        total += v;
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      break;  // EAGAIN: drained
    }
  }
  if (total == 0 && status == 0) return;
  Napi::Env env(w->env);
  Napi::HandleScope scope(env);
  try {
    w->cb.MakeCallback(env.Global(), {Napi::Number::New(env, static_cast<double>(total)),
                                      Napi::Number::New(env, status)});
  } catch (const Napi::Error& e) {
    napi_fatal_exception(w->env, e.Value());
  }
}

// watchFd(fd, cb(count, status), raw?) -> id. With raw, nothing is read: cb(1, 0) means readable.
Napi::Value WatchFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ToFd(env, info[0]);
  if (!info[1].IsFunction()) ThrowInval(env, "watchFd needs a callback");
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || !loop) ThrowInval(env, "no libuv loop");
  auto* w = new FdWatch();
  w->fd = fd;
  w->env = env;
  w->raw = info.Length() > 2 && info[2].IsBoolean() && info[2].As<Napi::Boolean>().Value();
  w->id = g_next_watch++;
  w->poll.data = w;
  int r = uv_poll_init(loop, &w->poll, fd);
  if (r != 0) {
    delete w;
    ThrowIoctl(env, "uv_poll_init", -r);
  }
  w->cb = Napi::Persistent(info[1].As<Napi::Function>());
  r = uv_poll_start(&w->poll, UV_READABLE, OnWatchReadable);
  if (r != 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(&w->poll), OnWatchClosed);
    ThrowIoctl(env, "uv_poll_start", -r);
  }
  g_watches[w->id] = w;
  return Napi::Number::New(env, w->id);
}

// unwatchFd(id): stops and closes the poll handle (idempotent). The fd itself stays open.
Napi::Value UnwatchFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t id = ToU32(env, info[0], "id");
  auto it = g_watches.find(id);
  if (it == g_watches.end()) return env.Undefined();
  FdWatch* w = it->second;
  g_watches.erase(it);
  uv_poll_stop(&w->poll);
  uv_close(reinterpret_cast<uv_handle_t*>(&w->poll), OnWatchClosed);
  return env.Undefined();
}

}  // namespace

void KilnEventfdInit(Napi::Env env, Napi::Object exports) {
  exports.Set("eventfd", Napi::Function::New(env, EventFd));
  exports.Set("eventfdRead", Napi::Function::New(env, EventFdRead));
  exports.Set("eventfdWrite", Napi::Function::New(env, EventFdWrite));
  exports.Set("ioeventfd", Napi::Function::New(env, IoEventFd));
  exports.Set("irqfd", Napi::Function::New(env, IrqFd));
  exports.Set("watchFd", Napi::Function::New(env, WatchFd));
  exports.Set("unwatchFd", Napi::Function::New(env, UnwatchFd));
}
