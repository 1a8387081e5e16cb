/*
 * echo_server.c -- a TCP echo server on goroutines: one goroutine per
 * connection, each blocking in gmp_read and gmp_write as if it had a
 * thread of its own, while the runtime parks it on its poller (epoll).
 *
 *   ./echo_server              listen on 127.0.0.1:7777 until killed
 *   ./echo_server 9000         another port
 *   nc 127.0.0.1 7777          type lines: each comes back
 *   ./echo_server --self-test  what `make run` runs: the server on a port the
 *                              kernel picks, 10 client goroutines that each
 *                              send a few lines and check the echoes, then
 *                              exit (0 if every check passed)
 *
 * The accept loop is the main goroutine (gmp_main): gmp_accept waits for a
 * connection, and gmp_go starts serve() on it. serve() reads what arrives
 * and writes it back until the client closes, then gmp_close. The
 * descriptors gmp_accept returns are non-blocking and close-on-exec; the
 * goroutines never see EAGAIN (the runtime waits for them). In the self
 * test a client closing the listener ends the accept loop: gmp_accept fails
 * with EBADF.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <gmprt.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { DEFAULT_PORT = 7777, N_CLIENTS = 10, N_LINES = 3 };

static int listen_fd = -1;
static int self_test = 0;
static atomic_int connections;  /* accepted so far */
static atomic_int failures;     /* self test: checks that failed */
static gmp_waitgroup_t servers; /* serve() goroutines still running */

/* fail: report what went wrong; errno is read at once, on the thread the
 * failing call returned on. */
static void fail(const char* who, const char* what) {
  fprintf(stderr, "echo_server: %s: %s: %s\n", who, what, strerror(errno));
  atomic_fetch_add(&failures, 1);
}

/* write_all: gmp_write already writes everything unless an error occurs. */
static int write_all(int fd, const char* buf, size_t n) {
  return gmp_write(fd, buf, n) == (ssize_t)n ? 0 : -1;
}

/* serve: echo one connection until the client closes it. */
static void serve(void* arg) {
  int fd = (int)(intptr_t)arg;
  char buf[4096];
  for (;;) {
    ssize_t n = gmp_read(fd, buf, sizeof buf);
    if (n == 0) break; /* the client closed */
    if (n < 0) {
      fail("serve", "gmp_read");
      break;
    }
    if (write_all(fd, buf, (size_t)n) != 0) {
      fail("serve", "gmp_write");
      break;
    }
  }
  gmp_close(fd);
  gmp_waitgroup_done(&servers);
}

/* accept_loop: start a serve() goroutine per connection until the listener
 * is closed (gmp_accept then fails with EBADF). */
static void accept_loop(void) {
  for (;;) {
    struct sockaddr_in peer;
    socklen_t len = sizeof peer;
    int fd = gmp_accept(listen_fd, (struct sockaddr*)&peer, &len);
    if (fd < 0) {
      if (errno != EBADF) fail("accept_loop", "gmp_accept");
      return;
    }
    int n = atomic_fetch_add(&connections, 1) + 1;
    if (!self_test) {
      char ip[INET_ADDRSTRLEN] = "?";
      inet_ntop(AF_INET, &peer.sin_addr, ip, sizeof ip);
      printf("connection %d from %s:%u\n", n, ip, (unsigned)ntohs(peer.sin_port));
      fflush(stdout);
    }
    gmp_waitgroup_add(&servers, 1);
    if (gmp_go(serve, (void*)(intptr_t)fd) != GMP_OK) {
      fprintf(stderr, "echo_server: gmp_go failed\n");
      gmp_waitgroup_done(&servers);
      gmp_close(fd);
    }
  }
}

/* ---------------------------------------------------------------- Self test */

static uint16_t port;
static gmp_waitgroup_t clients; /* client goroutines still running */
static atomic_int echoed;       /* lines that came back intact */

