// Command yield is the Go twin of bench/yield.c: on one P
// (runtime.GOMAXPROCS(1)) two goroutines each call runtime.Gosched N times
// (default 1,000,000); report ns per switch = elapsed / (2 N).
//
// The main goroutine starts the two and waits on a WaitGroup for the whole
// run, so it is not in the rotation.
// Usage: yield [yields_per_goroutine]
package main

import (
	"gmprt/bench/benchutil"
	"runtime"
	"sync"
	"time"
)

func main() {
	n := benchutil.Count(1000000, "yield [yields_per_goroutine]")
	runtime.GOMAXPROCS(1)
	var wg sync.WaitGroup
	wg.Add(2)
	start := time.Now()
	for g := 0; g < 2; g++ {
		go func() {
			for i := int64(0); i < n; i++ {
				runtime.Gosched()
			}
			wg.Done()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	benchutil.Report("yield", "ns_per_switch", float64(elapsed.Nanoseconds())/float64(2*n))
}
