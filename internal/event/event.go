// Package event is the shared vocabulary of the pipeline: the decoded-input events a stack reacts to
// (account updates and instructions, extracted from Yellowstone updates) and the mutations the VM
// produces. It imports only internal/solana.
package event

import (
	"encoding/json"

	"github.com/hyperstack-go/hyperstack/internal/solana"
)

// Kind tells which payload an Event carries.
type Kind uint8

const (
	// KindInvalid is the zero Kind; no valid event has it.
	KindInvalid Kind = iota
	// KindAccount is an account update.
	KindAccount
	// KindInstruction is a top-level or inner (CPI) instruction of a transaction.
	KindInstruction
)

// String returns "account" or "instruction".
func (k Kind) String() string {
	switch k {
	case KindAccount:
		return "account"
	case KindInstruction:
		return "instruction"
	default:
		return "invalid"
	}
}

// Event is one input to the VM, in stream order. Seq is the position of the Yellowstone update the
// event came from (the archive sequence, or a counter for live streams); several events can share a
// Seq (the instructions of one transaction), and Index orders them within it.
type Event struct {
	Kind        Kind
	Slot        uint64
	Seq         uint64
	Index       uint32
	Account     *Account
	Instruction *Instruction
}

// Account is an account update.
type Account struct {
	Pubkey       solana.Pubkey
	Owner        solana.Pubkey
	Lamports     uint64
	Executable   bool
	RentEpoch    uint64
	Data         []byte
	Slot         uint64
	WriteVersion uint64
	// TxnSignature is the transaction that wrote the account; zero when the update carries none.
	TxnSignature solana.Signature
	// IsStartup marks updates sent while the validator loads a snapshot.
	IsStartup bool
	// Decoded is the IDL decoding of Data; nil when no IDL is known for Owner or Data does not decode.
	Decoded *Decoded
}

// Instruction is one instruction of a transaction, top-level or inner.
type Instruction struct {
	Signature solana.Signature
	Slot      uint64
	// TxnIndex is the transaction's index within its block.
	TxnIndex uint64
	// Path is [outer] for a top-level instruction and [outer, inner] for an inner one.
	Path []int
	// StackHeight is the invocation depth reported by the runtime (1 = top level); 0 when unknown.
	StackHeight uint32
	ProgramID   solana.Pubkey
	// Accounts are the instruction's accounts, resolved to addresses (static keys, then loaded
	// writable, then loaded readonly addresses of lookup tables).
	Accounts []solana.Pubkey
	Data     []byte
	// Failed marks an instruction of a transaction that failed.
	Failed bool
	// Logs are the transaction's log messages (shared by all instructions of the transaction).
	Logs []string
	// CPIEvent marks an inner instruction that carries an Anchor event emitted through a self-CPI
	// (emit_cpi): Data is the 8-byte event-instruction tag, the event discriminator and the payload.
	CPIEvent bool
	// LogEvents are the events the instruction's program emitted as `Program data:` log lines while
	// it was the executing program (lines logged by the programs it invoked belong to those
	// instructions), in log order.
	LogEvents []LogEvent
	// Decoded is the IDL decoding of the instruction (for a CPIEvent instruction, of the event it
	// carries); nil when no IDL is known for ProgramID or Data does not decode.
	Decoded *Decoded
}

// LogEvent is an event a program emitted through a `Program data:` log line.
type LogEvent struct {
	// Data is the base64-decoded payload (the concatenation when the line holds several chunks): for
	// Anchor events the 8-byte event discriminator followed by the Borsh payload.
	Data []byte
	// Decoded is the IDL decoding of Data; nil when unknown.
	Decoded *Decoded
}

// DecodedKind tells what an IDL decoding describes.
type DecodedKind uint8

const (
	// DecodedInvalid is the zero DecodedKind.
	DecodedInvalid DecodedKind = iota
	// DecodedAccount is an account's data decoded as one of the IDL's accounts.
	DecodedAccount
	// DecodedInstruction is an instruction decoded as one of the IDL's instructions.
	DecodedInstruction
	// DecodedEvent is an event payload (self-CPI or log) decoded as one of the IDL's events.
	DecodedEvent
)

// String returns "account", "instruction" or "event".
func (k DecodedKind) String() string {
	switch k {
	case DecodedAccount:
		return "account"
	case DecodedInstruction:
		return "instruction"
	case DecodedEvent:
		return "event"
	default:
		return "invalid"
	}
}

// Decoded is the IDL decoding of an account's data, an instruction or an event.
type Decoded struct {
	Kind DecodedKind
	// Program is the IDL's name, e.g. "spl_token".
	Program string
	// Name is the account, instruction or event name as written in the IDL.
	Name string
	// Type is "<Program>::<Name>" with the name in PascalCase, e.g. "spl_token::Transfer".
	Type string
	// Fields are the decoded values (account fields, instruction arguments or event fields), keyed and
	// shaped as the idl package decodes them.
	Fields map[string]any
	// AccountNames are, for an instruction, the IDL's names of its accounts in order: AccountNames[i]
	// names Instruction.Accounts[i]. It may be shorter or longer than Accounts (extra accounts are
	// unnamed; missing optional accounts leave names unused). Shared; do not modify.
	AccountNames []string
}

// Mutation is what one handler run produces for one entity: the changed fields (Patch, a JSON object
// nested by path) and the paths whose arrays were appended to (Append). Key and Patch are canonical JSON
// (object keys sorted), so identical runs produce identical bytes.
type Mutation struct {
	// Export is the entity name, e.g. "OreRound".
	Export string `json:"entity"`
	// Key is the primary-key value as JSON (a number or a string).
	Key json.RawMessage `json:"key"`
	// Patch is a JSON object holding the changed paths.
	Patch json.RawMessage `json:"patch"`
	// Append lists the dotted paths in Patch whose arrays carry newly appended items only.
	Append []string `json:"append,omitempty"`
	// Slot is the slot of the event that produced the mutation.
	Slot uint64 `json:"slot"`
	// Seq orders mutations totally within a run: assigned by the pipeline in production order.
	Seq uint64 `json:"seq"`
	// Handler names the handler that produced it (e.g. "ore::RoundState"); informational.
	Handler string `json:"handler,omitempty"`
}
