// Command syscall is the Go twin of bench/syscall.c: how long a goroutine
// blocked in a system call keeps the other goroutines of its P waiting. On
// one P (runtime.GOMAXPROCS(1)), R rounds (default 200): in each, goroutine
// B takes the time and blocks in syscall.Read on a blocking pipe (a raw
// system call, not the network poller), while goroutine W, queued behind it
// on the same P, takes the time when it first runs and writes the byte that
// ends B's read. Reports the median and the largest delay (W's time minus
// B's), in microseconds.
//
// Order: main starts W, then B; B goes to the P's runnext slot, so it runs
// first when main waits for the round to end.
// Usage: syscall [rounds]
package main

import (
	"gmprt/bench/benchutil"
	"runtime"
	"sort"
	"sync"
	"syscall"
	"time"
)

func main() {
	n := benchutil.Count(200, "syscall [rounds]")
	runtime.GOMAXPROCS(1)
	var fds [2]int
	if err := syscall.Pipe(fds[:]); err != nil {
		benchutil.Fail("pipe: %v", err)
	}
	delays := make([]float64, n)
	for r := range delays {
		var blockedAt, ranAt time.Time
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { // W
			ranAt = time.Now()
			if _, err := syscall.Write(fds[1], []byte{'x'}); err != nil {
				benchutil.Fail("write: %v", err)
			}
			wg.Done()
		}()
		go func() { // B
			var b [1]byte
			blockedAt = time.Now()
			if n, err := syscall.Read(fds[0], b[:]); n != 1 || err != nil {
				benchutil.Fail("read: %d %v", n, err)
			}
			wg.Done()
		}()
		wg.Wait()
		delays[r] = float64(ranAt.Sub(blockedAt).Nanoseconds()) / 1000
	}
	sort.Float64s(delays)
	benchutil.ReportUnit("syscall", "median_delay", delays[n/2], "us")
	benchutil.ReportUnit("syscall", "max_delay", delays[n-1], "us")
}
