// cxx_side.cpp -- the C++ side of the polyglot test (main.c): goroutines
// started from C++ lambdas through <gmprt.hpp>, on channels C made.
#include <gmprt.hpp>

extern "C" {

typedef int (*go_fn)(gmp_fn, void*);

// polyglot_cxx_start: start n C++ goroutines; each receives one value from
// input, sends it plus 1 on output, and sends its goroutine id on ids.
// GMP_OK or the code of a failed start.
int polyglot_cxx_start(gmp_chan_t* input, gmp_chan_t* output, gmp_chan_t* ids, int n) {
  // The C side keeps its references; ours are retained copies.
  gmp_chan_retain(input);
  gmp_chan_retain(output);
  gmp_chan_retain(ids);
  auto in = gmprt::chan<int64_t>::adopt(input);
  auto out = gmprt::chan<int64_t>::adopt(output);
  auto id = gmprt::chan<uint64_t>::adopt(ids);
  for (int i = 0; i < n; i++) {
    int rc = gmprt::go([in, out, id] {
      int64_t v = 0;
      if (in.recv(v) != GMP_OK) return;
      out.send(v + 1);
      id.send(gmp_goid());
    });
    if (rc != GMP_OK) return rc;
  }
  return GMP_OK;
}

// polyglot_cxx_maxprocs: GOMAXPROCS as the C++ side sees it.
int polyglot_cxx_maxprocs(void) { return gmp_maxprocs(0); }

// polyglot_cxx_gmp_go: the address of gmp_go as the C++ side links it.
go_fn polyglot_cxx_gmp_go(void) { return &gmp_go; }

}  // extern "C"
