// Spawning the process platform's tender (packages/vmm/src/process/machine.ts) without copying
// the VMM's address space: posix_spawn, which glibc implements with clone(CLONE_VM |
// CLONE_VFORK), so the cost does not grow with Node's heap (child_process.spawn forks: ~3 ms for
// 50 MB here). The child gets exactly the fds asked for at 0..n-1 and default signal actions; the
// parent gets a pidfd to watch for the exit (uv_poll through watchFd) and to signal the child,
// and reaps it itself (libuv reaps only the children it spawned). Thin and policy-free: each
// function is one operation; errors are thrown as Error with the errno name.

#include <napi.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

extern char** environ;

namespace {

[[noreturn]] void Throw(Napi::Env env, const char* what, int err) {
  throw Napi::Error::New(env, std::string(what) + ": " + strerrorname_np(err) + " (" + strerror(err) + ")");
}

// spawnProcess(path, argv, fds): fds[i] (a parent fd, or -1 for none) becomes the child's fd i.
// Returns { pid, pidfd }.
Napi::Value SpawnProcess(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>();
  Napi::Array argArray = info[1].As<Napi::Array>();
  Napi::Array fdArray = info[2].As<Napi::Array>();
  std::vector<std::string> args;
  for (uint32_t i = 0; i < argArray.Length(); i++) args.push_back(argArray.Get(i).As<Napi::String>());
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(path.c_str()));
  for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  // Each source is first duplicated above the target range, so dup2 into 0..n-1 never
  // overwrites a source that is still to be copied, and every target loses FD_CLOEXEC.
  std::vector<int> temps;
  auto closeTemps = [&]() { for (int t : temps) if (t >= 0) close(t); };
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  for (uint32_t i = 0; i < fdArray.Length(); i++) {
    int src = fdArray.Get(i).As<Napi::Number>().Int32Value();
    if (src < 0) { temps.push_back(-1); continue; }
    int t = fcntl(src, F_DUPFD_CLOEXEC, 64);
    if (t < 0) {
      int err = errno;
      closeTemps();
      posix_spawn_file_actions_destroy(&fa);
      Throw(env, "spawnProcess: fd", err);
    }
    temps.push_back(t);
    posix_spawn_file_actions_adddup2(&fa, t, (int)i);
  }
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid;
  int err = posix_spawn(&pid, path.c_str(), &fa, &attr, argv.data(), environ);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&fa);
  closeTemps();
  if (err) Throw(env, "posix_spawn", err);
  int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (pidfd < 0) {
    err = errno;
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    Throw(env, "pidfd_open", err);
  }
  fcntl(pidfd, F_SETFD, FD_CLOEXEC);
  Napi::Object o = Napi::Object::New(env);
  o.Set("pid", Napi::Number::New(env, pid));
  o.Set("pidfd", Napi::Number::New(env, pidfd));
  return o;
}

// reapProcess(pid): { code } or { signal } once the child has ended (WNOHANG), else null.
Napi::Value ReapProcess(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  pid_t pid = info[0].As<Napi::Number>().Int32Value();
  int status;
  pid_t r;
  do r = waitpid(pid, &status, WNOHANG); while (r < 0 && errno == EINTR);
  if (r < 0) Throw(env, "waitpid", errno);
  if (r == 0) return env.Null();
  Napi::Object o = Napi::Object::New(env);
  if (WIFEXITED(status)) o.Set("code", Napi::Number::New(env, WEXITSTATUS(status)));
  else o.Set("signal", Napi::Number::New(env, WTERMSIG(status)));
  return o;
}

// pidfdKill(pidfd, signal): signals the child through its pidfd (no pid reuse race).
Napi::Value PidfdKill(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int pidfd = info[0].As<Napi::Number>().Int32Value();
  int sig = info[1].As<Napi::Number>().Int32Value();
  if (syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0) != 0 && errno != ESRCH) Throw(env, "pidfd_send_signal", errno);
  return env.Undefined();
}

// socketPair(): a connected AF_UNIX SOCK_STREAM pair, close-on-exec: [a, b].
Napi::Value SocketPair(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) Throw(env, "socketpair", errno);
  Napi::Array a = Napi::Array::New(env, 2);
  a.Set(0u, Napi::Number::New(env, sv[0]));
  a.Set(1u, Napi::Number::New(env, sv[1]));
  return a;
}

}  // namespace

void KilnProcessInit(Napi::Env env, Napi::Object exports) {
  exports.Set("spawnProcess", Napi::Function::New(env, SpawnProcess));
  exports.Set("reapProcess", Napi::Function::New(env, ReapProcess));
  exports.Set("pidfdKill", Napi::Function::New(env, PidfdKill));
  exports.Set("socketPair", Napi::Function::New(env, SocketPair));
}
