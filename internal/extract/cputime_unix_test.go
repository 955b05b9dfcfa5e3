//go:build unix

package extract

import (
	"syscall"
	"time"
)

// processCPU returns the CPU time (user + system) the process has used. With GOMAXPROCS=1 it is the
// time of the one core running the benchmark, whatever else the machine is doing.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
