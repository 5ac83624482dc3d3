/* clock.c — the monotonic clock (TSC) and its calibration, and the wall clock.
 * TSC frequency, first source that answers: CPUID leaf 0x40000010 (Kiln's VMM sets it, two
 * cpuid traps), kvmclock's pvclock scale (KVM, e.g. QEMU with KVM), CPUID leaf 0x15, and last
 * the PIT counted against the TSC for 10 ms (QEMU TCG). The wall clock is read once, on first
 * use (QuickJS seeds Math.random from it while creating the context), then advanced with the
 * TSC: from kvmclock's wall-clock MSR where KVM offers it (a few in-kernel MSR traps), else from
 * the CMOS RTC, whose ~16 port reads each exit to the VMM. On the process platform both clocks
 * are the tender's (CLOCK_MONOTONIC and CLOCK_REALTIME through the vDSO, no system call), and a
 * tick is a nanosecond. */
#include "kernel.h"
#include "process.h"
#include "x86.h"

#define MSR_KVM_WALL_CLOCK_NEW 0x4b564d00
#define MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01
#define KVM_FEATURE_CLOCKSOURCE2 (1u << 3)

static uint64_t khz;
static bool kvmclock; /* KVM_FEATURE_CLOCKSOURCE2 */
static uint64_t ns_mult; /* ns = ticks * ns_mult >> 32 */
static const char *source = "none";

struct pvclock {
    volatile uint32_t version, pad0;
    volatile uint64_t tsc_timestamp, system_time;
    volatile uint32_t tsc_to_system_mul;
    volatile int8_t tsc_shift;
    volatile uint8_t flags, pad[2];
} __attribute__((aligned(64)));

static bool is_kvm(uint32_t *max_leaf) {
    uint32_t r[4];
    cpuid(0x40000000, 0, r);
    *max_leaf = r[0];
    return r[1] == 0x4b4d564b && r[2] == 0x564b4d56 && r[3] == 0x4d; /* "KVMKVMKVM\0\0\0" */
}

static uint64_t lapic_khz; /* leaf 0x40000010 EBX, read with the TSC frequency */

static uint64_t from_hypervisor_leaf(uint32_t max_leaf) {
    if (max_leaf < 0x40000010) return 0;
    uint32_t r[4];
    cpuid(0x40000010, 0, r);
    lapic_khz = r[1];
    return r[0];
}

struct pvclock_snapshot { uint64_t tsc, system_ns; uint32_t mul; int8_t shift; };

/* Enable kvmclock on a private page, read one consistent snapshot, and disable it again so the
 * host stops writing into our memory. */
static struct pvclock_snapshot pvclock_read(void) {
    static struct pvclock pv;
    struct pvclock_snapshot s;
    wrmsr(MSR_KVM_SYSTEM_TIME_NEW, (uint64_t)&pv | 1);
    uint32_t v;
    do {
        v = pv.version;
        __asm__ volatile("" ::: "memory");
        s = (struct pvclock_snapshot){ pv.tsc_timestamp, pv.system_time, pv.tsc_to_system_mul, pv.tsc_shift };
        __asm__ volatile("" ::: "memory");
    } while ((v & 1) || v != pv.version);
    wrmsr(MSR_KVM_SYSTEM_TIME_NEW, 0);
    return s;
}

static uint64_t from_kvmclock(void) {
    if (!kvmclock) return 0;
    struct pvclock_snapshot s = pvclock_read();
    if (!s.mul) return 0;
    uint64_t k = (1000000ull << 32) / s.mul;
    return s.shift >= 0 ? k >> s.shift : k << -s.shift;
}

/* Wall clock from KVM: the wall time at kvmclock zero plus kvmclock's system time now. */
static int64_t kvm_wall_ns(void) {
    static struct { volatile uint32_t version, sec, nsec; } __attribute__((packed, aligned(16))) wc;
    struct pvclock_snapshot s = pvclock_read();
    uint64_t delta = rdtsc() - s.tsc;
    delta = s.shift >= 0 ? delta << s.shift : delta >> -s.shift;
    uint64_t system_ns = s.system_ns + (uint64_t)(((unsigned __int128)delta * s.mul) >> 32);
    uint32_t v, sec, nsec;
    wrmsr(MSR_KVM_WALL_CLOCK_NEW, (uint64_t)&wc);
    do {
        v = wc.version;
        __asm__ volatile("" ::: "memory");
        sec = wc.sec;
        nsec = wc.nsec;
        __asm__ volatile("" ::: "memory");
    } while ((v & 1) || v != wc.version);
    return (int64_t)sec * 1000000000ll + nsec + (int64_t)system_ns;
}

static uint64_t from_cpuid_15(void) {
    uint32_t r[4];
    cpuid(0, 0, r);
    if (r[0] < 0x15) return 0;
    cpuid(0x15, 0, r);
    if (!r[0] || !r[1] || !r[2]) return 0;
    return (uint64_t)r[2] * r[1] / r[0] / 1000;
}

