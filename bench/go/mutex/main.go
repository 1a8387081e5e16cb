// Command mutex is the Go twin of bench/mutex.c: 8 goroutines each take
// and release one sync.Mutex N/8 times (default N = 10,000,000 pairs in
// all), incrementing a shared counter inside; default GOMAXPROCS. The
// counter is checked against N. Report ns per lock/unlock pair = elapsed /
// N, the clock running from before the first goroutine is started to after
// the last has finished (a WaitGroup).
// Usage: mutex [pairs]
package main

import (
	"gmprt/bench/benchutil"
	"sync"
	"time"
)

const workers = 8

func main() {
	n := benchutil.Count(10000000, "mutex [pairs]")
	n -= n % workers
	if n == 0 {
		n = workers
	}
	per := n / workers
	var mu sync.Mutex
	var counter int64
	var wg sync.WaitGroup
	wg.Add(workers)
	start := time.Now()
	for w := 0; w < workers; w++ {
		go func() {
			for i := int64(0); i < per; i++ {
				mu.Lock()
				counter++
				mu.Unlock()
			}
			wg.Done()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if counter != n {
		benchutil.Fail("mutex: counter %d, want %d", counter, n)
	}
	benchutil.Report("mutex", "ns_per_lock_unlock", float64(elapsed.Nanoseconds())/float64(n))
}
