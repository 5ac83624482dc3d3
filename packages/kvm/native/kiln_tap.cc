// Opening a TAP interface for `kiln run --net tap=NAME` (Documentation/networking/tuntap.rst):
// not KVM, but a host fd the VMM's virtio-net device reads and writes, watched with watchFd
// (kiln_eventfd.cc). Part of the kiln_kvm addon (kiln_addon.h).

#include <napi.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdint>
#include <string>

#include "kiln_addon.h"

namespace {

using namespace kiln;

// tapOpen(name, vnetHdrSize = 0) -> fd: opens /dev/net/tun non-blocking and attaches it to TAP
// interface `name` (IFF_TAP | IFF_NO_PI: each read/write is one Ethernet frame, no packet-info
// prefix). With vnetHdrSize > 0 (10 or 12): IFF_VNET_HDR and TUNSETVNETHDRSZ, so every frame
// read or written starts with a virtio_net_hdr of that size.
Napi::Value TapOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) ThrowInval(env, "tapOpen needs an interface name");
  std::string name = info[0].As<Napi::String>().Utf8Value();
  if (name.empty() || name.size() >= IFNAMSIZ) ThrowInval(env, "TAP interface name must be 1 to 15 bytes");
  uint32_t vnet_hdr_sz = info.Length() > 1 && !info[1].IsUndefined() ? ToU32(env, info[1], "vnetHdrSize") : 0;
  if (vnet_hdr_sz != 0 && vnet_hdr_sz != 10 && vnet_hdr_sz != 12) ThrowInval(env, "vnetHdrSize must be 0, 10 or 12");
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) ThrowIoctl(env, "open /dev/net/tun", errno);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (vnet_hdr_sz != 0 ? IFF_VNET_HDR : 0);
  memcpy(ifr.ifr_name, name.data(), name.size());
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    int err = errno;
    close(fd);
    ThrowIoctl(env, "TUNSETIFF", err);
  }
  if (vnet_hdr_sz != 0) {
    int sz = static_cast<int>(vnet_hdr_sz);
    if (ioctl(fd, TUNSETVNETHDRSZ, &sz) < 0) {
      int err = errno;
      close(fd);
      ThrowIoctl(env, "TUNSETVNETHDRSZ", err);
    }
  }
  return Napi::Number::New(env, fd);
}

}  // namespace

void KilnTapInit(Napi::Env env, Napi::Object exports) {
  exports.Set("tapOpen", Napi::Function::New(env, TapOpen));
}
