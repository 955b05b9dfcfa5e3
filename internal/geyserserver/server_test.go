package geyserserver_test

import (
	"context"
	"encoding/json"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
	"github.com/hyperstack-go/hyperstack/internal/geyserserver"
	"github.com/hyperstack-go/hyperstack/internal/geyserserver/filter"
	"github.com/hyperstack-go/hyperstack/internal/solana"
	"github.com/hyperstack-go/hyperstack/internal/source/geysertest"
)

type harness struct {
	t       *testing.T
	srv     *geyserserver.Server
	client  geyserpb.GeyserClient
	applied chan *filter.Filter
	ctx     context.Context
	addr    string
}

func start(t *testing.T, cfg geyserserver.Config) *harness {
	t.Helper()
	h := &harness{t: t, applied: make(chan *filter.Filter, 64)}
	cfg.Hooks.OnApplied = func(_ context.Context, f *filter.Filter) { h.applied <- f }
	h.srv = geyserserver.New(cfg)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	h.addr = lis.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- h.srv.Serve(ctx, lis) }()
	cc, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = cc.Close()
		cancel()
		require.NoError(t, <-served)
	})
	h.client = geyserpb.NewGeyserClient(cc)
	tctx, tcancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(tcancel)
	h.ctx = tctx
	return h
}

type sub struct {
	h      *harness
	stream grpc.BidiStreamingClient[geyserpb.SubscribeRequest, geyserpb.SubscribeUpdate]
}

// subscribe opens a stream, sends req and waits until the server applied it.
func (h *harness) subscribe(req *geyserpb.SubscribeRequest, md ...string) *sub {
	h.t.Helper()
	ctx := h.ctx
	if len(md) > 0 {
		ctx = metadata.AppendToOutgoingContext(ctx, md...)
	}
	stream, err := h.client.Subscribe(ctx)
	require.NoError(h.t, err)
	s := &sub{h: h, stream: stream}
	if req != nil {
		s.send(req)
		h.waitApplied()
	}
	return s
}

func (h *harness) waitApplied() *filter.Filter {
	h.t.Helper()
	select {
	case f := <-h.applied:
		return f
	case <-h.ctx.Done():
		h.t.Fatal("request was not applied")
		return nil
	}
}

func (s *sub) send(req *geyserpb.SubscribeRequest) {
	s.h.t.Helper()
	require.NoError(s.h.t, s.stream.Send(req))
}

// next returns the next update that is not a server ping.
func (s *sub) next() *geyserpb.SubscribeUpdate {
	s.h.t.Helper()
	for {
		u, err := s.stream.Recv()
		require.NoError(s.h.t, err)
		if u.GetPing() == nil {
			return u
		}
	}
}

// recvErr reads until the stream fails and returns the status.
func (s *sub) recvErr() *status.Status {
	s.h.t.Helper()
	for {
		if _, err := s.stream.Recv(); err != nil {
			st, ok := status.FromError(err)
			require.True(s.h.t, ok, "not a status: %v", err)
			return st
		}
	}
}

func (h *harness) publish(us ...*geyserpb.SubscribeUpdate) {
	h.t.Helper()
	for _, u := range us {
		require.NoError(h.t, h.srv.Publish(u, nil))
	}
}

var (
	prog  = geysertest.Key(1000)
	other = geysertest.Key(2000)
	k1    = geysertest.Key(1)
	k2    = geysertest.Key(2)
)

func keys(ks ...solana.Pubkey) []string {
	var out []string
	for _, k := range ks {
		out = append(out, k.String())
	}
	return out
}

func commitment(c geyserpb.CommitmentLevel) *geyserpb.CommitmentLevel { return &c }

func describe(u *geyserpb.SubscribeUpdate) string {
	k := geyserpb.KindOf(u)
	slot, _ := geyserpb.SlotOf(u)
	s := k.String() + "@" + time.Duration(slot).String()
	if st := u.GetSlot(); st != nil {
		s += ":" + st.GetStatus().String()
	}
	return s
}

