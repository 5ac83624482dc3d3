// Constants of the Linux KVM API with the kernel's own names (include/uapi/linux/kvm.h,
// arch/x86/include/uapi/asm/kvm.h). Only what Kiln uses; values checked against the headers of
// the build host. See Documentation/virt/kvm/api.rst for their meaning.

export const KVM_API_VERSION = 12;

// struct kvm_run exit_reason (linux/kvm.h)
export const KVM_EXIT_UNKNOWN = 0;
export const KVM_EXIT_EXCEPTION = 1;
export const KVM_EXIT_IO = 2;
export const KVM_EXIT_HYPERCALL = 3;
export const KVM_EXIT_DEBUG = 4;
export const KVM_EXIT_HLT = 5;
export const KVM_EXIT_MMIO = 6;
export const KVM_EXIT_IRQ_WINDOW_OPEN = 7;
export const KVM_EXIT_SHUTDOWN = 8;
export const KVM_EXIT_FAIL_ENTRY = 9;
export const KVM_EXIT_INTR = 10;
export const KVM_EXIT_NMI = 16;
export const KVM_EXIT_INTERNAL_ERROR = 17;
export const KVM_EXIT_SYSTEM_EVENT = 24;
export const KVM_EXIT_X86_RDMSR = 29;
export const KVM_EXIT_X86_WRMSR = 30;

export const KVM_EXIT_IO_IN = 0;
export const KVM_EXIT_IO_OUT = 1;

// run->internal.suberror for KVM_EXIT_INTERNAL_ERROR
export const KVM_INTERNAL_ERROR_EMULATION = 1;
export const KVM_INTERNAL_ERROR_SIMUL_EX = 2;
export const KVM_INTERNAL_ERROR_DELIVERY_EV = 3;
export const KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON = 4;

// run->system_event.type for KVM_EXIT_SYSTEM_EVENT
export const KVM_SYSTEM_EVENT_SHUTDOWN = 1;
export const KVM_SYSTEM_EVENT_RESET = 2;
export const KVM_SYSTEM_EVENT_CRASH = 3;

// struct kvm_mp_state (linux/kvm.h)
export const KVM_MP_STATE_RUNNABLE = 0;
export const KVM_MP_STATE_UNINITIALIZED = 1;
export const KVM_MP_STATE_INIT_RECEIVED = 2;
export const KVM_MP_STATE_HALTED = 3;
export const KVM_MP_STATE_SIPI_RECEIVED = 4;

// KVM_CHECK_EXTENSION capabilities used by Kiln
export const KVM_CAP_IRQCHIP = 0;
export const KVM_CAP_HLT = 1;
export const KVM_CAP_USER_MEMORY = 3;
export const KVM_CAP_SET_TSS_ADDR = 4;
export const KVM_CAP_EXT_CPUID = 7;
export const KVM_CAP_NR_VCPUS = 9;
export const KVM_CAP_NR_MEMSLOTS = 10;
export const KVM_CAP_PIT2 = 33;
export const KVM_CAP_IOEVENTFD = 36;
export const KVM_CAP_IRQFD = 32;
export const KVM_CAP_MAX_VCPUS = 66;
export const KVM_CAP_IMMEDIATE_EXIT = 136;

// KVM_CREATE_PIT2 flags
export const KVM_PIT_SPEAKER_DUMMY = 1;

// struct kvm_cpuid_entry2 flags (asm/kvm.h)
export const KVM_CPUID_FLAG_SIGNIFCANT_INDEX = 1;

/** Name of an exit reason for messages ("KVM_EXIT_IO"), or "exit reason N". */
export function exitReasonName(reason: number): string {
  for (const [name, value] of Object.entries(EXIT_NAMES)) if (value === reason) return name;
  return `exit reason ${reason}`;
}

const EXIT_NAMES: Record<string, number> = {
  KVM_EXIT_UNKNOWN,
  KVM_EXIT_EXCEPTION,
  KVM_EXIT_IO,
  KVM_EXIT_HYPERCALL,
  KVM_EXIT_DEBUG,
  KVM_EXIT_HLT,
  KVM_EXIT_MMIO,
  KVM_EXIT_IRQ_WINDOW_OPEN,
  KVM_EXIT_SHUTDOWN,
  KVM_EXIT_FAIL_ENTRY,
  KVM_EXIT_INTR,
  KVM_EXIT_NMI,
  KVM_EXIT_INTERNAL_ERROR,
  KVM_EXIT_SYSTEM_EVENT,
  KVM_EXIT_X86_RDMSR,
  KVM_EXIT_X86_WRMSR,
};
