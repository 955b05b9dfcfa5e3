package extract

import (
	"slices"
	"strconv"

	"github.com/charmbracelet/log"
	"google.golang.org/protobuf/proto"

	"github.com/hyperstack-go/hyperstack/internal/event"
	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
	"github.com/hyperstack-go/hyperstack/internal/idl"
	"github.com/hyperstack-go/hyperstack/internal/solana"
)

// Config configures an Extractor. The zero value extracts without decoding and logs nothing.
type Config struct {
	// Logger receives debug lines about data that could not be decoded or attributed; nil = silent.
	Logger *log.Logger
	// IDLs decodes account data (by owner), instructions and events (by program id); nil = no decoding.
	IDLs *idl.Registry
}

// Extractor turns SubscribeUpdates into events. It reuses scratch buffers between calls and is not
// safe for concurrent use.
type Extractor struct {
	logger *log.Logger
	idls   *idl.Registry

	msg      geyserpb.SubscribeUpdate
	unmarsh  proto.UnmarshalOptions
	keys     []solana.Pubkey
	groupOf  []int32
	frames   []int32
	programs map[string]solana.Pubkey
	types    map[typeKey]typeInfo
}

// New returns an Extractor for cfg.
func New(cfg Config) *Extractor {
	return &Extractor{logger: cfg.Logger, idls: cfg.IDLs}
}

// Update appends the events of u to dst and returns the extended slice. seq is stored in every
// event; Index numbers the events of u from 0. Updates that carry no account or transaction (slot,
// ping, entry, block meta, ...) add nothing. On error dst is returned unchanged (its length; the
// spare capacity may have been written).
func (x *Extractor) Update(u *geyserpb.SubscribeUpdate, seq uint64, dst []event.Event) ([]event.Event, error) {
	switch v := u.GetUpdateOneof().(type) {
	case *geyserpb.SubscribeUpdate_Account:
		return x.account(v.Account.GetAccount(), v.Account.GetSlot(), v.Account.GetIsStartup(), seq, 0, dst)
	case *geyserpb.SubscribeUpdate_Transaction:
		return x.transaction(v.Transaction.GetTransaction(), v.Transaction.GetSlot(), seq, 0, dst)
	case *geyserpb.SubscribeUpdate_Block:
		return x.block(v.Block, seq, dst)
	default:
		return dst, nil
	}
}

// UpdateBytes unmarshals raw as a SubscribeUpdate (into a message the Extractor reuses) and appends
// its events to dst like Update. The events do not alias raw.
func (x *Extractor) UpdateBytes(raw []byte, seq uint64, dst []event.Event) ([]event.Event, error) {
	if err := x.unmarsh.Unmarshal(raw, &x.msg); err != nil {
		return dst, &Error{Err: ErrUnmarshal, Detail: err.Error()}
	}
	return x.Update(&x.msg, seq, dst)
}

func (x *Extractor) block(b *geyserpb.SubscribeUpdateBlock, seq uint64, dst []event.Event) ([]event.Event, error) {
	start := len(dst)
	var err error
	for _, tx := range b.GetTransactions() {
		if dst, err = x.transaction(tx, b.GetSlot(), seq, uint32(len(dst)-start), dst); err != nil {
			return dst[:start], err
		}
	}
	for _, a := range b.GetAccounts() {
		if dst, err = x.account(a, b.GetSlot(), false, seq, uint32(len(dst)-start), dst); err != nil {
			return dst[:start], err
		}
	}
	return dst, nil
}

