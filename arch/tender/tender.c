/* tender.c — the process platform's tender: runs one Kiln image as a confined Linux process, the
 * way Solo5's spt tender runs a unikernel (Williams et al., "Unikernels as Processes", SoCC'18).
 * The VMM has written the image's segments and the boot structures into guest RAM (a memfd it
 * shares with us) and hands us the fds of process.h. In order, before the first guest
 * instruction:
 *   1. check the arguments and the ABI version (a stale tender refuses to run: exit 3);
 *   2. map guest RAM so that guest-physical address = virtual address, and the control page;
 *      give each image segment its protections (text r-x, rodata r--, data rw-; never w+x);
 *   3. close every fd we were not handed; make the timerfd and epoll fds the calls wait on;
 *   4. new user, mount, network, IPC, UTS and PID namespaces, an empty chroot (what the host
 *      refuses is said on stderr), then PR_SET_NO_NEW_PRIVS and the seccomp filter (seccomp.c);
 *      no filter, no guest, unless --unconfined;
 *   5. fault handlers (fault.c), the profiler's timer when asked (sampler.c), HELLO on the
 *      channel, and jump to the core's process entry.
 * Contract: docs/ARCHITECTURE.md "The process platform". */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>
#include "tender.h"

#define PAGE 4096ull
#define MAX_SEGMENTS 16
#define PF_X 1
#define PF_W 2
#define PF_R 4

struct segment { uint64_t addr, size; unsigned flags; };
static struct segment segs[MAX_SEGMENTS];
static unsigned nsegs;
static uint64_t ram_size, entry, zero_page;
static bool unconfined;
static struct tender_profile profile; /* hz 0: not sampling */
static pid_t parent; /* the VMM: when it dies, so does the guest */

static __attribute__((noreturn, format(printf, 2, 3))) void die(int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("kiln-tender: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(code);
}

static uint64_t number(const char *s, const char *what) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || end == s || *end) die(TENDER_EXIT_USAGE, "bad %s '%s'", what, s);
    return v;
}

static void parse_args(int argc, char **argv) {
    uint64_t abi = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--unconfined") == 0) { unconfined = true; continue; }
        if (!v) die(TENDER_EXIT_USAGE, "%s needs a value", a);
        i++;
        if (strcmp(a, "--abi") == 0) abi = number(v, "ABI version");
        else if (strcmp(a, "--ram-size") == 0) ram_size = number(v, "RAM size");
        else if (strcmp(a, "--entry") == 0) entry = number(v, "entry");
        else if (strcmp(a, "--zero-page") == 0) zero_page = number(v, "zero page");
        else if (strcmp(a, "--parent") == 0) parent = (pid_t)number(v, "parent pid");
        else if (strcmp(a, "--profile-hz") == 0) profile.hz = number(v, "sampling rate");
        else if (strcmp(a, "--profile-desc") == 0) profile.desc = number(v, "profile descriptor address");
        else if (strcmp(a, "--profile-ring") == 0) profile.ring_size = number(v, "profile ring size");
        else if (strcmp(a, "--segment") == 0) { /* ADDR:SIZE:FLAGS (ELF p_flags) */
            if (nsegs == MAX_SEGMENTS) die(TENDER_EXIT_USAGE, "more than %d segments", MAX_SEGMENTS);
            char buf[96], *p1, *p2;
            snprintf(buf, sizeof buf, "%s", v);
            if (!(p1 = strchr(buf, ':')) || !(p2 = strchr(p1 + 1, ':'))) die(TENDER_EXIT_USAGE, "bad segment '%s' (want ADDR:SIZE:FLAGS)", v);
            *p1++ = 0, *p2++ = 0;
            segs[nsegs++] = (struct segment){ number(buf, "segment address"), number(p1, "segment size"), (unsigned)number(p2, "segment flags") };
        } else die(TENDER_EXIT_USAGE, "unknown option %s", a);
    }
    if (abi != KILN_PROCESS_ABI)
        die(TENDER_EXIT_ABI, "this tender speaks process ABI %d, the VMM asked for %llu: rebuild it with `make -C arch`", KILN_PROCESS_ABI, (unsigned long long)abi);
    if (ram_size < ((uint64_t)MEM_MIB_MIN << 20) || ram_size > ((uint64_t)MEM_MIB_MAX << 20) || ram_size % PAGE) die(TENDER_EXIT_USAGE, "bad RAM size %llu", (unsigned long long)ram_size);
    if (nsegs == 0) die(TENDER_EXIT_USAGE, "no image segments");
    if (profile.hz && (profile.hz > PROFILE_HZ_MAX || profile.ring_size < PROFILE_RING_MIN || profile.ring_size > PROFILE_RING_MAX || profile.ring_size % 16))
        die(TENDER_EXIT_USAGE, "bad profile: %llu Hz (at most %d), ring of %llu bytes (a multiple of 16 in [%d, %d])", (unsigned long long)profile.hz,
            PROFILE_HZ_MAX, (unsigned long long)profile.ring_size, PROFILE_RING_MIN, PROFILE_RING_MAX);
}

