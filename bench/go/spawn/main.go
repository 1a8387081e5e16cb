// Command spawn is the Go twin of bench/spawn.c: start N goroutines (default
// 1,000,000) that each signal completion, with the default GOMAXPROCS, and
// report ns per goroutine.
//
// Each goroutine decrements an atomic counter; the one that brings it to
// zero closes a channel the main goroutine waits on (the same countdown as
// bench/bench.h). The clock runs from before the first `go` to after main
// wakes.
// Usage: spawn [count]
package main

import (
	"gmprt/bench/benchutil"
	"sync/atomic"
	"time"
)

func main() {
	n := benchutil.Count(1000000, "spawn [count]")
	remaining := n
	done := make(chan struct{})
	start := time.Now()
	for i := int64(0); i < n; i++ {
		go func() {
			if atomic.AddInt64(&remaining, -1) == 0 {
				close(done)
			}
		}()
	}
	<-done
	elapsed := time.Since(start)
	benchutil.Report("spawn", "ns_per_goroutine", float64(elapsed.Nanoseconds())/float64(n))
}