func TestFiltersFieldNamesMatchingFilters(t *testing.T) {
	h := start(t, geyserserver.Config{PingInterval: -1})
	s := h.subscribe(&geyserpb.SubscribeRequest{
		Commitment: commitment(geyserpb.CommitmentLevel_PROCESSED),
		Accounts: map[string]*geyserpb.SubscribeRequestFilterAccounts{
			"by_owner": {Owner: keys(prog)},
			"by_key":   {Account: keys(k1)},
		},
		Slots:              map[string]*geyserpb.SubscribeRequestFilterSlots{"slots": {}},
		Transactions:       map[string]*geyserpb.SubscribeRequestFilterTransactions{"txs": {Vote: new(false), AccountInclude: keys(prog)}},
		TransactionsStatus: map[string]*geyserpb.SubscribeRequestFilterTransactions{"tx_status": {}},
		BlocksMeta:         map[string]*geyserpb.SubscribeRequestFilterBlocksMeta{"meta": {}},
		Entry:              map[string]*geyserpb.SubscribeRequestFilterEntry{"entries": {}},
	})
	h.publish(
		geysertest.Account(1, k1, prog, 1, []byte{1}, 1),  // both account filters
		geysertest.Account(1, k2, prog, 1, []byte{2}, 2),  // owner only
		geysertest.Account(1, k2, other, 1, []byte{3}, 3), // none: not sent
		geysertest.Transaction(1, geysertest.Sig(1), false, nil, k1, prog),
		geysertest.Transaction(1, geysertest.Sig(2), true, nil, k1, prog), // vote: status only
		geysertest.Entry(1, 0),
		geysertest.BlockMeta(1, "hash1", 1),
		geysertest.Slot(1, geyserpb.SlotStatus_SLOT_PROCESSED),
	)
	want := []struct {
		kind    geyserpb.UpdateKind
		filters []string
	}{
		{geyserpb.KindAccount, []string{"by_key", "by_owner"}},
		{geyserpb.KindAccount, []string{"by_owner"}},
		{geyserpb.KindTransaction, []string{"txs"}},
		{geyserpb.KindTransactionStatus, []string{"tx_status"}},
		{geyserpb.KindTransactionStatus, []string{"tx_status"}},
		{geyserpb.KindEntry, []string{"entries"}},
		{geyserpb.KindBlockMeta, []string{"meta"}},
		{geyserpb.KindSlot, []string{"slots"}},
	}
	for i, w := range want {
		u := s.next()
		require.Equal(t, w.kind, geyserpb.KindOf(u), "update %d", i)
		require.Equal(t, w.filters, u.Filters, "update %d", i)
	}
}

func TestPublishedBytesAreSentByteExact(t *testing.T) {
	h := start(t, geyserserver.Config{PingInterval: -1})
	stream, err := h.client.Subscribe(h.ctx, grpc.ForceCodecV2(rawRecv{}))
	require.NoError(t, err)
	require.NoError(t, stream.SendMsg(&geyserpb.SubscribeRequest{
		Commitment: commitment(geyserpb.CommitmentLevel_PROCESSED),
		Accounts:   map[string]*geyserpb.SubscribeRequestFilterAccounts{"mine": {Owner: keys(prog)}},
	}))
	h.waitApplied()

	u := geysertest.Account(9, k1, prog, 7, []byte("payload"), 3)
	body, err := proto.Marshal(u)
	require.NoError(t, err)
	// An archived frame whose old filter names sit in the middle of the message.
	old := (&geyserpb.SubscribeUpdate{Filters: []string{"recorded_name"}})
	oldBytes, err := proto.Marshal(old)
	require.NoError(t, err)
	accPart, err := proto.Marshal(&geyserpb.SubscribeUpdate{UpdateOneof: u.UpdateOneof})
	require.NoError(t, err)
	tsPart, err := proto.Marshal(&geyserpb.SubscribeUpdate{CreatedAt: u.CreatedAt})
	require.NoError(t, err)
	mixed := append(append(append([]byte{}, accPart...), oldBytes...), tsPart...)
	require.NoError(t, h.srv.Publish(nil, mixed))
	// A canonical frame with the same name first: only the name is rewritten.
	canonical := append(append([]byte{}, oldBytes...), body...)
	require.NoError(t, h.srv.Publish(nil, canonical))

	prefix, err := proto.Marshal(&geyserpb.SubscribeUpdate{Filters: []string{"mine"}})
	require.NoError(t, err)
	for _, want := range [][]byte{
		append(append(append([]byte{}, prefix...), accPart...), tsPart...), // old name cut out, order kept
		append(append([]byte{}, prefix...), body...),
	} {
		var m rawMsg
		require.NoError(t, stream.RecvMsg(&m))
		require.Equal(t, want, m.b)
	}

	require.ErrorIs(t, h.srv.Publish(nil, []byte{0xff, 0xff}), geyserserver.ErrMalformed)
	require.ErrorIs(t, h.srv.Publish(nil, nil), geyserserver.ErrMalformed)
}

