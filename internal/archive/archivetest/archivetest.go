// Package archivetest provides helpers for tests that need real archive files.
package archivetest

import (
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/hyperstack-go/hyperstack/internal/archive"
	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
)

// MustCreate creates an archive in t.TempDir() and closes it when the test ends.
func MustCreate(t testing.TB, opts *archive.Options) *archive.Archive {
	t.Helper()
	path := filepath.Join(t.TempDir(), "test.archive")
	a, err := archive.Create(path, archive.Meta{
		CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Source:    archive.Source{Kind: archive.SourceYellowstone, Endpoint: "http://127.0.0.1:10000", Commitment: "confirmed"},
	}, opts)
	if err != nil {
		t.Fatalf("create archive: %v", err)
	}
	t.Cleanup(func() { _ = a.Close() })
	return a
}

// SlotUpdate returns a slot status update.
func SlotUpdate(slot uint64, status geyserpb.SlotStatus) *geyserpb.SubscribeUpdate {
	return &geyserpb.SubscribeUpdate{
		Filters:     []string{"slots"},
		UpdateOneof: &geyserpb.SubscribeUpdate_Slot{Slot: &geyserpb.SubscribeUpdateSlot{Slot: slot, Status: status}},
		CreatedAt:   timestamppb.New(time.Unix(1_770_000_000, int64(slot%1000))),
	}
}

// AccountUpdate returns an account update whose data has dataLen bytes.
func AccountUpdate(slot, writeVersion uint64, pubkey byte, dataLen int) *geyserpb.SubscribeUpdate {
	data := make([]byte, dataLen)
	for i := range data {
		data[i] = byte(i) ^ pubkey ^ byte(writeVersion)
	}
	pk := make([]byte, 32)
	pk[0] = pubkey
	return &geyserpb.SubscribeUpdate{
		Filters: []string{"accounts"},
		UpdateOneof: &geyserpb.SubscribeUpdate_Account{Account: &geyserpb.SubscribeUpdateAccount{
			Slot: slot,
			Account: &geyserpb.SubscribeUpdateAccountInfo{
				Pubkey: pk, Lamports: 1_000_000 + writeVersion, Owner: make([]byte, 32), Data: data,
				WriteVersion: writeVersion,
			},
		}},
	}
}

// PingUpdate returns a server ping.
func PingUpdate() *geyserpb.SubscribeUpdate {
	return &geyserpb.SubscribeUpdate{UpdateOneof: &geyserpb.SubscribeUpdate_Ping{Ping: &geyserpb.SubscribeUpdatePing{}}}
}

// Incoming marshals u into an archive.Incoming with its kind and slot filled in.
func Incoming(t testing.TB, u *geyserpb.SubscribeUpdate) archive.Incoming {
	t.Helper()
	raw, err := proto.Marshal(u)
	if err != nil {
		t.Fatalf("marshal update: %v", err)
	}
	slot, ok := geyserpb.SlotOf(u)
	return archive.Incoming{Raw: raw, Kind: geyserpb.KindOf(u), Slot: slot, HasSlot: ok,
		ReceivedAt: time.Unix(1_770_000_000, 0).UTC()}
}
