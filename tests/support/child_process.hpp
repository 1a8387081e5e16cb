// child_process.hpp -- run a piece of a test in a fresh process.
//
// Some properties only hold in a fresh process (the main goroutine is id 1
// when gmp_main is the first runtime call), some tests end in a fatal error
// or a deadlock report, and some change process-wide limits. Such a body is
// declared with GMPRT_CHILD(name) { ...; return code; } and run with
// run_child("name", {"ENV=value"}): the test binary re-executes itself
// (posix_spawn of /proc/self/exe --gmprt-child=name), so the child starts
// with no runtime and no other test's state. The parent gets the exit status
// and the child's stdout and stderr separately.
//
// A child body reports failures with CHILD_CHECK / CHILD_CHECK_EQ, which
// print the failed expression to stderr and exit with kChildCheckFailed; the
// parent's assertions then show the child's stderr.
#pragma once

#include <stdio.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include "wait_until.hpp"

namespace gmprt_test {

inline constexpr int kChildCheckFailed = 100;

using ChildFn = int (*)();

// ChildRegistration: registers a child body under its name (static init).
struct ChildRegistration {
  ChildRegistration(const char* name, ChildFn fn);
};

// child_main: if argv asks for a child body, runs it and exits the process
// with its result (through _exit: a child never runs atexit handlers, so
// goroutines it leaves parked cannot be reported as leaks). Returns when argv
// names no child.
void child_main(int argc, char** argv);

struct ChildResult {
  bool started = false;    // posix_spawn succeeded
  bool timed_out = false;  // killed after the timeout
  int status = 0;          // waitpid status
  std::string out;         // the child's stdout
  std::string err;         // the child's stderr

  bool exited() const;
  int exit_code() const;  // -1 unless exited()
  bool signaled() const;
  int signal() const;            // 0 unless signaled()
  std::string describe() const;  // status, stdout and stderr, for messages
};

// run_child: run the child body `name` in a fresh process. `env` entries
// "KEY=VALUE" set or replace a variable; "KEY" alone removes it.
ChildResult run_child(const std::string& name, const std::vector<std::string>& env = {},
                      std::chrono::milliseconds timeout = kLiveness);

// lines: split text into lines (without their '\n').
std::vector<std::string> lines(const std::string& text);
// count_line: how many lines of text are exactly `line`.
int count_line(const std::string& text, const std::string& line);

}  // namespace gmprt_test

#define GMPRT_CHILD(name)                                                                       \
  static int gmprt_child_body_##name();                                                         \
  static const ::gmprt_test::ChildRegistration gmprt_child_reg_##name(#name,                    \
                                                                      gmprt_child_body_##name); \
  static int gmprt_child_body_##name()

#define CHILD_CHECK(cond)                                                            \
  do {                                                                               \
    if (!(cond)) {                                                                   \
      fprintf(stderr, "%s:%d: CHILD_CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
      fflush(stderr);                                                                \
      _exit(::gmprt_test::kChildCheckFailed);                                        \
    }                                                                                \
  } while (0)

#define CHILD_CHECK_EQ(a, b)                                                                      \
  do {                                                                                            \
    long long child_a_ = (long long)(a), child_b_ = (long long)(b);                               \
    if (child_a_ != child_b_) {                                                                   \
      fprintf(stderr, "%s:%d: CHILD_CHECK_EQ(%s, %s) failed: %lld != %lld\n", __FILE__, __LINE__, \
              #a, #b, child_a_, child_b_);                                                        \
      fflush(stderr);                                                                             \
      _exit(::gmprt_test::kChildCheckFailed);                                                     \
    }                                                                                             \
  } while (0)