func TestEmptyFirstRequestThenFilter(t *testing.T) {
	h := start(t, geyserserver.Config{PingInterval: -1})
	s := h.subscribe(&geyserpb.SubscribeRequest{}) // as the Node SDK's subscribe() does
	h.publish(geysertest.Slot(1, geyserpb.SlotStatus_SLOT_PROCESSED))
	s.send(&geyserpb.SubscribeRequest{Slots: map[string]*geyserpb.SubscribeRequestFilterSlots{"s": {}}})
	h.waitApplied()
	h.publish(geysertest.Slot(2, geyserpb.SlotStatus_SLOT_PROCESSED))
	u := s.next()
	require.Equal(t, uint64(2), u.GetSlot().GetSlot(), "nothing before the real filter")
}

func TestPingRequestGetsPongAndKeepsFilter(t *testing.T) {
	h := start(t, geyserserver.Config{PingInterval: -1})
	s := h.subscribe(&geyserpb.SubscribeRequest{Slots: map[string]*geyserpb.SubscribeRequestFilterSlots{"s": {}}})
	// A ping that also carries maps must not become the filter.
	s.send(&geyserpb.SubscribeRequest{
		Ping:     &geyserpb.SubscribeRequestPing{Id: 42},
		Accounts: map[string]*geyserpb.SubscribeRequestFilterAccounts{"all": {}},
	})
	u := s.next()
	require.Equal(t, int32(42), u.GetPong().GetId())
	require.Empty(t, u.Filters)
	h.publish(geysertest.Account(3, k1, prog, 1, nil, 1), geysertest.Slot(3, geyserpb.SlotStatus_SLOT_PROCESSED))
	u = s.next()
	require.Equal(t, "slot@3ns:SLOT_PROCESSED", describe(u))
	require.Empty(t, h.applied, "the ping was never applied as a filter")
}

func TestEveryRequestReplacesTheFilter(t *testing.T) {
	h := start(t, geyserserver.Config{PingInterval: -1})
	s := h.subscribe(&geyserpb.SubscribeRequest{Slots: map[string]*geyserpb.SubscribeRequestFilterSlots{"s": {}}})
	s.send(&geyserpb.SubscribeRequest{BlocksMeta: map[string]*geyserpb.SubscribeRequestFilterBlocksMeta{"m": {}}})
	h.waitApplied()
	h.publish(geysertest.Slot(4, geyserpb.SlotStatus_SLOT_PROCESSED), geysertest.BlockMeta(4, "h", 4))
	u := s.next()
	require.Equal(t, geyserpb.KindBlockMeta, geyserpb.KindOf(u))
	require.Equal(t, []string{"m"}, u.Filters)
}

