// Command benchtool measures the WebSocket server on loopback and prints the numbers; it asserts
// nothing.
//
//	go run ./internal/serve/benchtool -mode fanout   # delivered frames/s, ours vs a bare gorilla broadcast
//	go run ./internal/serve/benchtool -mode latency  # mutation → client latency at a fixed delivery rate
//	go run ./internal/serve/benchtool -mode idle     # server memory per idle connection
//
// Clients run in the same process as the server (fanout), or in a child process: idle, so that only
// server memory is counted, and latency, so that the clients' garbage collection and goroutines do
// not run inside the server's process (-latency-in-process puts them back there). Either way they
// share the machine's cores with the server.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"runtime/trace"
)

func main() {
	mode := flag.String("mode", "fanout", "fanout, latency, idle; idle-clients and latency-clients are internal")
	clients := flag.Int("clients", 1000, "connected clients")
	payload := flag.Int("payload", 1024, "frame payload bytes (approximate)")
	seconds := flag.Float64("seconds", 5, "measurement time per run")
	window := flag.Int("window", 64, "frames in flight per client (fanout pacing)")
	rate := flag.Int("rate", 10000, "deliveries per second (latency)")
	url := flag.String("url", "", "server URL (idle-clients, latency-clients)")
	hello := flag.String("hello", "", "first message each client sends (latency-clients)")
	flag.BoolVar(&latencyInProcess, "latency-in-process", false, "latency: run the clients in the server's process instead of a child process")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile to this file")
	traceFile := flag.String("trace", "", "write an execution trace to this file")
	memProfile := flag.String("memprofile", "", "write an allocation profile to this file at the end")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
	}
	if *traceFile != "" {
		f, err := os.Create(*traceFile)
		if err == nil && trace.Start(f) == nil {
			defer trace.Stop()
		}
	}
	var err error
	switch *mode {
	case "fanout":
		err = runFanout(*clients, *payload, *seconds, *window)
	case "latency":
		err = runLatency(*clients, *payload, *seconds, *rate)
	case "idle":
		err = runIdle(*clients)
	case "idle-clients":
		err = runIdleClients(*url, *clients)
	case "latency-clients":
		err = runLatencyClients(*url, *clients, *hello)
	default:
		err = fmt.Errorf("unknown mode %q", *mode)
	}
	if *memProfile != "" {
		if f, err := os.Create(*memProfile); err == nil {
			pprof.Lookup("allocs").WriteTo(f, 0)
			f.Close()
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtool:", err)
		pprof.StopCPUProfile()
		trace.Stop()
		os.Exit(1)
	}
}
