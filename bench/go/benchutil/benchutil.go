// Package benchutil holds what the Go twins share with bench/bench.h: the
// count arguments and the output line.
package benchutil

import (
	"fmt"
	"os"
	"strconv"
)

// Count returns the first argument as a positive count, or def when there
// is none; a bad argument prints usage and exits with status 2.
func Count(def int64, usage string) int64 {
	return Arg(1, def, usage)
}

// Arg returns argument i (1 is the first) as a positive count, or def when
// there are fewer arguments; a bad argument prints usage and exits with
// status 2.
func Arg(i int, def int64, usage string) int64 {
	if len(os.Args) <= i {
		return def
	}
	v, err := strconv.ParseInt(os.Args[i], 10, 64)
	if err != nil || v <= 0 {
		fmt.Fprintln(os.Stderr, "usage: "+usage)
		os.Exit(2)
	}
	return v
}

// Report prints one result line in run.sh's format, in nanoseconds.
func Report(workload, metric string, value float64) {
	ReportUnit(workload, metric, value, "ns")
}

// ReportUnit prints one result line in run.sh's format with its unit (ns,
// us, ms, Mmsg/s, ...). A program may print several, one per metric.
func ReportUnit(workload, metric string, value float64, unit string) {
	fmt.Printf("workload=%s impl=go metric=%s value=%.2f unit=%s\n", workload, metric, value, unit)
}

// Fail prints a message on stderr and exits with status 1 (a check of the
// benchmark's result did not hold).
func Fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
	os.Exit(1)
}