static uint16_t pit_read(void) {
    outb(0x43, 0x00); /* latch channel 0 */
    uint8_t lo = inb(0x40);
    return lo | (uint16_t)inb(0x40) << 8;
}

static uint64_t from_pit(void) {
    const uint32_t pit_hz = 1193182, want = pit_hz / 100; /* 10 ms */
    outb(0x43, 0x34); /* channel 0, lo/hi byte, mode 2, binary */
    outb(0x40, 0);
    outb(0x40, 0);    /* reload 65536 */
    uint16_t prev = pit_read();
    uint64_t t0 = rdtsc(), elapsed = 0;
    while (elapsed < want) {
        uint16_t now = pit_read();
        elapsed += (uint16_t)(prev - now); /* counts down, wraps at 65536 */
        prev = now;
    }
    uint64_t t1 = rdtsc();
    return (t1 - t0) * pit_hz / elapsed / 1000;
}

void clock_init(void) {
    if (process_table) { khz = 1000000; ns_mult = 1ull << 32; source = "tender"; return; }
    uint32_t max_leaf = 0, r[4];
    bool kvm = is_kvm(&max_leaf);
    if (kvm) {
        cpuid(0x40000001, 0, r);
        kvmclock = r[0] & KVM_FEATURE_CLOCKSOURCE2;
    }
    if (kvm && (khz = from_hypervisor_leaf(max_leaf))) source = "cpuid-0x40000010";
    else if (kvm && (khz = from_kvmclock())) source = "kvmclock";
    else if ((khz = from_cpuid_15())) source = "cpuid-0x15";
    else { khz = from_pit(); source = "pit"; }
    if (!khz) khz = 1000000; /* cannot happen on a working PIT; keep the clock defined */
    ns_mult = (1000000ull << 32) / khz;
}

TRAP_SAFE uint64_t ticks_to_ns(uint64_t ticks) {
    if (process_table) return ticks;
    return (uint64_t)(((unsigned __int128)ticks * ns_mult) >> 32);
}
TRAP_SAFE uint64_t clock_ticks(void) { return process_table ? (uint64_t)process_table->monotonic_ns() : rdtsc(); }
uint64_t clock_ns(void) { return ticks_to_ns(clock_ticks() - boot_ticks); }
uint64_t tsc_khz(void) { return khz; }
uint64_t lapic_timer_khz(void) { return lapic_khz; }
const char *clock_source(void) { return source; }

/* ---- wall clock: CMOS RTC (MC146818) ---- */

static uint8_t cmos(uint8_t reg) { outb(0x70, reg); return inb(0x71); }
static int bcd(uint8_t v, bool binary) { return binary ? v : (v & 15) + (v >> 4) * 10; }

static int64_t days_from_civil(int64_t y, int m, int d) { /* proleptic Gregorian, 1970-01-01 = 0 */
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int64_t rtc_epoch_seconds(void) {
    uint8_t t[7], again[7];
    static const uint8_t regs[7] = { 0x00, 0x02, 0x04, 0x07, 0x08, 0x09, 0x32 };
    for (int tries = 0; tries < 5; tries++) {
        for (int spin = 0; spin < 100000 && (cmos(0x0a) & 0x80); spin++) pause(); /* update in progress */
        for (int i = 0; i < 7; i++) t[i] = cmos(regs[i]);
        for (int i = 0; i < 7; i++) again[i] = cmos(regs[i]);
        if (__builtin_memcmp(t, again, 7) == 0) break;
    }
    if (t[4] == 0xff || t[4] == 0) return 0; /* no RTC: the epoch */
    uint8_t b = cmos(0x0b);
    bool binary = b & 4, h24 = b & 2;
    int sec = bcd(t[0], binary), min = bcd(t[1], binary);
    int hour = bcd(t[2] & 0x7f, binary);
    if (!h24 && (t[2] & 0x80)) hour = (hour % 12) + 12;
    else if (!h24 && hour == 12) hour = 0;
    int day = bcd(t[3], binary), mon = bcd(t[4], binary), year = bcd(t[5], binary);
    int century = bcd(t[6], binary);
    year += (century >= 19 && century <= 30) ? century * 100 : 2000;
    return days_from_civil(year, mon, day) * 86400 + hour * 3600 + min * 60 + sec;
}

int64_t clock_realtime_ns(void) {
    if (process_table) return process_table->realtime_ns();
    static bool ready;
    static int64_t base_ns;
    static uint64_t base_tsc;
    if (!ready) {
        base_ns = kvmclock ? kvm_wall_ns() : rtc_epoch_seconds() * 1000000000ll;
        base_tsc = rdtsc();
        ready = true;
    }
    return base_ns + (int64_t)ticks_to_ns(rdtsc() - base_tsc);
}
