//go:build !vm_debug

package vm

// debugVM turns on per-instruction tracing (build with -tags vm_debug). Off, the tracing compiles
// away.
const debugVM = false
