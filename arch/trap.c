/* trap.c — IDT, TSS and what happens on an exception or interrupt.
 * Every vector runs on an IST stack from the TSS (IST1 interrupts, IST2 exceptions), so an
 * interrupt never writes into the red zone of the code it interrupts (musl and QuickJS are
 * compiled with one) — the nested PVM hypervisor honours TSS IST too (PVM.md §1 step 5).
 * Interrupts only set flags (irq.c's pending mask; a timer interrupt just ends the halt; the event loop does the work); a CPU exception prints the vector,
 * error code, registers and the faulting RIP with its nearest symbol, then exits with code 99.
 * On the process platform there is no IDT: the tender turns SIGSEGV/SIGILL/SIGFPE/SIGBUS/SIGSYS
 * into a struct kiln_fault (process.h) and calls process_fault, which prints the same report. */
#include <signal.h>
#include "kernel.h"
#include "process.h"
#include "x86.h"

struct trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error, rip, cs, rflags, rsp, ss;
};

struct __attribute__((packed)) tss64 {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3, iomap_base;
};

struct __attribute__((packed)) idt_gate {
    uint16_t offset_lo, selector;
    uint8_t ist, type;
    uint16_t offset_mid;
    uint32_t offset_hi, reserved;
};

extern char trap_stubs[];
extern uint64_t gdt_rw[];
static struct idt_gate idt[256] __attribute__((aligned(16)));
static struct tss64 tss __attribute__((aligned(16)));
static char ist_irq_stack[16384] __attribute__((aligned(16)));
static char ist_fault_stack[16384] __attribute__((aligned(16)));

static const char *const exception_names[32] = {
    "#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow", "#BR bound range",
    "#UD invalid opcode", "#NM device not available", "#DF double fault", "coprocessor overrun",
    "#TS invalid TSS", "#NP segment not present", "#SS stack fault", "#GP general protection",
    "#PF page fault", "reserved", "#MF x87 error", "#AC alignment check", "#MC machine check",
    "#XM SIMD error", "#VE virtualization", "#CP control protection",
};

static void process_fault(const struct kiln_fault *f);

void trap_init(void) {
    if (process_table) { process_table->set_fault_handler(process_fault); return; }
    /* TSS descriptor at selector 0x18: 64-bit available TSS (type 9), present. */
    uint64_t base = (uint64_t)&tss, limit = sizeof tss - 1;
    tss.ist[0] = (uint64_t)(ist_irq_stack + sizeof ist_irq_stack);
    tss.ist[1] = (uint64_t)(ist_fault_stack + sizeof ist_fault_stack);
    tss.iomap_base = sizeof tss;
    gdt_rw[3] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ULL << 40) |
                (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
    gdt_rw[4] = base >> 32;
    __asm__ volatile("ltr %w0" ::"r"(0x18));

    for (int v = 0; v < 256; v++) {
        uint64_t h = (uint64_t)trap_stubs + 16 * v;
        idt[v] = (struct idt_gate){
            .offset_lo = h & 0xffff, .selector = 0x08, .ist = v < 32 ? 2 : 1, .type = 0x8e,
            .offset_mid = (h >> 16) & 0xffff, .offset_hi = h >> 32,
        };
    }
    struct __attribute__((packed)) { uint16_t limit; uint64_t base; } idtr = { sizeof idt - 1, (uint64_t)idt };
    __asm__ volatile("lidt %0" ::"m"(idtr));
}

TRAP_SAFE static void print_symbol(const char *label, uint64_t addr) {
    uint64_t off;
    const char *name = symbol_for(addr, &off);
    if (name) kprintf("%s 0x%016lx <%s+0x%lx>\n", label, addr, name, off);
    else kprintf("%s 0x%016lx\n", label, addr);
}

/* `cr2`: the faulting address of a #PF. `syscall` >= 0: the process platform's seccomp filter
 * refused that system call (the report then names it instead of an exception vector). */
