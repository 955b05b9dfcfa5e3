package geyserpb

// UpdateKind names the case of a SubscribeUpdate's update_oneof. Values are stable: archives store them.
type UpdateKind uint8

// The update kinds. KindUnknown covers an update whose case this build does not know (a newer server).
const (
	KindUnknown UpdateKind = iota
	KindAccount
	KindSlot
	KindTransaction
	KindTransactionStatus
	KindBlock
	KindPing
	KindPong
	KindBlockMeta
	KindEntry
)

var kindNames = [...]string{
	KindUnknown:           "unknown",
	KindAccount:           "account",
	KindSlot:              "slot",
	KindTransaction:       "transaction",
	KindTransactionStatus: "transaction_status",
	KindBlock:             "block",
	KindPing:              "ping",
	KindPong:              "pong",
	KindBlockMeta:         "block_meta",
	KindEntry:             "entry",
}

// String returns the snake_case name used in archives, logs and JSON output.
func (k UpdateKind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// AllKinds lists every known kind in declaration order.
func AllKinds() []UpdateKind {
	return []UpdateKind{KindAccount, KindSlot, KindTransaction, KindTransactionStatus, KindBlock,
		KindPing, KindPong, KindBlockMeta, KindEntry, KindUnknown}
}

// KindOf tells which case u carries.
func KindOf(u *SubscribeUpdate) UpdateKind {
	switch u.GetUpdateOneof().(type) {
	case *SubscribeUpdate_Account:
		return KindAccount
	case *SubscribeUpdate_Slot:
		return KindSlot
	case *SubscribeUpdate_Transaction:
		return KindTransaction
	case *SubscribeUpdate_TransactionStatus:
		return KindTransactionStatus
	case *SubscribeUpdate_Block:
		return KindBlock
	case *SubscribeUpdate_Ping:
		return KindPing
	case *SubscribeUpdate_Pong:
		return KindPong
	case *SubscribeUpdate_BlockMeta:
		return KindBlockMeta
	case *SubscribeUpdate_Entry:
		return KindEntry
	default:
		return KindUnknown
	}
}

// SlotOf returns the slot an update belongs to, and false for updates that carry none (ping, pong).
func SlotOf(u *SubscribeUpdate) (uint64, bool) {
	switch v := u.GetUpdateOneof().(type) {
	case *SubscribeUpdate_Account:
		return v.Account.GetSlot(), true
	case *SubscribeUpdate_Slot:
		return v.Slot.GetSlot(), true
	case *SubscribeUpdate_Transaction:
		return v.Transaction.GetSlot(), true
	case *SubscribeUpdate_TransactionStatus:
		return v.TransactionStatus.GetSlot(), true
	case *SubscribeUpdate_Block:
		return v.Block.GetSlot(), true
	case *SubscribeUpdate_BlockMeta:
		return v.BlockMeta.GetSlot(), true
	case *SubscribeUpdate_Entry:
		return v.Entry.GetSlot(), true
	default:
		return 0, false
	}
}
