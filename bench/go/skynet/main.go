// Command skynet is the Go twin of bench/skynet.c: the skynet benchmark.
// A tree of goroutines with N leaves (default 1,000,000; 1,111,111
// goroutines in all), each inner node having 10 children: a leaf sends its
// number on its parent's channel, an inner node makes one unbuffered
// channel, starts its 10 children on it, adds up the 10 values it receives
// and sends the sum to its own parent. The root's sum is checked
// (N*(N-1)/2, 499999500000 for a million). Default GOMAXPROCS; report ms
// from before the root is started to after its sum arrives.
//
// A node covering `size` leaves gives each child size/10 of them (the last
// child the rest), so any N works; for powers of 10 this is the classic
// benchmark exactly.
// Usage: skynet [leaves]
package main

import (
	"gmprt/bench/benchutil"
	"time"
)

const fanout = 10

func skynet(parent chan<- int64, num, size int64) {
	if size == 1 {
		parent <- num
		return
	}
	children := int64(fanout)
	if size < children {
		children = size
	}
	step := size / children
	c := make(chan int64)
	for i := int64(0); i < children; i++ {
		sub := step
		if i == children-1 {
			sub = size - step*(children-1)
		}
		go skynet(c, num+i*step, sub)
	}
	var sum int64
	for i := int64(0); i < children; i++ {
		sum += <-c
	}
	parent <- sum
}

func main() {
	n := benchutil.Count(1000000, "skynet [leaves]")
	root := make(chan int64)
	start := time.Now()
	go skynet(root, 0, n)
	sum := <-root
	elapsed := time.Since(start)
	if want := n * (n - 1) / 2; sum != want {
		benchutil.Fail("skynet: sum %d, want %d", sum, want)
	}
	benchutil.ReportUnit("skynet", "ms", float64(elapsed.Nanoseconds())/1e6, "ms")
}
