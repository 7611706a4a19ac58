//go:build !unix

package app_test

import "time"

// processCPU is not measured here; the cpu_us metrics then read 0.
func processCPU() time.Duration { return 0 }

// machineIdle is not measured here.
func machineIdle() (idle, total uint64, ok bool) { return 0, 0, false }
