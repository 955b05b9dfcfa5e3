package sim

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
	"github.com/hyperstack-go/hyperstack/internal/geyserserver"
	"github.com/hyperstack-go/hyperstack/internal/geyserserver/filter"
	"github.com/hyperstack-go/hyperstack/internal/solana"
)

// simServer is a geyserserver on a loopback port, fed by the test.
type simServer struct {
	srv     *geyserserver.Server
	client  geyserpb.GeyserClient
	applied chan struct{}
}

func startServer(t *testing.T, cfg geyserserver.Config) *simServer {
	t.Helper()
	ts := &simServer{applied: make(chan struct{}, 16)}
	cfg.Hooks.OnApplied = func(context.Context, *filter.Filter) {
		select {
		case ts.applied <- struct{}{}:
		default:
		}
	}
	ts.srv = geyserserver.New(cfg)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- ts.srv.Serve(ctx, lis) }()
	conn, err := grpc.NewClient(lis.Addr().String(),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = conn.Close()
		cancel()
		<-served
	})
	ts.client = geyserpb.NewGeyserClient(conn)
	return ts
}

// publishRun feeds a whole generator run to the server.
func publishRun(t *testing.T, srv *geyserserver.Server, s *Sim) {
	t.Helper()
	if err := s.Run(context.Background(), RunOptions{}, func(u *geyserpb.SubscribeUpdate, raw []byte) error {
		return srv.Publish(u, raw)
	}); err != nil {
		t.Fatal(err)
	}
}

// testCtx bounds a test's waits so a broken server fails the test instead of hanging it.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func u64(v uint64) *uint64 { return &v }
func bptr(v bool) *bool    { return &v }

// updateKey identifies an update across the wire for comparisons.
func updateKey(u *geyserpb.SubscribeUpdate) string {
	switch v := u.GetUpdateOneof().(type) {
	case *geyserpb.SubscribeUpdate_Account:
		a := v.Account.GetAccount()
		return fmt.Sprintf("account/%x/%d", a.GetPubkey(), a.GetWriteVersion())
	case *geyserpb.SubscribeUpdate_Transaction:
		return fmt.Sprintf("tx/%x", v.Transaction.GetTransaction().GetSignature())
	case *geyserpb.SubscribeUpdate_Slot:
		return fmt.Sprintf("slot/%d/%s", v.Slot.GetSlot(), v.Slot.GetStatus())
	}
	return geyserpb.KindOf(u).String()
}

func txIncludes(u *geyserpb.SubscribeUpdate, key solana.Pubkey) bool {
	info := u.GetTransaction().GetTransaction()
	for _, group := range [][][]byte{info.GetTransaction().GetMessage().GetAccountKeys(),
		info.GetMeta().GetLoadedWritableAddresses(), info.GetMeta().GetLoadedReadonlyAddresses()} {
		for _, k := range group {
			if key.Equal(k) {
				return true
			}
		}
	}
	return false
}