/* The pages a segment occupies: [seg_lo, seg_hi). */
static uint64_t seg_lo(const struct segment *s) { return s->addr & ~(PAGE - 1); }
static uint64_t seg_hi(const struct segment *s) { return (s->addr + s->size + PAGE - 1) & ~(PAGE - 1); }

static uint64_t low_ram_end(void) { return ram_size < MMIO_GAP_START ? ram_size : MMIO_GAP_START; }

bool tender_in_ram(uint64_t addr, uint64_t size) {
    uint64_t end;
    if (__builtin_add_overflow(addr, size, &end)) return false;
    if (addr >= PAGE && end <= low_ram_end()) return true;
    return ram_size > MMIO_GAP_START && addr >= MMIO_GAP_END && end <= MMIO_GAP_END + (ram_size - MMIO_GAP_START);
}

/* The same checks as the VMM's ELF loader (packages/vmm/src/boot/elf_loader.ts), again, at page
 * granularity: inside RAM and at or above 1 MiB, no two segments in one page, never writable and
 * executable, the entry inside an executable segment. */
static void check_segments(void) {
    bool entry_ok = false;
    for (unsigned i = 0; i < nsegs; i++) {
        struct segment *s = &segs[i];
        if (s->size == 0 || s->addr < IMAGE_LOAD_ADDR || !tender_in_ram(s->addr, s->size))
            die(TENDER_EXIT_SETUP, "segment %u [0x%llx, +0x%llx) is not in guest RAM above 1 MiB", i, (unsigned long long)s->addr, (unsigned long long)s->size);
        if ((s->flags & PF_W) && (s->flags & PF_X)) die(TENDER_EXIT_SETUP, "segment %u is writable and executable", i);
        for (unsigned j = 0; j < i; j++) {
            if (seg_lo(s) < seg_hi(&segs[j]) && seg_lo(&segs[j]) < seg_hi(s)) die(TENDER_EXIT_SETUP, "segments %u and %u share a page", j, i);
        }
        if ((s->flags & PF_X) && entry >= s->addr && entry < s->addr + s->size) entry_ok = true;
    }
    for (unsigned i = 0; i < nsegs; i++) { /* the sampler's "in the guest" range */
        if (!(segs[i].flags & PF_X)) continue;
        if (!profile.text_lo || segs[i].addr < profile.text_lo) profile.text_lo = segs[i].addr;
        if (segs[i].addr + segs[i].size > profile.text_hi) profile.text_hi = segs[i].addr + segs[i].size;
    }
    if (!entry_ok) die(TENDER_EXIT_SETUP, "the process entry 0x%llx is not in an executable segment", (unsigned long long)entry);
    if (!tender_in_ram(zero_page, PAGE)) die(TENDER_EXIT_SETUP, "the zero page 0x%llx is not in guest RAM", (unsigned long long)zero_page);
}

static void map_fixed(uint64_t addr, uint64_t size, uint64_t offset) {
    void *p = mmap((void *)addr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED_NOREPLACE, FD_RAM, (off_t)offset);
    if (p == MAP_FAILED) die(TENDER_EXIT_SETUP, "cannot map guest RAM at [0x%llx, +0x%llx): %s", (unsigned long long)addr, (unsigned long long)size, strerror(errno));
    if (p != (void *)addr) die(TENDER_EXIT_SETUP, "guest RAM at 0x%llx overlaps the tender (kernel without MAP_FIXED_NOREPLACE?)", (unsigned long long)addr);
}

