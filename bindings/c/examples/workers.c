/*
 * workers.c -- a worker pool: jobs on one channel, results on another, a
 * wait group to know when the workers are done, and a mutex around shared
 * statistics.
 *
 *   cc workers.c -o workers $(pkg-config --cflags --libs gmprt)
 *
 * The main goroutine starts WORKERS goroutines reading `jobs` until it is
 * closed, feeds them JOBS numbers, closes `jobs`, and reads the results.
 * A helper goroutine closes `results` once the wait group says every
 * worker has returned (Go's usual pattern).
 */
#include <gmprt.h>
#include <stdint.h>
#include <stdio.h>

enum { WORKERS = 4, JOBS = 100 };

static gmp_chan_t *jobs, *results; /* int64_t each */
static gmp_waitgroup_t workers_done;
static gmp_mutex_t stats_mu;
static int jobs_per_worker[WORKERS]; /* guarded by stats_mu */
static int status = 1;               /* the exit status: 0 once the sum checks out */

static void worker(void* arg) {
  int id = (int)(intptr_t)arg;
  int64_t n;
  while (gmp_chan_recv(jobs, &n) == GMP_OK) { /* GMP_ECLOSED ends the loop */
    int64_t square = n * n;
    gmp_chan_send(results, &square);
    gmp_mutex_lock(&stats_mu);
    jobs_per_worker[id]++;
    gmp_mutex_unlock(&stats_mu);
  }
  gmp_waitgroup_done(&workers_done);
}

static void closer(void* arg) {
  (void)arg;
  gmp_waitgroup_wait(&workers_done);
  gmp_chan_close(results);
}

static void feeder(void* arg) {
  (void)arg;
  for (int64_t i = 1; i <= JOBS; i++) gmp_chan_send(jobs, &i);
  gmp_chan_close(jobs);
}

static void main_goroutine(void* arg) {
  (void)arg;
  if (gmp_chan_make(&jobs, sizeof(int64_t), 8) != GMP_OK ||
      gmp_chan_make(&results, sizeof(int64_t), 8) != GMP_OK) {
    fprintf(stderr, "workers: gmp_chan_make failed\n");
    return;
  }
  gmp_waitgroup_add(&workers_done, WORKERS);
  for (int i = 0; i < WORKERS; i++) gmp_go(worker, (void*)(intptr_t)i);
  gmp_go(closer, NULL);
  gmp_go(feeder, NULL);

  int64_t sum = 0, v;
  while (gmp_chan_recv(results, &v) == GMP_OK) sum += v;
  printf("sum of squares 1..%d = %lld (want %lld)\n", JOBS, (long long)sum,
         (long long)JOBS * (JOBS + 1) * (2 * JOBS + 1) / 6);
  for (int i = 0; i < WORKERS; i++) printf("worker %d did %d jobs\n", i, jobs_per_worker[i]);
  status = sum == (int64_t)JOBS * (JOBS + 1) * (2 * JOBS + 1) / 6 ? 0 : 1;
  gmp_chan_release(jobs);
  gmp_chan_release(results);
}

int main(void) { return gmp_main(main_goroutine, NULL) == GMP_OK ? status : 1; }
