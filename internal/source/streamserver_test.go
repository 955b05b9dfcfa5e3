package source_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
	"github.com/hyperstack-go/hyperstack/internal/source"
	"github.com/hyperstack-go/hyperstack/internal/source/geysertest"
)

type collectHandler struct {
	raws [][]byte
	want int
}

func (h *collectHandler) OnUpdate(u *source.Update) error {
	h.raws = append(h.raws, bytes.Clone(u.Raw)) // a lent Raw is only valid during the call
	if len(h.raws) == h.want {
		return errBenchDone
	}
	return nil
}

func (h *collectHandler) OnGap(source.Gap) error { return nil }

// The stream server feeds the real client: every message arrives byte-exact and in order, across
// more data than the client's connection window (so the server must wait for window updates) and
// messages larger than an HTTP/2 frame; the same with Raw lent from the transport's buffers (the
// server packs several messages per frame, so most are).
func TestStreamServerDeliversSequence(t *testing.T) {
	for _, lend := range []bool{false, true} {
		t.Run(fmt.Sprintf("lend=%v", lend), func(t *testing.T) { testStreamServerDelivers(t, lend) })
	}
}

func testStreamServerDelivers(t *testing.T, lend bool) {
	owner := geysertest.Key(7000)
	var msgs [][]byte
	total := 0
	for i := 0; total < 12<<20; i++ {
		size := 200 + (i*37)%1500
		if i%97 == 0 {
			size = 100_000 // spans several DATA frames
		}
		data := bytes.Repeat([]byte{byte(i)}, size)
		var u *geyserpb.SubscribeUpdate
		if i%50 == 49 {
			u = geysertest.Slot(uint64(10+i/50), geyserpb.SlotStatus_SLOT_PROCESSED)
		} else {
			u = geysertest.Account(uint64(10+i/50), geysertest.Key(i), owner, uint64(i), data, uint64(i))
		}
		raw, err := proto.Marshal(u)
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, raw)
		total += len(raw)
	}
	ss := geysertest.StartStream(t, msgs)
	y, err := source.New(source.Config{Endpoint: ss.Endpoint, Commitment: "processed",
		Filters: source.Filters{AccountOwners: []string{owner.String()}, Slots: true}, LendRaw: lend})
	if err != nil {
		t.Fatal(err)
	}
	// A deadline only so that a broken flow control fails the test instead of hanging it.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	go func() {
		select {
		case <-ss.Subscribed():
			ss.Release()
		case <-ctx.Done():
		}
	}()
	h := &collectHandler{want: len(msgs)}
	if err := y.Run(ctx, h); !errors.Is(err, errBenchDone) {
		t.Fatalf("Run: %v after %d of %d messages", err, len(h.raws), len(msgs))
	}
	served := ss.Messages()
	if len(served) != len(msgs) {
		t.Fatalf("Messages: %d, want %d", len(served), len(msgs))
	}
	for i, raw := range h.raws {
		if !bytes.Equal(raw, msgs[i]) {
			t.Fatalf("message %d: got %d bytes, want %d (or different content)", i, len(raw), len(msgs[i]))
		}
		if !bytes.Equal(served[i], msgs[i]) {
			t.Fatalf("Messages()[%d] differs from what was served", i)
		}
	}
	reqs := ss.Requests()
	if len(reqs) != 1 {
		t.Fatalf("requests: %d, want 1", len(reqs))
	}
	if f := reqs[0].GetAccounts(); len(f) == 0 {
		t.Fatalf("the request carried no account filter: %v", reqs[0])
	}
}

// Any other method is refused as unimplemented; the connection stays usable.
func TestStreamServerRefusesOtherMethods(t *testing.T) {
	ss := geysertest.StartStream(t, nil)
	conn, err := grpc.NewClient(ss.Addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := geyserpb.NewGeyserClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for range 2 {
		_, err := c.GetSlot(ctx, &geyserpb.GetSlotRequest{})
		if status.Code(err) != codes.Unimplemented {
			t.Fatalf("GetSlot: %v, want Unimplemented", err)
		}
	}
}
