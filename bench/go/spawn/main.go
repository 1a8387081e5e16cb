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
	"fmt"
	"os"
	"strconv"
	"sync/atomic"
	"time"
)

func main() {
	n := int64(1000000)
	if len(os.Args) > 1 {
		v, err := strconv.ParseInt(os.Args[1], 10, 64)
		if err != nil || v <= 0 {
			fmt.Fprintln(os.Stderr, "usage: spawn [count]")
			os.Exit(2)
		}
		n = v
	}
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
	fmt.Printf("workload=spawn impl=go metric=ns_per_goroutine value=%.2f unit=ns\n",
		float64(elapsed.Nanoseconds())/float64(n))
}
