package extract

import (
	"crypto/sha256"

	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
	"github.com/hyperstack-go/hyperstack/internal/solana"
)

// key returns a deterministic test pubkey.
func key(name string) solana.Pubkey { return solana.Pubkey(sha256.Sum256([]byte("key:" + name))) }

// sigOf returns a deterministic test signature.
func sigOf(name string) solana.Signature {
	a := sha256.Sum256([]byte("sig1:" + name))
	b := sha256.Sum256([]byte("sig2:" + name))
	var s solana.Signature
	copy(s[:32], a[:])
	copy(s[32:], b[:])
	return s
}

func keyBytes(ks ...solana.Pubkey) [][]byte {
	out := make([][]byte, len(ks))
	for i := range ks {
		out[i] = ks[i][:]
	}
	return out
}

// txSpec describes a hand-built transaction.
type txSpec struct {
	sig      solana.Signature
	slot     uint64
	index    uint64
	static   []solana.Pubkey
	writable []solana.Pubkey // loaded writable addresses (one lookup table)
	readonly []solana.Pubkey // loaded readonly addresses (same table)
	tops     []*geyserpb.CompiledInstruction
	inner    []*geyserpb.InnerInstructions
	logs     []string
	failed   bool
}

func (s txSpec) info() *geyserpb.SubscribeUpdateTransactionInfo {
	msg := &geyserpb.Message{
		Header:       &geyserpb.MessageHeader{NumRequiredSignatures: 1},
		AccountKeys:  keyBytes(s.static...),
		Instructions: s.tops,
	}
	if len(s.writable)+len(s.readonly) > 0 {
		table := key("table")
		lookup := &geyserpb.MessageAddressTableLookup{AccountKey: table[:]}
		for i := range s.writable {
			lookup.WritableIndexes = append(lookup.WritableIndexes, byte(i))
		}
		for i := range s.readonly {
			lookup.ReadonlyIndexes = append(lookup.ReadonlyIndexes, byte(100+i))
		}
		msg.Versioned = true
		msg.AddressTableLookups = []*geyserpb.MessageAddressTableLookup{lookup}
	}
	meta := &geyserpb.TransactionStatusMeta{
		Fee:                     5000,
		InnerInstructions:       s.inner,
		LogMessages:             s.logs,
		LoadedWritableAddresses: keyBytes(s.writable...),
		LoadedReadonlyAddresses: keyBytes(s.readonly...),
	}
	if s.failed {
		meta.Err = &geyserpb.TransactionError{Err: []byte{1, 0, 0, 0}}
	}
	return &geyserpb.SubscribeUpdateTransactionInfo{
		Signature:   s.sig[:],
		Transaction: &geyserpb.Transaction{Signatures: [][]byte{s.sig[:]}, Message: msg},
		Meta:        meta,
		Index:       s.index,
	}
}

func (s txSpec) update() *geyserpb.SubscribeUpdate {
	return &geyserpb.SubscribeUpdate{UpdateOneof: &geyserpb.SubscribeUpdate_Transaction{
		Transaction: &geyserpb.SubscribeUpdateTransaction{Transaction: s.info(), Slot: s.slot},
	}}
}

func ix(program uint32, accounts []byte, data []byte) *geyserpb.CompiledInstruction {
	return &geyserpb.CompiledInstruction{ProgramIdIndex: program, Accounts: accounts, Data: data}
}

func inner(program uint32, accounts []byte, data []byte, height uint32) *geyserpb.InnerInstruction {
	return &geyserpb.InnerInstruction{ProgramIdIndex: program, Accounts: accounts, Data: data, StackHeight: &height}
}

func accountUpdate(pubkey, owner solana.Pubkey, data []byte, slot, writeVersion uint64, sig *solana.Signature) *geyserpb.SubscribeUpdate {
	info := &geyserpb.SubscribeUpdateAccountInfo{
		Pubkey:       pubkey[:],
		Lamports:     2039280,
		Owner:        owner[:],
		RentEpoch:    18446744073709551615,
		Data:         data,
		WriteVersion: writeVersion,
	}
	if sig != nil {
		info.TxnSignature = sig[:]
	}
	return &geyserpb.SubscribeUpdate{UpdateOneof: &geyserpb.SubscribeUpdate_Account{
		Account: &geyserpb.SubscribeUpdateAccount{Account: info, Slot: slot},
	}}
}
