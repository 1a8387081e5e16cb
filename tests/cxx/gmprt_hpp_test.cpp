// gmprt_hpp_test.cpp -- the C++17 convenience header <gmprt.hpp>, used as a
// C++ program would: goroutines from lambdas, typed channels, select over
// them, the sync wrappers with the standard lock guards, timers, tickers
// and LockOSThread. Built with -std=c++17 -Wall -Wextra -Wpedantic -Werror;
// prints one line per failed check and "N passed, N failed".
#include <gmprt.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>

using namespace std::chrono_literals;

namespace {

int passed, failed;

void check(bool ok, const char* what, int line) {
  if (ok) {
    passed++;
  } else {
    failed++;
    std::printf("FAIL line %d: %s\n", line, what);
  }
}
#define CHECK(x) check((x), #x, __LINE__)

struct point {
  int32_t x, y;
};

void goroutines_and_channels() {
  gmprt::chan<point> c;
  CHECK(gmprt::chan<point>::make(c, 0) == GMP_OK);
  std::string captured = "from a lambda";  // moved into the goroutine
  CHECK(gmprt::go([c, s = std::move(captured)] { c.send(point{int32_t(s.size()), 7}); }) == GMP_OK);
  point p{};
  CHECK(c.recv(p) == GMP_OK && p.x == 13 && p.y == 7);
  gmprt::chan<point> copy = c;  // retain; both handles valid
  CHECK(copy.get() == c.get() && copy.cap() == 0);
  CHECK(c.close() == GMP_OK);
  CHECK(copy.recv(p) == GMP_ECLOSED && p.x == 0);
  CHECK(c.close() == GMP_ECLOSED);
  gmprt::chan<point> empty;
  CHECK(!empty && empty.send(point{}) == GMP_EINVAL);
}

void select_with_after() {
  gmprt::chan<int> never;
  CHECK(gmprt::chan<int>::make(never) == GMP_OK);
  int v = 0;
  int64_t fired = 0;
  auto timeout = gmprt::after(2ms);
  gmp_select_case_t cases[] = {gmprt::recv_case(never, &v), gmprt::recv_case(timeout, &fired)};
  CHECK(gmp_select(cases, 2, -1) == 1 && fired > 0);
  int one = 1;
  gmp_select_case_t send[] = {gmprt::send_case(never, &one)};
  CHECK(gmp_select(send, 1, 0) == GMP_EAGAIN);
}

void sync_wrappers() {
  gmprt::mutex mu;
  gmprt::waitgroup wg;
  long counter = 0;
  for (int i = 0; i < 8; i++) {
    wg.add(1);
    gmprt::go([&] {
      for (int j = 0; j < 1000; j++) {
        std::lock_guard<gmprt::mutex> hold(mu);
        counter++;
        if (j % 250 == 0) gmprt::sleep_for(10us);  // may resume on another thread
      }
      wg.done();
    });
  }
  wg.wait();
  CHECK(counter == 8000);
  {
    std::unique_lock<gmprt::mutex> hold(mu);
    CHECK(!mu.try_lock());
  }
  CHECK(wg.done() == GMP_EINVAL);

  gmprt::once once;
  int runs = 0;
  for (int i = 0; i < 3; i++) once.call([&] { runs++; });
  CHECK(runs == 1);
}

void timers_and_tickers() {
  gmprt::chan<int> fired;
  CHECK(gmprt::chan<int>::make(fired, 4) == GMP_OK);
  {
    gmprt::timer t;
    CHECK(t.start(1ms, [fired] { fired.send(1); }) == GMP_OK);
    int v = 0;
    CHECK(fired.recv(v) == GMP_OK && v == 1);
    CHECK(!t.stop());
    CHECK(t.start(1h, [fired] { fired.send(2); }) == GMP_OK);
    CHECK(t.stop());
  }
  {
    gmprt::timer t;  // destroyed while armed: never fires
    CHECK(t.start(5ms, [fired] { fired.send(3); }) == GMP_OK);
  }
  int v = 0;
  CHECK(fired.recv_for(v, 20ms) == GMP_ETIMEDOUT);

  gmprt::ticker tk;
  CHECK(tk.start(1ms) == GMP_OK);
  int64_t a = 0, b = 0;
  CHECK(tk.c().recv(a) == GMP_OK && tk.c().recv(b) == GMP_OK && b > a);
  CHECK(tk.start(0ms) == GMP_EINVAL);
}

void locked_thread() {
  gmprt::chan<int> done;
  CHECK(gmprt::chan<int>::make(done, 1) == GMP_OK);
  std::atomic<bool> same{true};
  gmprt::go([done, &same] {
    gmprt::os_thread_lock lock;
    auto id = std::this_thread::get_id();
    for (int i = 0; i < 20; i++) {
      gmprt::sleep_for(50us);
      if (std::this_thread::get_id() != id) same = false;
    }
    done.send(1);
  });
  int v = 0;
  CHECK(done.recv(v) == GMP_OK);
  CHECK(same.load());
}

void main_goroutine(void*) {
  goroutines_and_channels();
  select_with_after();
  sync_wrappers();
  timers_and_tickers();
  locked_thread();
}

}  // namespace

int main() {
  if (gmp_main(main_goroutine, nullptr) != GMP_OK) failed++;
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
