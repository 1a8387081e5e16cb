/*
 * lock_os_thread.c -- using a thread-affine library from goroutines.
 *
 *   cc lock_os_thread.c -o lock_os_thread $(pkg-config --cflags --libs gmprt)
 *
 * Some libraries keep state per thread: an OpenGL context, some GUI
 * toolkits, anything built on thread-local storage. A goroutine may resume
 * on another thread after any blocking call (a channel, a sleep, a lock),
 * so such a library would see a thread it was never initialised on.
 * gmp_lock_os_thread wires the goroutine to its thread until the matching
 * unlock: it then runs on that thread only, and the thread runs nothing
 * else. Below, "gfx" stands for such a library: it remembers, per thread,
 * whether it was initialised, and fails on any other thread.
 */
#include <gmprt.h>
#include <pthread.h>
#include <stdio.h>

/* --- a thread-affine library ------------------------------------------ */
static _Thread_local int gfx_ready; /* per thread, like a GL context */
static void gfx_init(void) { gfx_ready = 1; }
static int gfx_draw(int frame) { return gfx_ready ? frame : -1; } /* -1: wrong thread */
static void gfx_shutdown(void) { gfx_ready = 0; }

/* --- a goroutine that owns the library's context ------------------------ */
static gmp_chan_t* frames; /* int: frame numbers to draw */
static gmp_chan_t* done;   /* int: frames drawn, or -1 on a wrong thread */
static int status = 1;     /* the exit status: 0 when all frames were drawn */

static void renderer(void* arg) {
  (void)arg;
  gmp_lock_os_thread(); /* from here on this goroutine keeps its thread */
  gfx_init();
  pthread_t me = pthread_self();
  int frame, drawn = 0, moved = 0;
  while (gmp_chan_recv(frames, &frame) == GMP_OK) { /* blocks: the thread waits for us */
    if (gfx_draw(frame) < 0) drawn = -1;
    if (!pthread_equal(me, pthread_self())) moved = 1;
    if (drawn >= 0) drawn++;
  }
  gfx_shutdown();
  gmp_unlock_os_thread();
  int result = moved ? -1 : drawn;
  gmp_chan_send(done, &result);
}

static void main_goroutine(void* arg) {
  (void)arg;
  gmp_chan_make(&frames, sizeof(int), 0);
  gmp_chan_make(&done, sizeof(int), 1);
  gmp_go(renderer, NULL);
  for (int f = 0; f < 100; f++) {
    gmp_chan_send(frames, &f);
    if (f % 10 == 0) gmp_sleep(100 * 1000); /* let other goroutines run meanwhile */
  }
  gmp_chan_close(frames);
  int result;
  gmp_chan_recv(done, &result);
  printf("renderer drew %d frames, all on its own thread: %s\n", result,
         result == 100 ? "yes" : "no");
  status = result == 100 ? 0 : 1;
  gmp_chan_release(frames);
  gmp_chan_release(done);
}

int main(void) { return gmp_main(main_goroutine, NULL) == GMP_OK ? status : 1; }