/* client: connect, send N_LINES lines one at a time, check each echo. */
static void client(void* arg) {
  int id = (int)(intptr_t)arg;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0) {
    fail("client", "socket");
  } else if (gmp_connect(fd, (struct sockaddr*)&addr, sizeof addr) != 0) {
    fail("client", "gmp_connect");
  } else {
    for (int i = 0; i < N_LINES; i++) {
      char line[64], back[64];
      int n = snprintf(line, sizeof line, "hello from client %d, line %d\n", id, i);
      if (write_all(fd, line, (size_t)n) != 0) {
        fail("client", "gmp_write");
        break;
      }
      int got = 0;
      while (got < n) {
        ssize_t r = gmp_read(fd, back + got, (size_t)(n - got));
        if (r <= 0) break;
        got += (int)r;
      }
      if (got != n || memcmp(line, back, (size_t)n) != 0) {
        fprintf(stderr, "echo_server: client %d: line %d did not come back intact\n", id, i);
        atomic_fetch_add(&failures, 1);
        break;
      }
      atomic_fetch_add(&echoed, 1);
      if (id == 0 && i == 0) printf("echo_server: client 0 sent and got back: %.*s", got, back);
    }
  }
  if (fd >= 0) gmp_close(fd);
  gmp_waitgroup_done(&clients);
}

/* stopper: once every client is done, close the listener (ending the
 * accept loop). */
static void stopper(void* arg) {
  (void)arg;
  gmp_waitgroup_wait(&clients);
  gmp_close(listen_fd);
}

static void start_self_test(void) {
  gmp_waitgroup_add(&clients, N_CLIENTS);
  for (int i = 0; i < N_CLIENTS; i++) {
    if (gmp_go(client, (void*)(intptr_t)i) != GMP_OK) {
      fprintf(stderr, "echo_server: gmp_go failed\n");
      exit(1);
    }
  }
  if (gmp_go(stopper, NULL) != GMP_OK) exit(1);
}

/* ------------------------------------------------------------------- main */

static void main_goroutine(void* arg) {
  (void)arg;
  if (self_test) start_self_test();
  accept_loop();
  gmp_waitgroup_wait(&servers); /* every connection has been served */
}

int main(int argc, char** argv) {
  long want = DEFAULT_PORT;
  if (argc > 1 && strcmp(argv[1], "--self-test") == 0) {
    self_test = 1;
    want = 0;
  } else if (argc > 1) {
    char* end;
    want = strtol(argv[1], &end, 10);
    if (*end != '\0' || want <= 0 || want > 65535) {
      fprintf(stderr, "usage: %s [port] | --self-test\n", argv[0]);
      return 2;
    }
  }

  listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)want);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (listen_fd < 0 || setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
      bind(listen_fd, (struct sockaddr*)&addr, sizeof addr) != 0 || listen(listen_fd, 128) != 0 ||
      getsockname(listen_fd, (struct sockaddr*)&addr, &len) != 0) {
    fprintf(stderr, "echo_server: cannot listen on 127.0.0.1:%ld: %s\n", want, strerror(errno));
    return 1;
  }
  port = ntohs(addr.sin_port);
  if (self_test) {
    printf("echo_server: self test on 127.0.0.1:%u, %d clients x %d lines\n", (unsigned)port,
           N_CLIENTS, N_LINES);
  } else {
    printf("echo_server: listening on 127.0.0.1:%u (try: nc 127.0.0.1 %u)\n", (unsigned)port,
           (unsigned)port);
  }
  fflush(stdout);

  int rc = gmp_main(main_goroutine, NULL);
  if (rc != GMP_OK) {
    fprintf(stderr, "echo_server: gmp_main: %s\n", gmp_strerror(rc));
    return 1;
  }
  if (!self_test) return 0;

  int lines = atomic_load(&echoed), conns = atomic_load(&connections);
  int bad = atomic_load(&failures);
  printf("echo_server: %d connections served, %d of %d lines echoed intact\n", conns, lines,
         N_CLIENTS * N_LINES);
  if (conns != N_CLIENTS || lines != N_CLIENTS * N_LINES || bad != 0) {
    printf("echo_server: self test FAILED (%d errors)\n", bad);
    return 1;
  }
  rc = gmp_shutdown(5 * 1000000000LL);
  if (rc != GMP_OK) {
    fprintf(stderr, "echo_server: gmp_shutdown: %s\n", gmp_strerror(rc));
    return 1;
  }
  printf("echo_server: self test passed\n");
  return 0;
}