TRAP_SAFE static void NORETURN report_fault(struct trap_frame *f, uint64_t cr2, int64_t syscall) {
    irq_disable();
    const char *name = f->vector < 32 && exception_names[f->vector] ? exception_names[f->vector] : "exception";
    if (syscall >= 0) kprintf("\nkiln: system call %ld refused (the guest executed a `syscall` instruction), platform %s\n", syscall, platform_name());
    else kprintf("\nkiln: CPU exception %lu (%s), error code 0x%lx, platform %s\n", f->vector, name, f->error, platform_name());
    print_symbol("  rip", f->rip);
    if (f->vector == 14) kprintf("  cr2 0x%016lx (%s %s, %s)\n", cr2, f->error & 1 ? "protection" : "not present",
                                 f->error & 16 ? "fetch" : f->error & 2 ? "write" : "read", f->error & 4 ? "user" : "kernel");
    kprintf("  rax %016lx rbx %016lx rcx %016lx rdx %016lx\n", f->rax, f->rbx, f->rcx, f->rdx);
    kprintf("  rsi %016lx rdi %016lx rbp %016lx rsp %016lx\n", f->rsi, f->rdi, f->rbp, f->rsp);
    kprintf("  r8  %016lx r9  %016lx r10 %016lx r11 %016lx\n", f->r8, f->r9, f->r10, f->r11);
    kprintf("  r12 %016lx r13 %016lx r14 %016lx r15 %016lx\n", f->r12, f->r13, f->r14, f->r15);
    kprintf("  cs %04lx ss %04lx rflags %08lx\n", f->cs, f->ss, f->rflags);
    /* A few return-address candidates from the interrupted stack (no frame pointers). */
    uint64_t *sp = (uint64_t *)f->rsp;
    if (f->rsp >= (uint64_t)boot_stack && f->rsp < (uint64_t)boot_stack_top) {
        int shown = 0;
        for (int i = 0; i < 64 && (uint64_t)(sp + i) < (uint64_t)boot_stack_top && shown < 8; i++) {
            uint64_t off;
            const char *n = symbol_for(sp[i], &off);
            if (n && off > 0 && sp[i] < (uint64_t)__payload_start) { print_symbol("  stack", sp[i]); shown++; }
        }
    }
    machine_exit(EXIT_CPU_FAULT);
}

TRAP_SAFE void trap_dispatch(struct trap_frame *f) {
    if (f->vector < 32) report_fault(f, f->vector == 14 ? read_cr2() : 0, -1);
    if (f->vector == VEC_SPURIOUS) return;
    if (f->vector >= VEC_IRQ_BASE && f->vector < VEC_IRQ_BASE + IRQ_PINS) irq_raise((unsigned)(f->vector - VEC_IRQ_BASE));
    lapic_eoi();
    if (cpu_in_halt_window(f->rip)) f->rip = cpu_halt_window_end();
}

/* Called by the tender's signal handler, on its signal stack. The kernel's trap number is the
 * x86 vector for SIGSEGV (#PF, or #GP for a privileged instruction), SIGILL, SIGFPE and SIGBUS. */
TRAP_SAFE static void process_fault(const struct kiln_fault *k) {
    struct trap_frame f = {
        .r15 = k->r15, .r14 = k->r14, .r13 = k->r13, .r12 = k->r12, .r11 = k->r11, .r10 = k->r10, .r9 = k->r9,
        .r8 = k->r8, .rbp = k->rbp, .rdi = k->rdi, .rsi = k->rsi, .rdx = k->rdx, .rcx = k->rcx, .rbx = k->rbx,
        .rax = k->rax, .vector = k->trapno, .error = k->error, .rip = k->rip, .cs = k->cs, .rflags = k->rflags,
        .rsp = k->rsp, .ss = k->ss,
    };
    report_fault(&f, k->addr, k->signal == SIGSYS ? k->syscall : -1);
}