func TestCommitmentLevels(t *testing.T) {
	h := start(t, geyserserver.Config{PingInterval: -1})
	req := func(c geyserpb.CommitmentLevel) *geyserpb.SubscribeRequest {
		return &geyserpb.SubscribeRequest{
			Commitment: commitment(c),
			Accounts:   map[string]*geyserpb.SubscribeRequestFilterAccounts{"a": {}},
			Slots:      map[string]*geyserpb.SubscribeRequestFilterSlots{"s": {}},
		}
	}
	processed := h.subscribe(req(geyserpb.CommitmentLevel_PROCESSED))
	confirmed := h.subscribe(req(geyserpb.CommitmentLevel_CONFIRMED))
	finalized := h.subscribe(req(geyserpb.CommitmentLevel_FINALIZED))
	byCommitment := h.subscribe(&geyserpb.SubscribeRequest{
		Commitment: commitment(geyserpb.CommitmentLevel_CONFIRMED),
		Slots:      map[string]*geyserpb.SubscribeRequestFilterSlots{"s": {FilterByCommitment: new(true)}},
	})
	h.publish(
		geysertest.Account(1, k1, prog, 1, nil, 1),
		geysertest.Slot(1, geyserpb.SlotStatus_SLOT_PROCESSED),
		geysertest.Account(2, k1, prog, 1, nil, 2),
		geysertest.Slot(2, geyserpb.SlotStatus_SLOT_PROCESSED),
		geysertest.Slot(1, geyserpb.SlotStatus_SLOT_CONFIRMED),
		geysertest.Slot(2, geyserpb.SlotStatus_SLOT_DEAD),
		geysertest.Account(1, k2, prog, 1, nil, 3), // late update for a confirmed slot
		geysertest.Slot(1, geyserpb.SlotStatus_SLOT_FINALIZED),
		geysertest.Slot(9, geyserpb.SlotStatus_SLOT_PROCESSED), // a marker to end on
	)
	collect := func(s *sub, n int) []string {
		var out []string
		for range n {
			out = append(out, describe(s.next()))
		}
		return out
	}
	require.Equal(t, []string{"account@1ns", "slot@1ns:SLOT_PROCESSED", "account@2ns", "slot@2ns:SLOT_PROCESSED",
		"slot@1ns:SLOT_CONFIRMED", "account@1ns", "slot@1ns:SLOT_FINALIZED", "slot@9ns:SLOT_PROCESSED"}, collect(processed, 8))
	require.Equal(t, []string{"slot@1ns:SLOT_PROCESSED", "slot@2ns:SLOT_PROCESSED", "account@1ns",
		"slot@1ns:SLOT_CONFIRMED", "account@1ns", "slot@1ns:SLOT_FINALIZED", "slot@9ns:SLOT_PROCESSED"}, collect(confirmed, 7))
	require.Equal(t, []string{"slot@1ns:SLOT_PROCESSED", "slot@2ns:SLOT_PROCESSED", "slot@1ns:SLOT_CONFIRMED",
		"account@1ns", "account@1ns", "slot@1ns:SLOT_FINALIZED", "slot@9ns:SLOT_PROCESSED"}, collect(finalized, 7))
	require.Equal(t, []string{"slot@1ns:SLOT_CONFIRMED"}, collect(byCommitment, 1))
	h.publish(geysertest.Slot(9, geyserpb.SlotStatus_SLOT_CONFIRMED))
	require.Equal(t, []string{"slot@9ns:SLOT_CONFIRMED"}, collect(byCommitment, 1))
}

func feed(h *harness, from, to uint64) {
	for s := from; s <= to; s++ {
		h.publish(
			geysertest.Account(s, k1, prog, s, nil, s),
			geysertest.BlockMeta(s, "hash-"+time.Duration(s).String(), 100+s),
			geysertest.Slot(s, geyserpb.SlotStatus_SLOT_PROCESSED),
			geysertest.Slot(s, geyserpb.SlotStatus_SLOT_CONFIRMED),
		)
	}
}

func TestFromSlotReplaysThenStreamsLive(t *testing.T) {
	h := start(t, geyserserver.Config{PingInterval: -1})
	feed(h, 1, 5)
	h.publish(geysertest.Account(2, k2, prog, 1, nil, 99)) // a late update of an older slot
	from := uint64(3)
	s := h.subscribe(&geyserpb.SubscribeRequest{
		Commitment: commitment(geyserpb.CommitmentLevel_PROCESSED),
		FromSlot:   &from,
		Accounts:   map[string]*geyserpb.SubscribeRequestFilterAccounts{"a": {}},
		BlocksMeta: map[string]*geyserpb.SubscribeRequestFilterBlocksMeta{"m": {}},
	})
	for slot := uint64(3); slot <= 5; slot++ {
		require.Equal(t, "account@"+time.Duration(slot).String(), describe(s.next()))
		require.Equal(t, "block_meta@"+time.Duration(slot).String(), describe(s.next()))
	}
	feed(h, 6, 6)
	require.Equal(t, "account@6ns", describe(s.next()), "the late slot-2 update was not replayed")

	info, err := h.client.SubscribeReplayInfo(h.ctx, &geyserpb.SubscribeReplayInfoRequest{})
	require.NoError(t, err)
	require.NotNil(t, info.FirstAvailable)
	require.Equal(t, uint64(1), info.GetFirstAvailable())
}

