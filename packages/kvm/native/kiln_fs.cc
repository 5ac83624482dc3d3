// File system calls on directory fds for the virtio-fs server (packages/vmm/src/devices/virtio/fs):
// the *at family that Node's fs does not expose, so that every guest-supplied name is resolved
// as one component relative to a directory fd the server holds, never as a joined path string.
// openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS) where the kernel has it
// (openat with O_NOFOLLOW otherwise); O_CLOEXEC always. Thin and policy-free like kiln_kvm.cc:
// each function is one syscall and returns its result, or -errno (no exceptions on the hot path;
// TypeError only for wrong argument types). Synchronous, called on the VMM's main thread.
// Typed wrapper: packages/kvm/src/fs.ts.

#include <napi.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <cstdint>
#include <string>

namespace {

// A guest name as a NUL-terminated string: exactly one path component, so false if it is empty,
// "..", longer than NAME_MAX, or holds a "/" or a NUL. ("." is allowed: the server reopens a
// directory it holds as `.` relative to itself.)
bool Name(const Napi::Value& v, std::string* out) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    throw Napi::TypeError::New(v.Env(), "name must be a Uint8Array");
  }
  Napi::Uint8Array a = v.As<Napi::Uint8Array>();
  size_t n = a.ByteLength();
  if (n == 0 || n > NAME_MAX || memchr(a.Data(), 0, n) != nullptr || memchr(a.Data(), '/', n) != nullptr) return false;
  out->assign(reinterpret_cast<const char*>(a.Data()), n);
  return *out != "..";
}

int Int(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsNumber()) throw Napi::TypeError::New(info.Env(), "argument " + std::to_string(i) + " must be a number");
  return info[i].As<Napi::Number>().Int32Value();
}

int64_t Int64(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsNumber()) throw Napi::TypeError::New(info.Env(), "argument " + std::to_string(i) + " must be a number");
  return info[i].As<Napi::Number>().Int64Value();
}

Napi::Value Result(Napi::Env env, long r) {
  return Napi::Number::New(env, r < 0 ? -errno : static_cast<double>(r));
}

Napi::Uint8Array Bytes(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    throw Napi::TypeError::New(info.Env(), "argument " + std::to_string(i) + " must be a Uint8Array");
  }
  return info[i].As<Napi::Uint8Array>();
}

Napi::Float64Array Doubles(const Napi::CallbackInfo& info, size_t i, size_t min) {
  if (!info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array ||
      info[i].As<Napi::Float64Array>().ElementLength() < min) {
    throw Napi::TypeError::New(info.Env(), "argument " + std::to_string(i) + " must be a Float64Array of " + std::to_string(min));
  }
  return info[i].As<Napi::Float64Array>();
}

bool have_openat2 = true;

// fsOpenAt(dirfd, name, flags, mode) → fd | -errno. O_NOFOLLOW and O_CLOEXEC are always added.
Napi::Value OpenAt(const Napi::CallbackInfo& info) {
  std::string name;
  if (!Name(info[1], &name)) return Napi::Number::New(info.Env(), -EINVAL);
  int dirfd = Int(info, 0);
  int flags = Int(info, 2) | O_NOFOLLOW | O_CLOEXEC;
  int mode = (flags & (O_CREAT | O_TMPFILE)) ? (Int(info, 3) & 07777) : 0;
  if (have_openat2) {
    struct open_how how {};
    how.flags = static_cast<uint64_t>(static_cast<unsigned>(flags));
    how.mode = static_cast<uint64_t>(mode);
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    long r;
    do r = syscall(SYS_openat2, dirfd, name.c_str(), &how, sizeof how); while (r < 0 && errno == EINTR);
    if (r >= 0 || errno != ENOSYS) return Result(info.Env(), r);
    have_openat2 = false;
  }
  long r;
  do r = openat(dirfd, name.c_str(), flags, mode); while (r < 0 && errno == EINTR);
  return Result(info.Env(), r);
}

// fsReopen(fd, flags) → fd | -errno: a new open file description of the inode `fd` (an O_PATH fd
// of a regular file or directory) refers to, through its /proc/self/fd magic link, which names
// that inode itself and involves no path lookup in the shared tree.
Napi::Value Reopen(const Napi::CallbackInfo& info) {
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", Int(info, 0));
  int flags = (Int(info, 1) & ~(O_CREAT | O_NOFOLLOW)) | O_CLOEXEC;
  long r;
  do r = open(path, flags); while (r < 0 && errno == EINTR);
  return Result(info.Env(), r);
}

