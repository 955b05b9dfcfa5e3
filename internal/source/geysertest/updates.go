package geysertest

import (
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
	"github.com/hyperstack-go/hyperstack/internal/solana"
)

// Account builds an account update.
func Account(slot uint64, pubkey, owner solana.Pubkey, lamports uint64, data []byte, writeVersion uint64) *geyserpb.SubscribeUpdate {
	return &geyserpb.SubscribeUpdate{
		UpdateOneof: &geyserpb.SubscribeUpdate_Account{Account: &geyserpb.SubscribeUpdateAccount{
			Slot: slot,
			Account: &geyserpb.SubscribeUpdateAccountInfo{
				Pubkey:       pubkey[:],
				Owner:        owner[:],
				Lamports:     lamports,
				Data:         data,
				WriteVersion: writeVersion,
			},
		}},
		CreatedAt: timestamppb.Now(),
	}
}

// Slot builds a slot status update.
func Slot(slot uint64, st geyserpb.SlotStatus) *geyserpb.SubscribeUpdate {
	u := &geyserpb.SubscribeUpdate{
		UpdateOneof: &geyserpb.SubscribeUpdate_Slot{Slot: &geyserpb.SubscribeUpdateSlot{Slot: slot, Status: st}},
		CreatedAt:   timestamppb.Now(),
	}
	if slot > 0 {
		p := slot - 1
		u.GetSlot().Parent = &p
	}
	return u
}

// Transaction builds a transaction update touching accounts (the first is the fee payer/signer).
// A non-nil txErr marks it failed.
func Transaction(slot uint64, sig solana.Signature, vote bool, txErr []byte, accounts ...solana.Pubkey) *geyserpb.SubscribeUpdate {
	keys := make([][]byte, len(accounts))
	for i := range accounts {
		keys[i] = accounts[i][:]
	}
	meta := &geyserpb.TransactionStatusMeta{Fee: 5000}
	if txErr != nil {
		meta.Err = &geyserpb.TransactionError{Err: txErr}
	}
	return &geyserpb.SubscribeUpdate{
		UpdateOneof: &geyserpb.SubscribeUpdate_Transaction{Transaction: &geyserpb.SubscribeUpdateTransaction{
			Slot: slot,
			Transaction: &geyserpb.SubscribeUpdateTransactionInfo{
				Signature: sig[:],
				IsVote:    vote,
				Transaction: &geyserpb.Transaction{
					Signatures: [][]byte{sig[:]},
					Message: &geyserpb.Message{
						Header:      &geyserpb.MessageHeader{NumRequiredSignatures: 1},
						AccountKeys: keys,
					},
				},
				Meta: meta,
			},
		}},
		CreatedAt: timestamppb.Now(),
	}
}

// BlockMeta builds a block meta update.
func BlockMeta(slot uint64, blockhash string, height uint64) *geyserpb.SubscribeUpdate {
	return &geyserpb.SubscribeUpdate{
		UpdateOneof: &geyserpb.SubscribeUpdate_BlockMeta{BlockMeta: &geyserpb.SubscribeUpdateBlockMeta{
			Slot:        slot,
			Blockhash:   blockhash,
			BlockHeight: &geyserpb.BlockHeight{BlockHeight: height},
			ParentSlot:  slot - 1,
		}},
		CreatedAt: timestamppb.Now(),
	}
}

// Entry builds an entry update.
func Entry(slot, index uint64) *geyserpb.SubscribeUpdate {
	return &geyserpb.SubscribeUpdate{
		UpdateOneof: &geyserpb.SubscribeUpdate_Entry{Entry: &geyserpb.SubscribeUpdateEntry{Slot: slot, Index: index, NumHashes: 1}},
		CreatedAt:   timestamppb.Now(),
	}
}

// Key returns a deterministic test pubkey derived from n.
func Key(n int) solana.Pubkey {
	var k solana.Pubkey
	k[0], k[1], k[2], k[31] = byte(n), byte(n>>8), byte(n>>16), 0x5a
	return k
}

// Sig returns a deterministic test signature derived from n.
func Sig(n int) solana.Signature {
	var s solana.Signature
	s[0], s[1], s[2], s[63] = byte(n), byte(n>>8), byte(n>>16), 0xa5
	return s
}