func TestFromSlotErrors(t *testing.T) {
	t.Run("older than the replay window", func(t *testing.T) {
		h := start(t, geyserserver.Config{PingInterval: -1, ReplaySlots: 2})
		feed(h, 1, 5)
		from := uint64(3)
		s := h.subscribe(nil)
		s.send(&geyserpb.SubscribeRequest{FromSlot: &from, Slots: map[string]*geyserpb.SubscribeRequestFilterSlots{"s": {}}})
		st := s.recvErr()
		require.Equal(t, codes.OutOfRange, st.Code())
		require.Equal(t, "broadcast from 3 is not available, last available: 4", st.Message())
	})
	t.Run("evicted from the ring", func(t *testing.T) {
		h := start(t, geyserserver.Config{PingInterval: -1, RingSize: 8})
		feed(h, 1, 5) // 20 updates at processed; the ring keeps the last 8 (slots 4 and 5)
		from := uint64(2)
		s := h.subscribe(nil)
		s.send(&geyserpb.SubscribeRequest{FromSlot: &from, Slots: map[string]*geyserpb.SubscribeRequestFilterSlots{"s": {}}})
		st := s.recvErr()
		require.Equal(t, codes.OutOfRange, st.Code())
		require.Equal(t, "broadcast from 2 is not available, last available: 4", st.Message())
	})
	t.Run("replay disabled", func(t *testing.T) {
		h := start(t, geyserserver.Config{PingInterval: -1, ReplaySlots: -1})
		from := uint64(1)
		s := h.subscribe(nil)
		s.send(&geyserpb.SubscribeRequest{FromSlot: &from})
		st := s.recvErr()
		require.Equal(t, codes.Internal, st.Code())
		require.Equal(t, "from_slot is not supported", st.Message())
		info, err := h.client.SubscribeReplayInfo(h.ctx, &geyserpb.SubscribeReplayInfoRequest{})
		require.NoError(t, err)
		require.Nil(t, info.FirstAvailable)
	})
}

func TestInvalidFilter(t *testing.T) {
	h := start(t, geyserserver.Config{PingInterval: -1})
	s := h.subscribe(nil)
	s.send(&geyserpb.SubscribeRequest{Accounts: map[string]*geyserpb.SubscribeRequestFilterAccounts{"bad": {Owner: []string{"nope"}}}})
	st := s.recvErr()
	require.Equal(t, codes.InvalidArgument, st.Code())
	require.Contains(t, st.Message(), `failed to create filter: invalid filter: accounts filter "bad": owner: "nope" is not a base58 public key`)
}

func TestLaggingSubscriberIsClosedWithoutBlockingPublish(t *testing.T) {
	h := start(t, geyserserver.Config{PingInterval: -1, RingSize: 16})
	s := h.subscribe(&geyserpb.SubscribeRequest{
		Commitment: commitment(geyserpb.CommitmentLevel_PROCESSED),
		Accounts:   map[string]*geyserpb.SubscribeRequestFilterAccounts{"a": {}},
	})
	data := make([]byte, 4096)
	// The client reads nothing while 20 MB are published: flow control stops the sender and the ring
	// overruns. Publish must return regardless.
	for i := range 5000 {
		h.publish(geysertest.Account(uint64(i/100+1), k1, prog, 1, data, uint64(i)))
	}
	st := s.recvErr()
	require.Equal(t, codes.Internal, st.Code())
	require.Equal(t, "lagged to receive geyser messages", st.Message())
}

func TestBackpressureLosesNothing(t *testing.T) {
	h := start(t, geyserserver.Config{PingInterval: -1, RingSize: 16, Backpressure: true})
	s := h.subscribe(&geyserpb.SubscribeRequest{
		Commitment: commitment(geyserpb.CommitmentLevel_PROCESSED),
		Accounts:   map[string]*geyserpb.SubscribeRequestFilterAccounts{"a": {}},
	})
	const n = 3000
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range n {
			if err := h.srv.Publish(geysertest.Account(uint64(i/100+1), k1, prog, 1, make([]byte, 1024), uint64(i)), nil); err != nil {
				return
			}
		}
	}()
	for i := range n {
		u := s.next()
		require.Equal(t, uint64(i), u.GetAccount().GetAccount().GetWriteVersion())
	}
	<-done
}

