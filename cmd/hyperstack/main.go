// Command hyperstack turns the Solana blockchain into live, typed application state: it records
// Yellowstone gRPC streams, replays them through a stack's bytecode VM, serves the HyperStack
// WebSocket protocol and inspects archives, stacks and entities.
package main

import (
	"os"

	"github.com/hyperstack-go/hyperstack/cmd/hyperstack/command"
)

func main() { os.Exit(command.Main()) }
