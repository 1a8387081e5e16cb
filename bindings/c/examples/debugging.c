/*
 * debugging.c -- the sample program of docs/debugging.md: a few named
 * goroutines blocked in different ways, then one of the runtime's
 * debugging aids.
 *
 *   debugging stats   print gmp_stats
 *   debugging dump    gmp_dump to stdout
 *   debugging abort   abort() once every goroutine is blocked (for gdb and
 *                     core files: tests/gdb)
 *   debugging wait    block until killed (try GMP_DEBUG=sigquit=1 and
 *                     Ctrl-\, or GMP_DEBUG=schedtrace=100)
 *
 * The goroutines: two "worker"s waiting on an empty channel, a "sleeper"
 * in gmp_sleep, a "locker" waiting for a mutex the main goroutine holds.
 */
#include <gmprt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static gmp_chan_t* jobs;
static gmp_mutex_t mu;
static const char* mode = "dump";

static void worker(void* arg) {
  int job;
  (void)arg;
  while (gmp_chan_recv(jobs, &job) == 0) printf("job %d\n", job);
}

static void sleeper(void* arg) {
  (void)arg;
  gmp_sleep((int64_t)3600 * 1000000000);
}

static void locker(void* arg) {
  (void)arg;
  gmp_mutex_lock(&mu);
  gmp_mutex_unlock(&mu);
}

static void spawn(gmp_fn fn, const char* name) {
  gmp_go_opts_t opts = {sizeof opts, 0, name, 0};
  if (gmp_go_ex(fn, NULL, &opts) != 0) abort();
}

static int64_t parks(void) {
  gmp_stats_t s;
  memset(&s, 0, sizeof s);
  s.struct_size = sizeof s;
  gmp_stats(&s);
  return (int64_t)s.parks_total;
}

static void print_stats(void) {
  gmp_stats_t s;
  memset(&s, 0, sizeof s);
  s.struct_size = sizeof s;
  if (gmp_stats(&s) != 0) abort();
  printf("goroutines=%lld threads=%lld idle_threads=%lld spinning_threads=%lld\n",
         (long long)s.goroutines, (long long)s.threads, (long long)s.idle_threads,
         (long long)s.spinning_threads);
  printf("procs=%lld idle_procs=%lld global_runq=%lld\n", (long long)s.procs,
         (long long)s.idle_procs, (long long)s.global_runq);
  printf("created=%llu switches=%llu steals=%llu parks=%llu\n",
         (unsigned long long)s.goroutines_created_total,
         (unsigned long long)s.context_switches_total, (unsigned long long)s.steals_total,
         (unsigned long long)s.parks_total);
  printf("timers_pending=%lld fds_registered=%lld\n", (long long)s.timers_pending,
         (long long)s.fds_registered);
}

static void main_goroutine(void* arg) {
  (void)arg;
  if (gmp_chan_make(&jobs, sizeof(int), 0) != 0) abort();
  gmp_mutex_lock(&mu);
  spawn(worker, "worker");
  spawn(worker, "worker");
  spawn(sleeper, "sleeper");
  spawn(locker, "locker");
  /* Wait until the four have blocked (each parks once). */
  while (parks() < 4) gmp_yield();
  if (strcmp(mode, "stats") == 0) {
    print_stats();
  } else if (strcmp(mode, "dump") == 0) {
    fflush(stdout);
    gmp_dump(1);
  } else if (strcmp(mode, "abort") == 0) {
    abort();
  } else {
    gmp_sleep((int64_t)3600 * 1000000000);
  }
  exit(0); /* the goroutines stay blocked */
}

int main(int argc, char** argv) {
  if (argc > 1) mode = argv[1];
  return gmp_main(main_goroutine, NULL);
}
