// Command yield is the Go twin of bench/yield.c: on one P
// (runtime.GOMAXPROCS(1)) two goroutines each call runtime.Gosched N times
// (default 1,000,000); report ns per switch = elapsed / (2 N).
//
// The main goroutine starts the two and waits on a WaitGroup for the whole
// run, so it is not in the rotation.
// Usage: yield [yields_per_goroutine]
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"
)

func main() {
	n := int64(1000000)
	if len(os.Args) > 1 {
		v, err := strconv.ParseInt(os.Args[1], 10, 64)
		if err != nil || v <= 0 {
			fmt.Fprintln(os.Stderr, "usage: yield [yields_per_goroutine]")
			os.Exit(2)
		}
		n = v
	}
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
	fmt.Printf("workload=yield impl=go metric=ns_per_switch value=%.2f unit=ns\n",
		float64(elapsed.Nanoseconds())/float64(2*n))
}
