package geyserpb

import "testing"

func TestKindAndSlot(t *testing.T) {
	cases := []struct {
		u    *SubscribeUpdate
		kind UpdateKind
		slot uint64
		ok   bool
	}{
		{&SubscribeUpdate{UpdateOneof: &SubscribeUpdate_Account{Account: &SubscribeUpdateAccount{Slot: 7}}}, KindAccount, 7, true},
		{&SubscribeUpdate{UpdateOneof: &SubscribeUpdate_Slot{Slot: &SubscribeUpdateSlot{Slot: 8}}}, KindSlot, 8, true},
		{&SubscribeUpdate{UpdateOneof: &SubscribeUpdate_Transaction{Transaction: &SubscribeUpdateTransaction{Slot: 9}}}, KindTransaction, 9, true},
		{&SubscribeUpdate{UpdateOneof: &SubscribeUpdate_BlockMeta{BlockMeta: &SubscribeUpdateBlockMeta{Slot: 10}}}, KindBlockMeta, 10, true},
		{&SubscribeUpdate{UpdateOneof: &SubscribeUpdate_Entry{Entry: &SubscribeUpdateEntry{Slot: 11}}}, KindEntry, 11, true},
		{&SubscribeUpdate{UpdateOneof: &SubscribeUpdate_Ping{Ping: &SubscribeUpdatePing{}}}, KindPing, 0, false},
		{&SubscribeUpdate{}, KindUnknown, 0, false},
	}
	for _, c := range cases {
		if got := KindOf(c.u); got != c.kind {
			t.Errorf("KindOf = %v, want %v", got, c.kind)
		}
		slot, ok := SlotOf(c.u)
		if slot != c.slot || ok != c.ok {
			t.Errorf("SlotOf(%v) = %d,%v want %d,%v", c.kind, slot, ok, c.slot, c.ok)
		}
	}
	if KindBlockMeta.String() != "block_meta" || UpdateKind(200).String() != "unknown" {
		t.Fatal("kind names")
	}
}
