// Package geyserpb holds the Go code generated from proto/geyser.proto and proto/solana-storage.proto,
// the project's own description of the Yellowstone Geyser gRPC interface (proto packages `geyser` and
// `solana.storage.ConfirmedBlock`). Regenerate with `make proto`; never edit the .pb.go files.
package geyserpb

//go:generate make -C ../.. proto