// TestServedFilters subscribes to the simulator's endpoint with an owner filter, a transaction
// account_include filter and a slots filter, and checks the stream carries exactly the updates those
// filters select from the (deterministic, so locally reproducible) generated stream, tagged with the
// matching filter names.
func TestServedFilters(t *testing.T) {
	t.Parallel()
	opts := Options{Slots: 40, Interslot: true, Population: 200}
	local, err := New(ScenarioSPLToken, 21, opts)
	if err != nil {
		t.Fatal(err)
	}
	all := collect(t, local)

	// A busy token account that shows up in transactions, sometimes through a lookup table.
	counts := map[solana.Pubkey]int{}
	for _, u := range all {
		if a := u.GetAccount(); a != nil && len(a.GetAccount().GetData()) == tokenAccountSize {
			pk, _ := solana.PubkeyFromBytes(a.GetAccount().GetPubkey())
			counts[pk]++
		}
	}
	var busy solana.Pubkey
	for pk, n := range counts {
		if n > counts[busy] || (n == counts[busy] && bytes.Compare(pk[:], busy[:]) < 0) {
			busy = pk
		}
	}
	var want []string
	for _, u := range all {
		switch v := u.GetUpdateOneof().(type) {
		case *geyserpb.SubscribeUpdate_Account:
			if tokenProgramID.Equal(v.Account.GetAccount().GetOwner()) {
				want = append(want, updateKey(u))
			}
		case *geyserpb.SubscribeUpdate_Transaction:
			if txIncludes(u, busy) {
				want = append(want, updateKey(u))
			}
		case *geyserpb.SubscribeUpdate_Slot:
			if v.Slot.GetStatus() <= geyserpb.SlotStatus_SLOT_FINALIZED {
				want = append(want, updateKey(u))
			}
		}
	}

	kinds := map[string]int{}
	for _, k := range want {
		kinds[k[:strings.Index(k, "/")]]++
	}
	if kinds["account"] == 0 || kinds["tx"] == 0 || kinds["slot"] == 0 || kinds["tx"] == len(all) {
		t.Fatalf("degenerate expectation %v", kinds)
	}

	ts := startServer(t, geyserserver.Config{Backpressure: true, PingInterval: -1})
	ctx := testCtx(t)
	stream, err := ts.client.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	req := &geyserpb.SubscribeRequest{
		Accounts: map[string]*geyserpb.SubscribeRequestFilterAccounts{
			"tokens": {Owner: []string{tokenProgramID.String()}},
		},
		Transactions: map[string]*geyserpb.SubscribeRequestFilterTransactions{
			"busy": {AccountInclude: []string{busy.String()}, Vote: bptr(false)},
		},
		Slots: map[string]*geyserpb.SubscribeRequestFilterSlots{"slots": {}},
	}
	if err := stream.Send(req); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ts.applied:
	case <-ctx.Done():
		t.Fatal("filter never applied")
	}

	remote, err := New(ScenarioSPLToken, 21, opts)
	if err != nil {
		t.Fatal(err)
	}
	published := make(chan error, 1)
	go func() {
		published <- remote.Run(context.Background(), RunOptions{}, func(u *geyserpb.SubscribeUpdate, raw []byte) error {
			return ts.srv.Publish(u, raw)
		})
	}()

	var got []string
	names := map[string]string{}
	for len(got) < len(want) {
		u, err := stream.Recv()
		if err != nil {
			t.Fatalf("after %d of %d updates: %v", len(got), len(want), err)
		}
		if u.GetPing() != nil {
			continue
		}
		got = append(got, updateKey(u))
		names[geyserpb.KindOf(u).String()] = slices.Min(u.GetFilters())
	}
	if err := <-published; err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("served %d updates, want %d; first difference at %d", len(got), len(want), firstDiff(got, want))
	}
	for kind, name := range map[string]string{"account": "tokens", "transaction": "busy", "slot": "slots"} {
		if names[kind] != name {
			t.Errorf("%s updates carry filter %q, want %q", kind, names[kind], name)
		}
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestServedFromSlot replays from a slot inside the server's buffer and is refused with
// OUT_OF_RANGE for one beyond it, as the real service does.
func TestServedFromSlot(t *testing.T) {
	t.Parallel()
	const slots, replay = 60, 20
	ts := startServer(t, geyserserver.Config{ReplaySlots: replay, PingInterval: -1})
	s, err := New(ScenarioSPLToken, 4, Options{Slots: slots, TxPerSlot: 4, Population: 100})
	if err != nil {
		t.Fatal(err)
	}
	publishRun(t, ts.srv, s)
	last := s.Slot()
	ctx := testCtx(t)

	from := last - replay/2
	stream, err := ts.client.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&geyserpb.SubscribeRequest{
		Slots:      map[string]*geyserpb.SubscribeRequestFilterSlots{"s": {FilterByCommitment: bptr(true)}},
		BlocksMeta: map[string]*geyserpb.SubscribeRequestFilterBlocksMeta{"m": {}},
		FromSlot:   u64(from),
	}); err != nil {
		t.Fatal(err)
	}
	// The replay covers every processed status and block meta from `from` to the last slot.
	seen := map[uint64]int{}
	for next := from; next <= last; {
		u, err := stream.Recv()
		if err != nil {
			t.Fatalf("replay from %d stopped before slot %d: %v", from, next, err)
		}
		slot, ok := geyserpb.SlotOf(u)
		if !ok {
			continue
		}
		if slot < from {
			t.Fatalf("replay from %d sent slot %d", from, slot)
		}
		if st := u.GetSlot(); st != nil && st.GetStatus() != geyserpb.SlotStatus_SLOT_PROCESSED {
			t.Fatalf("filter_by_commitment at processed let %v through", st.GetStatus())
		}
		seen[slot]++
		for seen[next] == 2 {
			next++
		}
	}

	old, err := ts.client.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := old.Send(&geyserpb.SubscribeRequest{
		Slots:    map[string]*geyserpb.SubscribeRequestFilterSlots{"s": {}},
		FromSlot: u64(last - 3*replay),
	}); err != nil {
		t.Fatal(err)
	}
	for {
		_, err := old.Recv()
		if err == nil {
			continue
		}
		if status.Code(err) != codes.OutOfRange {
			t.Fatalf("from_slot beyond the buffer: %v, want OUT_OF_RANGE", err)
		}
		break
	}
}

// TestServedUnary checks GetSlot follows the simulated chain and Ping/GetVersion answer.
func TestServedUnary(t *testing.T) {
	t.Parallel()
	ts := startServer(t, geyserserver.Config{PingInterval: -1})
	s, err := New(ScenarioSPLToken, 9, Options{Slots: 10, TxPerSlot: 2})
	if err != nil {
		t.Fatal(err)
	}
	publishRun(t, ts.srv, s)
	ctx := testCtx(t)
	got, err := ts.client.GetSlot(ctx, &geyserpb.GetSlotRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if got.GetSlot() != s.Slot() {
		t.Errorf("GetSlot %d, the simulator's last slot is %d", got.GetSlot(), s.Slot())
	}
	if p, err := ts.client.Ping(ctx, &geyserpb.PingRequest{Count: 7}); err != nil || p.GetCount() != 7 {
		t.Errorf("Ping(7) = %v, %v", p, err)
	}
	if v, err := ts.client.GetVersion(ctx, &geyserpb.GetVersionRequest{}); err != nil || v.GetVersion() == "" {
		t.Errorf("GetVersion = %v, %v", v, err)
	}
}
