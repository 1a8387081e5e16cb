// Command timers is the Go twin of bench/timers.c: N goroutines (default
// 100,000) each sleep once, for 1 to 50 ms, and measure how late they wake;
// default GOMAXPROCS. Reports three metrics: the wall time from before the
// first goroutine is started to after the last has finished (ms), and the
// median and 99th percentile of the lateness (us).
//
// The durations come from xorshift64 (shifts 13, 7, 17) seeded with
// 0x9E3779B97F4A7C15: goroutine i sleeps 1 + x_i % 50 ms, x_i the i-th
// output, the same sequence as the C side. Lateness is (clock after the
// sleep) - (clock before it) - duration, with the monotonic clock. The
// percentiles are nearest-rank over the N latenesses.
// Usage: timers [goroutines]
package main

import (
	"gmprt/bench/benchutil"
	"sort"
	"sync"
	"time"
)

// rank returns the nearest-rank percentile p (0 < p <= 100) of sorted v.
func rank(v []int64, p int64) int64 {
	n := int64(len(v))
	return v[(p*n+99)/100-1]
}

func main() {
	n := benchutil.Count(100000, "timers [goroutines]")
	late := make([]int64, n)
	var wg sync.WaitGroup
	wg.Add(int(n))
	x := uint64(0x9E3779B97F4A7C15)
	start := time.Now()
	for i := int64(0); i < n; i++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		d := time.Duration(1+x%50) * time.Millisecond
		go func(i int64, d time.Duration) {
			t0 := time.Now()
			time.Sleep(d)
			late[i] = int64(time.Since(t0) - d)
			wg.Done()
		}(i, d)
	}
	wg.Wait()
	elapsed := time.Since(start)
	sort.Slice(late, func(a, b int) bool { return late[a] < late[b] })
	if late[0] < 0 {
		benchutil.Fail("timers: a goroutine woke %d ns early", -late[0])
	}
	benchutil.ReportUnit("timers", "wall_ms", float64(elapsed.Nanoseconds())/1e6, "ms")
	benchutil.ReportUnit("timers", "lateness_p50_us", float64(rank(late, 50))/1e3, "us")
	benchutil.ReportUnit("timers", "lateness_p99_us", float64(rank(late, 99))/1e3, "us")
}
