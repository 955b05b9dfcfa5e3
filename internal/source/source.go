package source

import (
	"fmt"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
)

// Handler receives the stream. Both methods are called from Run's receive goroutine, one at a time;
// an error returned by either stops Run with that error.
type Handler interface {
	OnUpdate(u *Update) error
	OnGap(g Gap) error
}

// Update is one SubscribeUpdate as received.
type Update struct {
	// Raw is the SubscribeUpdate exactly as it arrived on the wire. It is owned by the handler, or
	// lent to it until OnUpdate returns when Config.LendRaw is set.
	Raw []byte
	// Kind is the update_oneof case.
	Kind geyserpb.UpdateKind
	// Slot is the slot the update belongs to; 0 for updates without one (ping, pong).
	Slot uint64
	// ReceivedAt is when the frame was received (Config.Clock).
	ReceivedAt time.Time

	once sync.Once
	msg  *geyserpb.SubscribeUpdate
	err  error
}

// NewUpdate wraps raw SubscribeUpdate bytes (for example read back from an archive), reading Kind and
// Slot from them. Malformed bytes give KindUnknown and slot 0; Message reports the decode error.
func NewUpdate(raw []byte, receivedAt time.Time) *Update {
	u := &Update{Raw: raw, ReceivedAt: receivedAt}
	u.Kind, u.Slot, _ = scanKindSlot(raw)
	return u
}

// Message decodes Raw once and returns the decoded message (shared: do not modify it).
func (u *Update) Message() (*geyserpb.SubscribeUpdate, error) {
	u.once.Do(func() {
		m := new(geyserpb.SubscribeUpdate)
		if err := proto.Unmarshal(u.Raw, m); err != nil {
			u.err = fmt.Errorf("decode subscribe update (%d bytes, kind %s, slot %d): %w", len(u.Raw), u.Kind, u.Slot, err)
			return
		}
		u.msg = m
	})
	return u.msg, u.err
}

// Gap reports slots whose updates may be incomplete because the server could not replay them.
type Gap struct {
	// FromSlot is the first slot that may be missing (the from_slot the server refused).
	FromSlot uint64
	// ToSlot is the last slot that may be incomplete: the slot of the first update received from the
	// live head after the refusal (that slot may have started before the stream joined it).
	ToSlot uint64
	// Reason is the server's explanation, e.g. `out_of_range: broadcast from 5 is not available, ...`.
	Reason string
}

func (g Gap) String() string {
	return fmt.Sprintf("gap in slots %d..%d (%s)", g.FromSlot, g.ToSlot, g.Reason)
}
