// Command select is the Go twin of bench/select.c: 4 senders, each on its
// own unbuffered channel, and one receiver (the main goroutine) that runs a
// select over the 4 receive cases N times (default 4,000,000), with the
// default GOMAXPROCS; report ns per select.
//
// Each sender sends N/4 values, so the N selects take every value whatever
// cases they pick; the sum of the values is checked. The clock runs from
// before the first sender is started to after the last select.
// Usage: select [selects]
package main

import (
	"gmprt/bench/benchutil"
	"time"
)

const senders = 4

func main() {
	n := benchutil.Count(4000000, "select [selects]")
	n -= n % senders
	if n == 0 {
		n = senders
	}
	per := n / senders
	var cs [senders]chan int64
	for i := range cs {
		cs[i] = make(chan int64)
	}
	start := time.Now()
	for s := 0; s < senders; s++ {
		go func(c chan<- int64, first int64) {
			for v := first; v < first+per; v++ {
				c <- v
			}
		}(cs[s], int64(s)*per)
	}
	var sum int64
	for i := int64(0); i < n; i++ {
		select {
		case v := <-cs[0]:
			sum += v
		case v := <-cs[1]:
			sum += v
		case v := <-cs[2]:
			sum += v
		case v := <-cs[3]:
			sum += v
		}
	}
	elapsed := time.Since(start)
	if want := n * (n - 1) / 2; sum != want {
		benchutil.Fail("select: sum %d, want %d", sum, want)
	}
	benchutil.Report("select", "ns_per_select", float64(elapsed.Nanoseconds())/float64(n))
}