static volatile uint32_t *map_memory(void) {
    struct stat st;
    if (fstat(FD_RAM, &st) != 0 || (uint64_t)st.st_size < ram_size + CONTROL_SIZE)
        die(TENDER_EXIT_SETUP, "the RAM fd is smaller than RAM plus the control page");
    map_fixed(PAGE, low_ram_end() - PAGE, PAGE); /* page 0 stays unmapped (vm.mmap_min_addr): NULL faults */
    if (ram_size > MMIO_GAP_START) map_fixed(MMIO_GAP_END, ram_size - MMIO_GAP_START, MMIO_GAP_START);
    for (unsigned i = 0; i < nsegs; i++) {
        uint64_t lo = seg_lo(&segs[i]), hi = seg_hi(&segs[i]);
        int prot = (segs[i].flags & PF_R ? PROT_READ : 0) | (segs[i].flags & PF_W ? PROT_WRITE : 0) | (segs[i].flags & PF_X ? PROT_EXEC : 0);
        if (mprotect((void *)lo, hi - lo, prot) != 0) die(TENDER_EXIT_SETUP, "mprotect segment %u: %s", i, strerror(errno));
    }
    void *c = mmap(NULL, CONTROL_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, FD_RAM, (off_t)ram_size);
    if (c == MAP_FAILED) die(TENDER_EXIT_SETUP, "cannot map the control page: %s", strerror(errno));
    return c;
}

/* The profile ring the VMM set up after the control page (its header says so). */
static void *map_profile_ring(void) {
    struct stat st;
    uint64_t bytes = KILN_RING_HEADER + profile.ring_size;
    if (fstat(FD_RAM, &st) != 0 || (uint64_t)st.st_size < ram_size + PROFILE_RING_OFFSET + bytes)
        die(TENDER_EXIT_SETUP, "the RAM fd has no room for the profile ring");
    struct kiln_profile_ring *r = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, FD_RAM, (off_t)(ram_size + PROFILE_RING_OFFSET));
    if (r == MAP_FAILED) die(TENDER_EXIT_SETUP, "cannot map the profile ring: %s", strerror(errno));
    if (r->magic != KILN_RING_MAGIC || r->size != profile.ring_size) die(TENDER_EXIT_SETUP, "the profile ring's header does not match --profile-ring");
    return r;
}

static void check_handed_fds(void) {
    const int fds[] = { FD_CONSOLE, FD_DIAG, FD_CHANNEL, FD_RAM, FD_WAKE, FD_NOTIFY };
    for (unsigned i = 0; i < sizeof fds / sizeof fds[0]; i++)
        if (fcntl(fds[i], F_GETFD) < 0) die(TENDER_EXIT_USAGE, "fd %d was not handed to the tender", fds[i]);
}

static void make_wait_fds(void) {
    if (syscall(SYS_close_range, FD_FIRST_FREE, ~0u, 0) != 0)
        for (int fd = FD_FIRST_FREE; fd < 1024; fd++) close(fd); /* kernels before 5.9 */
    tender_fds.timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    tender_fds.wait_epoll = epoll_create1(0);
    if (tender_fds.timer < 0 || tender_fds.wait_epoll < 0) die(TENDER_EXIT_SETUP, "timerfd/epoll: %s", strerror(errno));
    struct epoll_event wake = { .events = EPOLLIN, .data.fd = FD_WAKE }, timer = { .events = EPOLLIN, .data.fd = tender_fds.timer };
    if (epoll_ctl(tender_fds.wait_epoll, EPOLL_CTL_ADD, FD_WAKE, &wake) || epoll_ctl(tender_fds.wait_epoll, EPOLL_CTL_ADD, tender_fds.timer, &timer))
        die(TENDER_EXIT_SETUP, "epoll_ctl: %s", strerror(errno));
    /* A pipe or socket console can be full (EAGAIN when the VMM made it non-blocking): the
     * console write then waits for EPOLLOUT. A file or terminal is refused by epoll and never blocks. */
    int out = epoll_create1(0);
    struct epoll_event ev = { .events = EPOLLOUT, .data.fd = FD_CONSOLE };
    if (out >= 0 && epoll_ctl(out, EPOLL_CTL_ADD, FD_CONSOLE, &ev) == 0) tender_fds.out_epoll = out;
    else if (out >= 0) close(out);
}

static bool write_file(const char *path, const char *s) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return false;
    bool ok = write(fd, s, strlen(s)) == (ssize_t)strlen(s);
    close(fd);
    return ok;
}

/* Namespaces where the host allows them; the seccomp filter is what confines the guest, these
 * are the second wall. Returns after forking into the new PID namespace (the parent only waits). */
