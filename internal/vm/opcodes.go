package vm

import "strconv"

// Opcode is one VM operation. Every instruction is an Instr{Op, A, B, C}; the comment of each opcode says
// what its operands index: a register (rN), the constant pool (const), the path pool (path), the target
// table (target), the condition table (cond), the when table (when), the lookup indexes of the entity
// (index), the resolver table (resolver) or a literal number. No opcode jumps: control only ever leaves a
// handler early (null key, stale update).
type Opcode byte

const (
	// OpInvalid is the zero Opcode; executing it is an error.
	OpInvalid Opcode = iota

	// OpLoadEvent: rA = the event value at path B, or const C-1 when missing (C = 0: null).
	OpLoadEvent
	// OpLoadAddress: rA = the account address of an account event (base58), null for instructions.
	OpLoadAddress
	// OpLoadIxAccount: rA = the address (base58) of the instruction's account at position B.
	OpLoadIxAccount
	// OpLoadWhole: rA = the whole event without its __* keys; a private copy when C is 1 (it will be
	// changed in place).
	OpLoadWhole
	// OpLoadContext: rA = update-context field B (see contextField).
	OpLoadContext
	// OpLoadConst: rA = const B.
	OpLoadConst
	// OpLoadResolved: rA = the PDA reverse lookup of the account address in this entity's table (the
	// resolver hook of the account type), null on a miss.
	OpLoadResolved
	// OpCopy: rA = rB.
	OpCopy
	// OpCopyIfNull: rA = rB when rA is null.
	OpCopyIfNull
	// OpTransform: rA = transformation C applied to rB (null stays null).
	OpTransform
	// OpNewObject: rA = {}.
	OpNewObject
	// OpObjSet: rA.path B = rC (rA must be an object).
	OpObjSet
	// OpObjTransform: rA.path B = transformation C applied to it, when present.
	OpObjTransform
	// OpCapture: rA = the capture envelope {timestamp, account_address, data: rB, slot, signature}.
	OpCapture
	// OpEventWrap: rA = the event envelope {timestamp, data: rB, slot, signature}.
	OpEventWrap

	// OpLookupIndex: rA = rC resolved through lookup index B (B = noIndex: every index) and the PDA
	// reverse lookups, up to maxLookupDepth steps.
	OpLookupIndex
	// OpAbortIfNullKey: end the handler without a mutation when rA is null.
	OpAbortIfNullKey
	// OpReadState: check freshness (accounts) or duplication (instructions) for key rA, then load its
	// state or start an empty one; a stale or duplicate event ends the handler.
	OpReadState
	// OpUpdateIndex: lookup index A maps rB to key rC (null rB is not indexed).
	OpUpdateIndex
	// OpUpdatePda: this entity's PDA reverse lookup maps rA (a string) to key rB (a string or u64).
	OpUpdatePda
	// OpWriteState: store the state under key rA (LRU-bounded).
	OpWriteState
	// OpEmit: produce the mutation for key rA from the dirty paths.
	OpEmit

	// OpSet: target A = rB (LastWrite, Merge); always dirty.
	OpSet
	// OpSetOnce: target A = rB when rB is not null and the target is missing or null.
	OpSetOnce
	// OpSetMax: target A = max(target, rB) over numbers.
	OpSetMax
	// OpSetMin: target A = min(target, rB) over numbers.
	OpSetMin
	// OpSetSum: target A += rB (integers).
	OpSetSum
	// OpIncrement: target A += 1 (Count).
	OpIncrement
	// OpAppend: append rB to the array at target A (bounded).
	OpAppend
	// OpUniqueCount: add rB to the hidden set of target A; target A = the set's size.
	OpUniqueCount
	// OpSetIf: target A = rB when cond C holds on the event.
	OpSetIf
	// OpIncrementIf: target A += 1 when cond C holds on the event.
	OpIncrementIf
	// OpSetWhen: target A = rB when instruction when C was seen in the same transaction, else defer.
	OpSetWhen
	// OpSetUnlessStopped: target A = rB unless the stop flag at path C is true.
	OpSetUnlessStopped

	// OpResolve: run resolver A for the current entity (token metadata, URL), applying cached answers.
	OpResolve
	// OpComputed: evaluate the entity's computed fields, marking changed ones dirty.
	OpComputed

	// OpRegisterPda: instruction hook; the entity's PDA reverse lookup maps rA to rB and queued updates
	// waiting for rA are replayed.
	OpRegisterPda

	opCount
)

var opNames = [...]string{
	OpInvalid:          "Invalid",
	OpLoadEvent:        "LoadEvent",
	OpLoadAddress:      "LoadAddress",
	OpLoadIxAccount:    "LoadIxAccount",
	OpLoadWhole:        "LoadWhole",
	OpLoadContext:      "LoadContext",
	OpLoadConst:        "LoadConst",
	OpLoadResolved:     "LoadResolved",
	OpCopy:             "Copy",
	OpCopyIfNull:       "CopyIfNull",
	OpTransform:        "Transform",
	OpNewObject:        "NewObject",
	OpObjSet:           "ObjSet",
	OpObjTransform:     "ObjTransform",
	OpCapture:          "Capture",
	OpEventWrap:        "EventWrap",
	OpLookupIndex:      "LookupIndex",
	OpAbortIfNullKey:   "AbortIfNullKey",
	OpReadState:        "ReadState",
	OpUpdateIndex:      "UpdateIndex",
	OpUpdatePda:        "UpdatePda",
	OpWriteState:       "WriteState",
	OpEmit:             "Emit",
	OpSet:              "Set",
	OpSetOnce:          "SetOnce",
	OpSetMax:           "SetMax",
	OpSetMin:           "SetMin",
	OpSetSum:           "SetSum",
	OpIncrement:        "Increment",
	OpAppend:           "Append",
	OpUniqueCount:      "UniqueCount",
	OpSetIf:            "SetIf",
	OpIncrementIf:      "IncrementIf",
	OpSetWhen:          "SetWhen",
	OpSetUnlessStopped: "SetUnlessStopped",
	OpResolve:          "Resolve",
	OpComputed:         "Computed",
	OpRegisterPda:      "RegisterPda",
}

// String returns the opcode's name ("SetOnce").
func (op Opcode) String() string {
	if int(op) < len(opNames) && opNames[op] != "" {
		return opNames[op]
	}
	return "Op(" + strconv.Itoa(int(op)) + ")"
}

// noIndex as the B operand of OpLookupIndex means "search every lookup index of the entity".
const noIndex = ^uint32(0)

// contextField is the B operand of OpLoadContext.
type contextField uint32

const (
	ctxSlot contextField = iota
	ctxSignature
	ctxTimestamp
	ctxWriteVersion
	ctxTxnIndex
)

var contextNames = [...]string{"slot", "signature", "timestamp", "write_version", "txn_index"}
