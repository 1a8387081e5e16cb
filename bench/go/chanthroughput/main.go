// Command chanthroughput is the Go twin of bench/chanthroughput.c: 4
// producers and 4 consumers move N int64 values in all (default 10,000,000)
// through one channel of capacity 1024, with the default GOMAXPROCS; report
// millions of values per second (higher is better).
//
// Producer p sends p*(N/4) ... (p+1)*(N/4) - 1. When every producer is done
// (a WaitGroup) the main goroutine closes the channel; the consumers
// receive until it is closed and drained, add up what they got and finish
// on a second WaitGroup. The sum is checked against N*(N-1)/2. The clock
// runs from before the first producer is started to after the last
// consumer is done.
// Usage: chanthroughput [values]
package main

import (
	"gmprt/bench/benchutil"
	"sync"
	"sync/atomic"
	"time"
)

const workers = 4 // producers, and as many consumers

func main() {
	n := benchutil.Count(10000000, "chanthroughput [values]")
	n -= n % workers
	if n == 0 {
		n = workers
	}
	per := n / workers
	c := make(chan int64, 1024)
	var total int64
	var producers, consumers sync.WaitGroup
	producers.Add(workers)
	consumers.Add(workers)
	start := time.Now()
	for p := int64(0); p < workers; p++ {
		go func(first int64) {
			for v := first; v < first+per; v++ {
				c <- v
			}
			producers.Done()
		}(p * per)
	}
	for i := 0; i < workers; i++ {
		go func() {
			var sum int64
			for v := range c {
				sum += v
			}
			atomic.AddInt64(&total, sum)
			consumers.Done()
		}()
	}
	producers.Wait()
	close(c)
	consumers.Wait()
	elapsed := time.Since(start)
	if want := n * (n - 1) / 2; total != want {
		benchutil.Fail("chanthroughput: sum %d, want %d", total, want)
	}
	benchutil.ReportUnit("chanthroughput", "mmsg_per_s",
		float64(n)/float64(elapsed.Nanoseconds())*1e3, "Mmsg/s")
}
