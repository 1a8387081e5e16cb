// child_process.cpp -- see child_process.hpp.
#include "child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>

#include <map>

extern char** environ;

namespace gmprt_test {

namespace {

std::map<std::string, ChildFn>& registry() {
  static std::map<std::string, ChildFn> r;
  return r;
}

constexpr const char kFlag[] = "--gmprt-child=";

}  // namespace

ChildRegistration::ChildRegistration(const char* name, ChildFn fn) { registry()[name] = fn; }

void child_main(int argc, char** argv) {
  for (int i = 1; i < argc; i++) {
    if (strncmp(argv[i], kFlag, sizeof kFlag - 1) != 0) continue;
    const char* name = argv[i] + sizeof kFlag - 1;
    auto it = registry().find(name);
    if (it == registry().end()) {
      fprintf(stderr, "no child body named %s\n", name);
      _exit(127);
    }
    int rc = it->second();
    fflush(stdout);
    fflush(stderr);
    _exit(rc);
  }
}

bool ChildResult::exited() const { return started && !timed_out && WIFEXITED(status); }
int ChildResult::exit_code() const { return exited() ? WEXITSTATUS(status) : -1; }
bool ChildResult::signaled() const { return started && !timed_out && WIFSIGNALED(status); }
int ChildResult::signal() const { return signaled() ? WTERMSIG(status) : 0; }

std::string ChildResult::describe() const {
  std::string s;
  if (!started) {
    s = "child not started";
  } else if (timed_out) {
    s = "child timed out (killed)";
  } else if (WIFEXITED(status)) {
    s = "child exited with code " + std::to_string(WEXITSTATUS(status));
  } else if (WIFSIGNALED(status)) {
    s = "child killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
        strsignal(WTERMSIG(status)) + ")";
  }
  s += "\n--- child stdout ---\n" + out + "\n--- child stderr ---\n" + err + "\n---";
  return s;
}

ChildResult run_child(const std::string& name, const std::vector<std::string>& env,
                      std::chrono::milliseconds timeout) {
  ChildResult r;
  // Everything the child needs is built before the spawn.
  std::string self = "/proc/self/exe";
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) {
    exe[n] = 0;
    self = exe;
  }
  std::string flag = std::string(kFlag) + name;
  char* argv[] = {const_cast<char*>(self.c_str()), const_cast<char*>(flag.c_str()), nullptr};

  std::vector<std::string> vars;
  auto key_of = [](const std::string& kv) { return kv.substr(0, kv.find('=')); };
  for (char** e = environ; *e; e++) {
    std::string kv = *e;
    bool overridden = false;
    for (const auto& o : env) overridden |= key_of(o) == key_of(kv);
    if (!overridden) vars.push_back(kv);
  }
  for (const auto& o : env) {
    if (o.find('=') != std::string::npos) vars.push_back(o);
  }
  std::vector<char*> envp;
  for (auto& v : vars) envp.push_back(const_cast<char*>(v.c_str()));
  envp.push_back(nullptr);

  int outp[2], errp[2];
  if (pipe2(outp, O_CLOEXEC) != 0) return r;
  if (pipe2(errp, O_CLOEXEC) != 0) {
    close(outp[0]);
    close(outp[1]);
    return r;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, outp[1], 1);
  posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, self.c_str(), &fa, nullptr, argv, envp.data());
  posix_spawn_file_actions_destroy(&fa);
  close(outp[1]);
  close(errp[1]);
  if (rc != 0) {
    close(outp[0]);
    close(errp[0]);
    return r;
  }
  r.started = true;

  const auto deadline = std::chrono::steady_clock::now() + timeout;
  struct pollfd fds[2] = {{outp[0], POLLIN, 0}, {errp[0], POLLIN, 0}};
  std::string* sinks[2] = {&r.out, &r.err};
  int open_fds = 2;
  while (open_fds > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      r.timed_out = true;
      kill(pid, SIGKILL);
      break;
    }
    int k = poll(fds, 2, static_cast<int>(left.count() > 1000 ? 1000 : left.count()));
    if (k < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; i++) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[4096];
      ssize_t got = read(fds[i].fd, buf, sizeof buf);
      if (got > 0) {
        sinks[i]->append(buf, static_cast<size_t>(got));
      } else if (got == 0 || errno != EINTR) {
        close(fds[i].fd);
        fds[i].fd = -1;
        open_fds--;
      }
    }
  }
  for (auto& f : fds) {
    if (f.fd >= 0) close(f.fd);
  }
  // The pipes are closed once every process holding them (the child, or a
  // thread-exit race keeping it) is gone; reap it now. A child that closed
  // its output but keeps running is bounded by the same deadline.
  for (;;) {
    pid_t w = waitpid(pid, &r.status, WNOHANG);
    if (w == pid) break;
    if (w < 0 && errno != EINTR) break;
    if (std::chrono::steady_clock::now() >= deadline && !r.timed_out) {
      r.timed_out = true;
      kill(pid, SIGKILL);
    }
    usleep(1000);
  }
  return r;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> v;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    v.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return v;
}

int count_line(const std::string& text, const std::string& line) {
  int n = 0;
  for (const auto& l : lines(text)) n += l == line;
  return n;
}

}  // namespace gmprt_test