// fsFstat(fd, out: Float64Array(18)) → 0 | -errno (works on O_PATH fds, symlinks included).
// out: devHi, devLo, inoHi, inoLo, mode, nlink, uid, gid, rdev, size, blksize, blocks,
//      atime, atimeNsec, mtime, mtimeNsec, ctime, ctimeNsec.
Napi::Value Fstat(const Napi::CallbackInfo& info) {
  Napi::Float64Array out = Doubles(info, 1, 18);
  struct stat st {};
  if (fstatat(Int(info, 0), "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0) return Napi::Number::New(info.Env(), -errno);
  double* o = out.Data();
  o[0] = static_cast<double>(static_cast<uint64_t>(st.st_dev) >> 32);
  o[1] = static_cast<double>(static_cast<uint64_t>(st.st_dev) & 0xffffffffu);
  o[2] = static_cast<double>(static_cast<uint64_t>(st.st_ino) >> 32);
  o[3] = static_cast<double>(static_cast<uint64_t>(st.st_ino) & 0xffffffffu);
  o[4] = st.st_mode;
  o[5] = static_cast<double>(st.st_nlink);
  o[6] = st.st_uid;
  o[7] = st.st_gid;
  o[8] = static_cast<double>(st.st_rdev & 0xffffffffu);
  o[9] = static_cast<double>(st.st_size);
  o[10] = static_cast<double>(st.st_blksize);
  o[11] = static_cast<double>(st.st_blocks);
  o[12] = static_cast<double>(st.st_atim.tv_sec);
  o[13] = static_cast<double>(st.st_atim.tv_nsec);
  o[14] = static_cast<double>(st.st_mtim.tv_sec);
  o[15] = static_cast<double>(st.st_mtim.tv_nsec);
  o[16] = static_cast<double>(st.st_ctim.tv_sec);
  o[17] = static_cast<double>(st.st_ctim.tv_nsec);
  return Napi::Number::New(info.Env(), 0);
}

// fsFstatfs(fd, out: Float64Array(8)) → 0 | -errno. out: bsize, frsize, blocks, bfree, bavail, files, ffree, namelen.
Napi::Value Fstatfs(const Napi::CallbackInfo& info) {
  Napi::Float64Array out = Doubles(info, 1, 8);
  struct statfs s {};
  if (fstatfs(Int(info, 0), &s) < 0) return Napi::Number::New(info.Env(), -errno);
  double* o = out.Data();
  o[0] = static_cast<double>(s.f_bsize);
  o[1] = static_cast<double>(s.f_frsize);
  o[2] = static_cast<double>(s.f_blocks);
  o[3] = static_cast<double>(s.f_bfree);
  o[4] = static_cast<double>(s.f_bavail);
  o[5] = static_cast<double>(s.f_files);
  o[6] = static_cast<double>(s.f_ffree);
  o[7] = static_cast<double>(s.f_namelen);
  return Napi::Number::New(info.Env(), 0);
}

// fsMkdirAt(dirfd, name, mode) → 0 | -errno
Napi::Value MkdirAt(const Napi::CallbackInfo& info) {
  std::string name;
  if (!Name(info[1], &name)) return Napi::Number::New(info.Env(), -EINVAL);
  return Result(info.Env(), mkdirat(Int(info, 0), name.c_str(), static_cast<mode_t>(Int(info, 2) & 07777)));
}

// fsUnlinkAt(dirfd, name, flags) → 0 | -errno (flags: 0 or AT_REMOVEDIR; never follows a symlink)
Napi::Value UnlinkAt(const Napi::CallbackInfo& info) {
  std::string name;
  if (!Name(info[1], &name)) return Napi::Number::New(info.Env(), -EINVAL);
  return Result(info.Env(), unlinkat(Int(info, 0), name.c_str(), Int(info, 2) & AT_REMOVEDIR));
}

// fsRenameAt(olddirfd, oldname, newdirfd, newname, flags) → 0 | -errno (renameat2; moves names, follows nothing)
Napi::Value RenameAt(const Napi::CallbackInfo& info) {
  std::string from, to;
  if (!Name(info[1], &from) || !Name(info[3], &to)) return Napi::Number::New(info.Env(), -EINVAL);
  unsigned flags = static_cast<unsigned>(Int(info, 4));
  return Result(info.Env(), syscall(SYS_renameat2, Int(info, 0), from.c_str(), Int(info, 2), to.c_str(), flags));
}

// fsGetdents(fd, buf) → bytes | 0 at the end | -errno: raw struct linux_dirent64 records.
Napi::Value Getdents(const Napi::CallbackInfo& info) {
  Napi::Uint8Array b = Bytes(info, 1);
  return Result(info.Env(), syscall(SYS_getdents64, Int(info, 0), b.Data(), b.ByteLength()));
}

// fsSeekDir(fd, cookie) → 0 | -errno: a directory to a d_off from getdents, exactly (a bigint: file
// systems such as ext4 hand out 63-bit hash cookies that a double would round).
Napi::Value SeekDir(const Napi::CallbackInfo& info) {
  if (!info[1].IsBigInt()) throw Napi::TypeError::New(info.Env(), "argument 1 must be a bigint");
  bool lossless = false;
  int64_t cookie = info[1].As<Napi::BigInt>().Int64Value(&lossless);
  if (!lossless) return Napi::Number::New(info.Env(), -EINVAL);
  return Result(info.Env(), lseek(Int(info, 0), static_cast<off_t>(cookie), SEEK_SET) < 0 ? -1 : 0);
}

// fsPread(fd, buf, position) → bytes read | -errno; fsPwrite(fd, buf, position) → bytes written | -errno
Napi::Value Pread(const Napi::CallbackInfo& info) {
  Napi::Uint8Array b = Bytes(info, 1);
  long r;
  do r = pread(Int(info, 0), b.Data(), b.ByteLength(), static_cast<off_t>(Int64(info, 2))); while (r < 0 && errno == EINTR);
  return Result(info.Env(), r);
}

Napi::Value Pwrite(const Napi::CallbackInfo& info) {
  Napi::Uint8Array b = Bytes(info, 1);
  long r;
  do r = pwrite(Int(info, 0), b.Data(), b.ByteLength(), static_cast<off_t>(Int64(info, 2))); while (r < 0 && errno == EINTR);
  return Result(info.Env(), r);
}

// fsFsync(fd, dataOnly) → 0 | -errno
Napi::Value Fsync(const Napi::CallbackInfo& info) {
  return Result(info.Env(), info[1].ToBoolean() ? fdatasync(Int(info, 0)) : fsync(Int(info, 0)));
}

// fsSyncfs(fd) → 0 | -errno (fd must not be O_PATH)
Napi::Value Syncfs(const Napi::CallbackInfo& info) { return Result(info.Env(), syncfs(Int(info, 0))); }

// fsFtruncate(fd, size) → 0 | -errno
Napi::Value Ftruncate(const Napi::CallbackInfo& info) {
  return Result(info.Env(), ftruncate(Int(info, 0), static_cast<off_t>(Int64(info, 1))));
}

// fsFchmod(fd, mode) → 0 | -errno
Napi::Value Fchmod(const Napi::CallbackInfo& info) {
  return Result(info.Env(), fchmod(Int(info, 0), static_cast<mode_t>(Int(info, 1) & 07777)));
}

// fsFutimens(fd, atimeSec, atimeNsec, mtimeSec, mtimeNsec) → 0 | -errno (nsec may be UTIME_NOW / UTIME_OMIT)
Napi::Value Futimens(const Napi::CallbackInfo& info) {
  struct timespec ts[2];
  ts[0].tv_sec = static_cast<time_t>(Int64(info, 1));
  ts[0].tv_nsec = static_cast<long>(Int64(info, 2));
  ts[1].tv_sec = static_cast<time_t>(Int64(info, 3));
  ts[1].tv_nsec = static_cast<long>(Int64(info, 4));
  return Result(info.Env(), futimens(Int(info, 0), ts));
}

// fsClose(fd) → 0 | -errno
Napi::Value Close(const Napi::CallbackInfo& info) { return Result(info.Env(), close(Int(info, 0))); }

}  // namespace

// Adds the fs* functions to the addon's exports (called from kiln_kvm.cc's module init).
void KilnFsInit(Napi::Env env, Napi::Object exports) {
  exports.Set("fsOpenAt", Napi::Function::New(env, OpenAt));
  exports.Set("fsReopen", Napi::Function::New(env, Reopen));
  exports.Set("fsFstat", Napi::Function::New(env, Fstat));
  exports.Set("fsFstatfs", Napi::Function::New(env, Fstatfs));
  exports.Set("fsMkdirAt", Napi::Function::New(env, MkdirAt));
  exports.Set("fsUnlinkAt", Napi::Function::New(env, UnlinkAt));
  exports.Set("fsRenameAt", Napi::Function::New(env, RenameAt));
  exports.Set("fsGetdents", Napi::Function::New(env, Getdents));
  exports.Set("fsSeekDir", Napi::Function::New(env, SeekDir));
  exports.Set("fsPread", Napi::Function::New(env, Pread));
  exports.Set("fsPwrite", Napi::Function::New(env, Pwrite));
  exports.Set("fsFsync", Napi::Function::New(env, Fsync));
  exports.Set("fsSyncfs", Napi::Function::New(env, Syncfs));
  exports.Set("fsFtruncate", Napi::Function::New(env, Ftruncate));
  exports.Set("fsFchmod", Napi::Function::New(env, Fchmod));
  exports.Set("fsFutimens", Napi::Function::New(env, Futimens));
  exports.Set("fsClose", Napi::Function::New(env, Close));
}