func TestXToken(t *testing.T) {
	h := start(t, geyserserver.Config{PingInterval: -1, XToken: "s3cret"})
	for _, md := range [][]string{nil, {"x-token", "wrong"}} {
		ctx := h.ctx
		if md != nil {
			ctx = metadata.AppendToOutgoingContext(ctx, md...)
		}
		_, err := h.client.GetSlot(ctx, &geyserpb.GetSlotRequest{})
		require.Equal(t, codes.Unauthenticated, status.Code(err))
		stream, err := h.client.Subscribe(ctx)
		require.NoError(t, err)
		_, err = stream.Recv()
		require.Equal(t, codes.Unauthenticated, status.Code(err))
	}
	ok := metadata.AppendToOutgoingContext(h.ctx, "x-token", "s3cret")
	_, err := h.client.GetSlot(ok, &geyserpb.GetSlotRequest{})
	require.NoError(t, err)
	h.subscribe(&geyserpb.SubscribeRequest{Slots: map[string]*geyserpb.SubscribeRequestFilterSlots{"s": {}}}, "x-token", "s3cret")
}

func TestUnaryMethods(t *testing.T) {
	h := start(t, geyserserver.Config{PingInterval: -1, Version: "1.2.3"})
	_, err := h.client.GetBlockHeight(h.ctx, &geyserpb.GetBlockHeightRequest{})
	require.Equal(t, codes.Unavailable, status.Code(err), "nothing published yet")
	feed(h, 1, 3)
	h.publish(geysertest.Slot(2, geyserpb.SlotStatus_SLOT_FINALIZED), geysertest.BlockMeta(4, "hash-4", 104),
		geysertest.Slot(4, geyserpb.SlotStatus_SLOT_PROCESSED))

	slot := func(c geyserpb.CommitmentLevel) uint64 {
		r, err := h.client.GetSlot(h.ctx, &geyserpb.GetSlotRequest{Commitment: &c})
		require.NoError(t, err)
		return r.GetSlot()
	}
	require.Equal(t, uint64(4), slot(geyserpb.CommitmentLevel_PROCESSED))
	require.Equal(t, uint64(3), slot(geyserpb.CommitmentLevel_CONFIRMED))
	require.Equal(t, uint64(2), slot(geyserpb.CommitmentLevel_FINALIZED))

	bh, err := h.client.GetBlockHeight(h.ctx, &geyserpb.GetBlockHeightRequest{Commitment: commitment(geyserpb.CommitmentLevel_CONFIRMED)})
	require.NoError(t, err)
	require.Equal(t, uint64(103), bh.GetBlockHeight())
	lb, err := h.client.GetLatestBlockhash(h.ctx, &geyserpb.GetLatestBlockhashRequest{})
	require.NoError(t, err)
	require.Equal(t, &geyserpb.GetLatestBlockhashResponse{Slot: 4, Blockhash: "hash-4", LastValidBlockHeight: 404}, stripState(lb))
	lb, err = h.client.GetLatestBlockhash(h.ctx, &geyserpb.GetLatestBlockhashRequest{Commitment: commitment(geyserpb.CommitmentLevel_FINALIZED)})
	require.NoError(t, err)
	require.Equal(t, "hash-2ns", lb.GetBlockhash())

	valid := func(hash string) bool {
		r, err := h.client.IsBlockhashValid(h.ctx, &geyserpb.IsBlockhashValidRequest{Blockhash: hash})
		require.NoError(t, err)
		require.Equal(t, uint64(4), r.GetSlot())
		return r.GetValid()
	}
	require.True(t, valid("hash-1ns"))
	require.False(t, valid("unknown"))
	h.publish(geysertest.BlockMeta(5, "hash-5", 500))
	require.False(t, valid("hash-1ns"), "more than 300 blocks old")

	v, err := h.client.GetVersion(h.ctx, &geyserpb.GetVersionRequest{})
	require.NoError(t, err)
	var parsed struct {
		Version map[string]string `json:"version"`
		Extra   map[string]string `json:"extra"`
	}
	require.NoError(t, json.Unmarshal([]byte(v.GetVersion()), &parsed))
	require.Equal(t, "1.2.3", parsed.Version["version"])
	require.Equal(t, geyserserver.ProtoVersion, parsed.Version["proto"])
	require.Contains(t, parsed.Extra, "hostname")

	pong, err := h.client.Ping(h.ctx, &geyserpb.PingRequest{Count: 7})
	require.NoError(t, err)
	require.Equal(t, int32(7), pong.GetCount())
}

