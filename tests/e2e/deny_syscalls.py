#!/usr/bin/env python3
# deny_syscalls.py — runs a command as on a host that refuses some system calls: installs a
# seccomp filter that fails the named x86-64 calls with EPERM (the way a container runtime's
# default profile refuses seccomp(2) or unshare(2)), then execs the command. The e2e tests use it
# to reach the process platform's paths for a host without seccomp or namespaces.
# Usage: deny_syscalls.py NAME[,NAME...] -- COMMAND [ARG...]   (NAME: seccomp, unshare)
import ctypes, os, struct, sys

NUMBERS = {"seccomp": 317, "unshare": 272}
AUDIT_ARCH_X86_64 = 0xC000003E
LD_ABS, JEQ_K, RET_K = 0x20, 0x15, 0x06
RET_ALLOW, RET_EPERM = 0x7FFF0000, 0x00050000 | 1

def main():
    if len(sys.argv) < 4 or sys.argv[2] != "--":
        sys.exit("usage: deny_syscalls.py NAME[,NAME...] -- COMMAND [ARG...]")
    nrs = [NUMBERS[n] for n in sys.argv[1].split(",")]
    prog = [(LD_ABS, 0, 0, 4), (JEQ_K, 0, len(nrs) + 1, AUDIT_ARCH_X86_64), (LD_ABS, 0, 0, 0)]
    for i, nr in enumerate(nrs):
        prog.append((JEQ_K, len(nrs) - i, 0, nr))  # to the EPERM return
    prog += [(RET_K, 0, 0, RET_ALLOW), (RET_K, 0, 0, RET_EPERM)]
    raw = b"".join(struct.pack("HBBI", *ins) for ins in prog)
    buf = ctypes.create_string_buffer(raw)
    class Fprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]
    fprog = Fprog(len(prog), ctypes.addressof(buf))
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS
        sys.exit("prctl(PR_SET_NO_NEW_PRIVS): " + os.strerror(ctypes.get_errno()))
    if libc.syscall(317, 1, 0, ctypes.byref(fprog)) != 0:  # seccomp(SECCOMP_SET_MODE_FILTER)
        sys.exit("seccomp: " + os.strerror(ctypes.get_errno()))
    os.execvp(sys.argv[3], sys.argv[3:])

main()