func (x *Extractor) account(info *geyserpb.SubscribeUpdateAccountInfo, slot uint64, startup bool, seq uint64, index uint32, dst []event.Event) ([]event.Event, error) {
	if info == nil {
		return dst, &Error{Err: ErrMissingAccount}
	}
	a := &event.Account{
		Lamports:     info.GetLamports(),
		Executable:   info.GetExecutable(),
		RentEpoch:    info.GetRentEpoch(),
		Data:         info.GetData(),
		Slot:         slot,
		WriteVersion: info.GetWriteVersion(),
		IsStartup:    startup,
	}
	if len(info.GetPubkey()) != solana.PubkeyLen {
		return dst, &Error{Err: ErrBadLength, Detail: lengthDetail("pubkey", -1, len(info.GetPubkey()))}
	}
	copy(a.Pubkey[:], info.GetPubkey())
	if len(info.GetOwner()) != solana.PubkeyLen {
		return dst, &Error{Pubkey: a.Pubkey, Err: ErrBadLength, Detail: lengthDetail("owner", -1, len(info.GetOwner()))}
	}
	copy(a.Owner[:], info.GetOwner())
	if sig := info.GetTxnSignature(); len(sig) != 0 {
		if len(sig) != solana.SignatureLen {
			return dst, &Error{Pubkey: a.Pubkey, Err: ErrBadLength, Detail: lengthDetail("txn_signature", -1, len(sig))}
		}
		copy(a.TxnSignature[:], sig)
	}
	if x.idls != nil {
		x.decodeAccount(a)
	}
	return append(dst, event.Event{Kind: event.KindAccount, Slot: slot, Seq: seq, Index: index, Account: a}), nil
}