func stripState(r *geyserpb.GetLatestBlockhashResponse) *geyserpb.GetLatestBlockhashResponse {
	return &geyserpb.GetLatestBlockhashResponse{Slot: r.Slot, Blockhash: r.Blockhash, LastValidBlockHeight: r.LastValidBlockHeight}
}

func TestHealthService(t *testing.T) {
	h := start(t, geyserserver.Config{PingInterval: -1})
	cc, err := grpc.NewClient(h.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer cc.Close()
	resp, err := healthpb.NewHealthClient(cc).Check(h.ctx, &healthpb.HealthCheckRequest{Service: "geyser.Geyser"})
	require.NoError(t, err)
	require.Equal(t, healthpb.HealthCheckResponse_SERVING, resp.GetStatus())
}

func TestUnaryDisabled(t *testing.T) {
	h := start(t, geyserserver.Config{PingInterval: -1, UnaryDisabled: true})
	_, err := h.client.Ping(h.ctx, &geyserpb.PingRequest{})
	require.Equal(t, codes.Unimplemented, status.Code(err))
	require.Equal(t, "method disabled", status.Convert(err).Message())
}

func TestServerSendsPings(t *testing.T) {
	h := start(t, geyserserver.Config{PingInterval: 10 * time.Millisecond})
	s := h.subscribe(&geyserpb.SubscribeRequest{})
	for range 3 {
		u, err := s.stream.Recv()
		require.NoError(t, err)
		require.NotNil(t, u.GetPing())
		require.Empty(t, u.Filters)
	}
}

func TestHalfCloseKeepsStreaming(t *testing.T) {
	h := start(t, geyserserver.Config{PingInterval: -1})
	s := h.subscribe(&geyserpb.SubscribeRequest{Slots: map[string]*geyserpb.SubscribeRequestFilterSlots{"s": {}}})
	require.NoError(t, s.stream.CloseSend())
	h.publish(geysertest.Slot(8, geyserpb.SlotStatus_SLOT_PROCESSED))
	require.Equal(t, uint64(8), s.next().GetSlot().GetSlot())
}

func TestMaxSubscribers(t *testing.T) {
	h := start(t, geyserserver.Config{PingInterval: -1, MaxSubscribers: 1})
	h.subscribe(&geyserpb.SubscribeRequest{})
	s := h.subscribe(nil)
	st := s.recvErr()
	require.Equal(t, codes.ResourceExhausted, st.Code())
	require.Equal(t, 1, h.srv.Stats().Subscribers)
}

func TestDataSliceOnTheWire(t *testing.T) {
	h := start(t, geyserserver.Config{PingInterval: -1})
	s := h.subscribe(&geyserpb.SubscribeRequest{
		Commitment:        commitment(geyserpb.CommitmentLevel_PROCESSED),
		Accounts:          map[string]*geyserpb.SubscribeRequestFilterAccounts{"a": {}},
		AccountsDataSlice: []*geyserpb.SubscribeRequestAccountsDataSlice{{Offset: 2, Length: 3}},
	})
	h.publish(geysertest.Account(1, k1, prog, 1, []byte("abcdefgh"), 1))
	u := s.next()
	require.Equal(t, []byte("cde"), u.GetAccount().GetAccount().GetData())
	require.Equal(t, []string{"a"}, u.Filters)
}

func TestShutdownEndsStreamsAndPublish(t *testing.T) {
	h := start(t, geyserserver.Config{PingInterval: -1})
	s := h.subscribe(&geyserpb.SubscribeRequest{Slots: map[string]*geyserpb.SubscribeRequestFilterSlots{"s": {}}})
	require.NoError(t, h.srv.Shutdown(h.ctx))
	require.NoError(t, h.srv.Shutdown(h.ctx), "idempotent")
	require.Equal(t, codes.Unavailable, s.recvErr().Code())
	require.ErrorIs(t, h.srv.Publish(geysertest.Slot(1, 0), nil), geyserserver.ErrShutdown)
}
