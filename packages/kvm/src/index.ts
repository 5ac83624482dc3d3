// Public API of @kiln/kvm: the hypervisor seam (types), its /dev/kvm implementation, KVM
// constants and the typed error; the addon's memory and fd helpers the process platform shares
// (shared GuestMemory, EventFd); HostFs, the virtio-fs server's file calls.

export * from './constants.ts';
export * from './errors.ts';
export * from './hypervisor.ts';
export { Kvm, Vm, Vcpu, GuestMemory, EventFd, TapFd, SpawnedProcess, socketPair, probeKvm, monotonicNs } from './kvm.ts';
export { ADDON_PATH, loadAddon } from './native.ts';
export * from './fs.ts';