func (x *Extractor) transaction(info *geyserpb.SubscribeUpdateTransactionInfo, slot, seq uint64, index uint32, dst []event.Event) ([]event.Event, error) {
	if info == nil {
		return dst, &Error{Err: ErrMissingTransaction}
	}
	var sig solana.Signature
	if len(info.GetSignature()) != solana.SignatureLen {
		return dst, &Error{Err: ErrBadLength, Detail: lengthDetail("signature", -1, len(info.GetSignature()))}
	}
	copy(sig[:], info.GetSignature())
	msg := info.GetTransaction().GetMessage()
	if msg == nil {
		return dst, &Error{Signature: sig, Err: ErrMissingTransaction}
	}
	meta := info.GetMeta()
	if meta == nil {
		return dst, &Error{Signature: sig, Err: ErrMissingMeta}
	}

	// The account-index space: static keys, then loaded writable, then loaded readonly.
	static, lw, lr := msg.GetAccountKeys(), meta.GetLoadedWritableAddresses(), meta.GetLoadedReadonlyAddresses()
	var nw, nr int
	for _, l := range msg.GetAddressTableLookups() {
		nw += len(l.GetWritableIndexes())
		nr += len(l.GetReadonlyIndexes())
	}
	if nw != len(lw) || nr != len(lr) {
		return dst, &Error{Signature: sig, Err: ErrLookupMismatch, Detail: "lookup tables index " +
			itoa(nw) + " writable and " + itoa(nr) + " readonly, meta loaded " + itoa(len(lw)) +
			" writable and " + itoa(len(lr)) + " readonly"}
	}
	keys := slices.Grow(x.keys[:0], len(static)+len(lw)+len(lr))
	for _, group := range [...]struct {
		name  string
		addrs [][]byte
	}{{"account key", static}, {"loaded writable address", lw}, {"loaded readonly address", lr}} {
		for i, k := range group.addrs {
			if len(k) != solana.PubkeyLen {
				x.keys = keys
				return dst, &Error{Signature: sig, Err: ErrBadLength, Detail: lengthDetail(group.name, i, len(k))}
			}
			keys = append(keys, solana.Pubkey(k))
		}
	}
	x.keys = keys

	// Group the inner instructions by their top-level instruction.
	tops := msg.GetInstructions()
	inner := meta.GetInnerInstructions()
	groupOf := slices.Grow(x.groupOf[:0], len(tops))[:len(tops)]
	for i := range groupOf {
		groupOf[i] = -1
	}
	x.groupOf = groupOf
	n, nInner, nAccounts := len(tops), 0, 0
	for _, ix := range tops {
		nAccounts += len(ix.GetAccounts())
	}
	for g, grp := range inner {
		outer := grp.GetIndex()
		if int64(outer) >= int64(len(tops)) {
			return dst, &Error{Signature: sig, Err: ErrInnerIndex, Detail: "group " + itoa(g) + " names top-level instruction " +
				itoa(int(outer)) + " of " + itoa(len(tops))}
		}
		if groupOf[outer] >= 0 {
			return dst, &Error{Signature: sig, Path: []int{int(outer)}, Err: ErrInnerIndex, Detail: "two inner-instruction groups"}
		}
		groupOf[outer] = int32(g)
		nInner += len(grp.GetInstructions())
		for _, ix := range grp.GetInstructions() {
			nAccounts += len(ix.GetAccounts())
		}
	}
	n += nInner

	// One allocation each for the instructions, their account lists and their paths.
	ins := make([]event.Instruction, n)
	accounts := make([]solana.Pubkey, nAccounts)
	paths := make([]int, len(tops)+2*nInner)
	failed := meta.GetErr() != nil
	logs := meta.GetLogMessages()
	k := 0
	fill := func(path []int, programIdx uint32, accIdx, data []byte, height uint32) error {
		in := &ins[k]
		in.Signature = sig
		in.Slot = slot
		in.TxnIndex = info.GetIndex()
		in.Path = path
		in.StackHeight = height
		in.Data = data
		in.Failed = failed
		in.Logs = logs
		if int64(programIdx) >= int64(len(keys)) {
			return &Error{Signature: sig, Path: path, Err: ErrAccountIndex, Detail: "program index " +
				itoa(int(programIdx)) + " of " + itoa(len(keys)) + " keys"}
		}
		in.ProgramID = keys[programIdx]
		acc := accounts[:len(accIdx):len(accIdx)]
		accounts = accounts[len(accIdx):]
		for j, a := range accIdx {
			if int(a) >= len(keys) {
				return &Error{Signature: sig, Path: path, Err: ErrAccountIndex, Detail: "account " + itoa(j) +
					" has index " + itoa(int(a)) + " of " + itoa(len(keys)) + " keys"}
			}
			acc[j] = keys[a]
		}
		in.Accounts = acc
		k++
		return nil
	}
	for i, top := range tops {
		path := paths[:1:1]
		paths = paths[1:]
		path[0] = i
		if err := fill(path, top.GetProgramIdIndex(), top.GetAccounts(), top.GetData(), 1); err != nil {
			return dst, err
		}
		if g := groupOf[i]; g >= 0 {
			for j, ix := range inner[g].GetInstructions() {
				path := paths[:2:2]
				paths = paths[2:]
				path[0], path[1] = i, j
				if err := fill(path, ix.GetProgramIdIndex(), ix.GetAccounts(), ix.GetData(), ix.GetStackHeight()); err != nil {
					return dst, err
				}
				if len(ix.GetData()) >= 16 && string(ix.GetData()[:8]) == EventIxTag {
					ins[k-1].CPIEvent = true
				}
			}
		}
	}
	if hasProgramData(logs) {
		x.attributeLogs(ins, logs)
	}
	if x.idls != nil {
		for i := range ins {
			x.decodeInstruction(&ins[i])
		}
	}
	dst = slices.Grow(dst, n)
	for i := range ins {
		dst = append(dst, event.Event{Kind: event.KindInstruction, Slot: slot, Seq: seq, Index: index + uint32(i), Instruction: &ins[i]})
	}
	return dst, nil
}

// EventIxTag is the 8-byte prefix of the instruction data of an Anchor event emitted through a
// self-CPI (emit_cpi): the little-endian bytes of Anchor's EVENT_IX_TAG 0x1d9acb512ea545e4, the
// first 8 bytes of sha256("anchor:event").
const EventIxTag = "\xe4\x45\xa5\x2e\x51\xcb\x9a\x1d"

func lengthDetail(what string, i, n int) string {
	if i >= 0 {
		what += " " + itoa(i)
	}
	return what + " is " + itoa(n) + " bytes"
}

func itoa(i int) string { return strconv.Itoa(i) }
