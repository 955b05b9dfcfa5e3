// Package sim generates deterministic, realistic Solana program traffic in the shape a Yellowstone
// gRPC (Geyser) endpoint delivers it: account updates, transactions with their metadata, slot status
// updates and block metadata.
//
// # Scenarios
//
// A scenario models one program's activity:
//
//   - "spl-token": mints, associated token accounts, transfer, transfer_checked, mint_to and burn over a
//     growing population of wallets whose activity follows a power law. Every instruction comes with
//     the account writes it causes, so balances move and mint supplies stay equal to the sum of their
//     token accounts.
//   - "ore": the ORE mining program and its entropy program as their IDLs describe them: rounds that open
//     and close every N slots, miners deploying SOL to squares, checkpoints, resets, treasury and board
//     updates and the entropy Var account, with every address derived as a real program-derived
//     address.
//
// Account data and instruction data are encoded with internal/idl from the program's IDL, so a stack
// decodes them exactly.
//
// # Determinism
//
// The output is a pure function of the scenario, the seed and the Options: the generator draws from a
// seeded PCG and derives every timestamp (created_at, block_time) from the slot number, never from the
// wall clock. Marshalled with deterministic protobuf marshalling (as Sim.Run does), the same inputs give
// the same bytes.
//
// # Use
//
// New builds a generator; Next yields one SubscribeUpdate at a time (io.EOF after Options.Slots slots);
// Run paces the same sequence at a slot interval (400 ms on mainnet) or as fast as possible and hands
// each update, with its wire bytes, to a callback. A Sim is not safe for concurrent use.
package sim
