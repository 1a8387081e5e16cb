// Command sieve is the Go twin of bench/sieve.c: the concurrent prime sieve
// (a generator goroutine sends 2, 3, 4, ...; each prime found adds a filter
// goroutine to the chain that drops that prime's multiples; every link is an
// unbuffered channel) run until the main goroutine has received N primes
// (default 3,000; the 3,000th is 27449); default GOMAXPROCS. Report ms from
// before the generator is started to after the N-th prime arrives. The
// primes are checked against trial division afterwards; the goroutines are
// left blocked when main returns.
// Usage: sieve [primes]
package main

import (
	"gmprt/bench/benchutil"
	"time"
)

func generate(out chan<- int64) {
	for v := int64(2); ; v++ {
		out <- v
	}
}

func filter(in <-chan int64, out chan<- int64, prime int64) {
	for {
		if v := <-in; v%prime != 0 {
			out <- v
		}
	}
}

// isPrime: trial division, for the check.
func isPrime(v int64) bool {
	if v < 2 {
		return false
	}
	for d := int64(2); d*d <= v; d++ {
		if v%d == 0 {
			return false
		}
	}
	return true
}

func main() {
	n := benchutil.Count(3000, "sieve [primes]")
	primes := make([]int64, n)
	start := time.Now()
	c := make(chan int64)
	go generate(c)
	for i := int64(0); i < n; i++ {
		primes[i] = <-c
		if i == n-1 {
			break // the last prime needs no filter
		}
		next := make(chan int64)
		go filter(c, next, primes[i])
		c = next
	}
	elapsed := time.Since(start)
	want := int64(1)
	for i := int64(0); i < n; i++ {
		for want++; !isPrime(want); want++ {
		}
		if primes[i] != want {
			benchutil.Fail("sieve: prime %d is %d, want %d", i+1, primes[i], want)
		}
	}
	benchutil.ReportUnit("sieve", "ms", float64(elapsed.Nanoseconds())/1e6, "ms")
}
