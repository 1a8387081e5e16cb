// Package benchutil holds what the Go twins share with bench/bench.h: the
// count argument and the output line.
package benchutil

import (
	"fmt"
	"os"
	"strconv"
)

// Count returns the first argument as a positive count, or def when there
// is none; a bad argument prints usage and exits with status 2.
func Count(def int64, usage string) int64 {
	if len(os.Args) < 2 {
		return def
	}
	v, err := strconv.ParseInt(os.Args[1], 10, 64)
	if err != nil || v <= 0 {
		fmt.Fprintln(os.Stderr, "usage: "+usage)
		os.Exit(2)
	}
	return v
}

// Report prints one result line in run.sh's format.
func Report(workload, metric string, value float64) {
	fmt.Printf("workload=%s impl=go metric=%s value=%.2f unit=ns\n", workload, metric, value)
}
