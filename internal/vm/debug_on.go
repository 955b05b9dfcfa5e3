//go:build vm_debug

package vm

// debugVM turns on per-instruction tracing (build with -tags vm_debug).
const debugVM = true
