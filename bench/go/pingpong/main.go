// Command pingpong is the Go twin of bench/pingpong.c: two goroutines pass
// an int64 back and forth over two unbuffered channels N times (default
// 1,000,000 round trips) with GOMAXPROCS P (default 1); report ns per round
// trip. run.sh runs it as workload pingpong_p1 (P = 1) and pingpong_p2
// (P = 2).
//
// The main goroutine is the pinger: it sends i on ping and receives i + 1
// on pong; the ponger it started does the reverse. The clock runs from
// before the ponger is started to after the last pong arrives.
// Usage: pingpong [round_trips] [procs]
package main

import (
	"fmt"
	"gmprt/bench/benchutil"
	"runtime"
	"time"
)

func main() {
	const usage = "pingpong [round_trips] [procs]"
	n := benchutil.Arg(1, 1000000, usage)
	procs := benchutil.Arg(2, 1, usage)
	runtime.GOMAXPROCS(int(procs))
	ping := make(chan int64)
	pong := make(chan int64)
	start := time.Now()
	go func() {
		for i := int64(0); i < n; i++ {
			v := <-ping
			pong <- v + 1
		}
	}()
	for i := int64(0); i < n; i++ {
		ping <- i
		if v := <-pong; v != i+1 {
			benchutil.Fail("pingpong: got %d, want %d", v, i+1)
		}
	}
	elapsed := time.Since(start)
	benchutil.Report(fmt.Sprintf("pingpong_p%d", procs), "ns_per_round_trip",
		float64(elapsed.Nanoseconds())/float64(n))
}
