//go:build !unix

package vm

import "time"

// processCPU is not measured on this platform.
func processCPU() time.Duration { return 0 }
