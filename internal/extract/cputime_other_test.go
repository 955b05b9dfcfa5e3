//go:build !unix

package extract

import "time"

// processCPU is unavailable here; the CPU-time metrics are then omitted.
func processCPU() time.Duration { return 0 }