static void enter_namespaces(void) {
    uid_t uid = getuid();
    gid_t gid = getgid();
    if (unshare(CLONE_NEWUSER) != 0) {
        fprintf(stderr, "kiln-tender: the host refused a user namespace (%s); running without namespaces, under seccomp\n", strerror(errno));
        return;
    }
    char map[64];
    snprintf(map, sizeof map, "0 %u 1", (unsigned)uid); /* root inside maps to the caller outside: nothing more */
    write_file("/proc/self/setgroups", "deny");
    write_file("/proc/self/uid_map", map);
    snprintf(map, sizeof map, "0 %u 1", (unsigned)gid);
    write_file("/proc/self/gid_map", map);
    static const struct { int flag; const char *name; } others[] = {
        { CLONE_NEWNS, "mount" }, { CLONE_NEWNET, "network" }, { CLONE_NEWIPC, "IPC" }, { CLONE_NEWUTS, "UTS" }, { CLONE_NEWPID, "PID" },
    };
    bool mount_ns = false, pid_ns = false;
    for (unsigned i = 0; i < sizeof others / sizeof others[0]; i++) {
        if (unshare(others[i].flag) == 0) {
            mount_ns |= others[i].flag == CLONE_NEWNS;
            pid_ns |= others[i].flag == CLONE_NEWPID;
        } else {
            fprintf(stderr, "kiln-tender: the host refused a %s namespace (%s)\n", others[i].name, strerror(errno));
        }
    }
    /* An empty, read-only root: no host file is reachable even by name. chroot, not pivot_root:
     * detaching the old root tree costs ~4 ms, and leaving the chroot needs calls the filter refuses. */
    if (mount_ns) {
        static const char *const dirs[] = { "/tmp", "/mnt", "/run", "/dev" };
        bool ok = false;
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0)
            for (unsigned i = 0; i < sizeof dirs / sizeof dirs[0] && !ok; i++)
                ok = mount("kiln-empty", dirs[i], "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, "size=4k,mode=0500") == 0 &&
                     chdir(dirs[i]) == 0 && chroot(".") == 0 && chdir("/") == 0;
        if (!ok) fprintf(stderr, "kiln-tender: the host refused an empty root (%s)\n", strerror(errno));
    }
    if (!pid_ns) return;
    pid_t child = fork();
    if (child < 0) { fprintf(stderr, "kiln-tender: fork into the PID namespace: %s\n", strerror(errno)); return; }
    if (child == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* the VMM killing the parent ends the guest */
        return;
    }
    /* The parent: hold nothing the guest has, wait, and end the way the guest ended. */
    for (int fd = 0; fd < FD_FIRST_FREE + 8; fd++) if (fd != FD_DIAG) close(fd);
    int status;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
    if (WIFEXITED(status)) _exit(WEXITSTATUS(status));
    int sig = WTERMSIG(status);
    signal(sig, SIG_DFL);
    setrlimit(RLIMIT_CORE, &(struct rlimit){ 0, 0 }); /* the guest's fault was reported already */
    kill(getpid(), sig);
    _exit(128 + sig);
}

typedef void (*process_entry_fn)(const struct kiln_process_table *, uint64_t);

int main(int argc, char **argv) {
    parse_args(argc, argv);
    /* A VMM killed without a chance to clean up (SIGKILL) must not leave a guest running, holding
     * its console pipe and devices: die with it. If it is already gone, stop here. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (parent && getppid() != parent) die(TENDER_EXIT_CHANNEL, "the VMM (pid %d) is gone", (int)parent);
    check_handed_fds();
    check_segments();
    volatile uint32_t *control = map_memory();
    make_wait_fds();
    tender_calls_init(control);
    if (!unconfined) enter_namespaces();
    tender_faults_init();
    if (profile.hz) { /* after the fork into the PID namespace: timers are not inherited */
        const char *failed = tender_sampler_start(&profile, map_profile_ring());
        if (failed) die(TENDER_EXIT_SETUP, "cannot start the profiler's timer: %s: %s", failed, strerror(errno));
    }
    if (!unconfined && !tender_seccomp_install(profile.hz != 0))
        die(TENDER_EXIT_CONFINE, "the host refused the seccomp filter (%s): the guest will not run unconfined (kiln run --unconfined allows it)", strerror(errno));
    struct reg_request hello = { .op = REG_HELLO, .value = KILN_PROCESS_ABI };
    tender_channel_send(&hello);
    ((process_entry_fn)entry)(&tender_table, zero_page);
    tender_exit(99); /* the core never returns */
}
