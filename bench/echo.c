/*
 * echo.c -- a TCP echo server and C client goroutines (default 1,000) in
 * one process on loopback; each client connects, then sends M messages of
 * 64 bytes (default 200) one at a time, waiting for each echo. Reports
 * round trips per second (rt/s: higher is better), with the default
 * GOMAXPROCS. Twin: go/echo/main.go.
 *
 * The listener is on 127.0.0.1 at a port the kernel picks. The server is a
 * goroutine that accepts C connections and echoes each on a goroutine of
 * its own (gmp_read of up to 512 bytes, gmp_write of what arrived) until
 * end of file. A client fills its message with its number and the
 * message's, writes it (gmp_write), reads the 64-byte echo (gmp_read until
 * complete) and checks it byte for byte. TCP_NODELAY is set on both ends,
 * as Go's net package does. The clock runs from before the first client is
 * started (connecting is timed) to after the last has checked its last
 * echo (a gmp_waitgroup_t). C clients and C server connections need 2C
 * descriptors: the soft RLIMIT_NOFILE is raised to the hard limit first.
 * Usage: bench_echo [clients] [messages]
 */
#define _GNU_SOURCE
#include "bench.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

enum { MSG = 64, BACKLOG = 4096 };

static long n_clients, n_messages;
static int lfd;
static struct sockaddr_in server_addr;
static gmp_waitgroup_t clients;
static atomic_long round_trips;
static double rt_per_s;

/* io_fail: an IO call failed (errno, read on the thread the call returned
 * on: nothing runs in between). */
static void io_fail(const char* what) {
  fprintf(stderr, "bench: %s: %s\n", what, strerror(errno));
  exit(1);
}

static void nodelay(int fd) {
  int one = 1;
  if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0) io_fail("TCP_NODELAY");
}

/* echo_conn: echo everything that arrives until end of file. */
static void echo_conn(void* arg) {
  int fd = (int)(intptr_t)arg;
  char buf[512];
  for (;;) {
    ssize_t n = gmp_read(fd, buf, sizeof buf);
    if (n == 0) break;
    if (n < 0) io_fail("server gmp_read");
    if (gmp_write(fd, buf, (size_t)n) != n) io_fail("server gmp_write");
  }
  gmp_close(fd);
}

static void server(void* arg) {
  (void)arg;
  for (long i = 0; i < n_clients; i++) {
    int fd = gmp_accept(lfd, NULL, NULL);
    if (fd < 0) io_fail("gmp_accept");
    nodelay(fd);
    bench_check(gmp_go(echo_conn, (void*)(intptr_t)fd), "gmp_go");
  }
}

static void fill(char* msg, long client, long m) {
  for (int i = 0; i < MSG; i++) msg[i] = (char)(client * 31 + m * 7 + i);
  memcpy(msg, &client, sizeof client);
  memcpy(msg + sizeof client, &m, sizeof m);
}

static void client(void* arg) {
  long id = (long)(intptr_t)arg;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) io_fail("socket");
  if (gmp_connect(fd, (struct sockaddr*)&server_addr, sizeof server_addr) != 0) {
    io_fail("gmp_connect");
  }
  nodelay(fd);
  char out[MSG], in[MSG];
  for (long m = 0; m < n_messages; m++) {
    fill(out, id, m);
    if (gmp_write(fd, out, MSG) != MSG) io_fail("client gmp_write");
    for (size_t got = 0; got < MSG;) {
      ssize_t n = gmp_read(fd, in + got, MSG - got);
      if (n < 0) io_fail("client gmp_read");
      if (n == 0) bench_fail("the server closed a connection early");
      got += (size_t)n;
    }
    if (memcmp(in, out, MSG) != 0) bench_fail("every echo equals its message");
  }
  gmp_close(fd);
  atomic_fetch_add(&round_trips, n_messages);
  gmp_waitgroup_done(&clients);
}

static void main_goroutine(void* arg) {
  (void)arg;
  lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (lfd < 0) io_fail("socket");
  memset(&server_addr, 0, sizeof server_addr);
  server_addr.sin_family = AF_INET;
  server_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof server_addr;
  if (bind(lfd, (struct sockaddr*)&server_addr, sizeof server_addr) != 0) io_fail("bind");
  if (listen(lfd, BACKLOG) != 0) io_fail("listen");
  if (getsockname(lfd, (struct sockaddr*)&server_addr, &len) != 0) io_fail("getsockname");
  bench_check(gmp_go(server, NULL), "gmp_go");
  bench_check(gmp_waitgroup_add(&clients, n_clients), "gmp_waitgroup_add");
  uint64_t t0 = bench_now_ns();
  for (long c = 0; c < n_clients; c++) bench_check(gmp_go(client, (void*)(intptr_t)c), "gmp_go");
  gmp_waitgroup_wait(&clients);
  uint64_t elapsed = bench_now_ns() - t0;
  if (atomic_load(&round_trips) != n_clients * n_messages) bench_fail("every round trip done");
  rt_per_s = (double)(n_clients * n_messages) / ((double)elapsed / 1e9);
  gmp_close(lfd);
}

int main(int argc, char** argv) {
  n_clients = bench_arg(argc, argv, 1, 1000);
  n_messages = bench_arg(argc, argv, 2, 200);
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  bench_check(gmp_main(main_goroutine, NULL), "gmp_main");
  bench_report_unit("echo", "round_trips_per_s", rt_per_s, "rt/s");
  return 0;
}
