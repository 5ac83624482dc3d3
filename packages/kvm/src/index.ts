// Public API of @kiln/kvm: the hypervisor seam (types), its /dev/kvm implementation, the fake
// used in tests, KVM constants and the typed error; HostFs, the virtio-fs server's file calls.

export * from './constants.ts';
export * from './errors.ts';
export * from './hypervisor.ts';
export { Kvm, Vm, Vcpu, GuestMemory, EventFd, TapFd, probeKvm, monotonicNs } from './kvm.ts';
export { ADDON_PATH } from './native.ts';
export * from './fs.ts';
