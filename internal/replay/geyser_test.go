package replay

import (
	"context"
	"math"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/hyperstack-go/hyperstack/internal/archive"
	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
	"github.com/hyperstack-go/hyperstack/internal/solana"
)

// accountID identifies one account update.
type accountID struct {
	slot         uint64
	pubkey       solana.Pubkey
	writeVersion uint64
}

// tokenAccountUpdates lists the archive's account updates owned by the token program from update
// fromSeq on, in archive order.
func tokenAccountUpdates(t *testing.T, a *archive.Archive, fromSeq uint64) []accountID {
	t.Helper()
	var out []accountID
	require.NoError(t, a.ScanSeq(context.Background(), fromSeq, math.MaxUint64, func(u archive.Update) error {
		m, err := u.Decode()
		if err != nil {
			return err
		}
		if acc := m.GetAccount(); acc != nil && solana.Pubkey(acc.Account.Owner) == tokenProgram {
			out = append(out, accountID{acc.Slot, solana.Pubkey(acc.Account.Pubkey), acc.Account.WriteVersion})
		}
		return nil
	}))
	return out
}

// subscribeTokenAccounts subscribes with an owner filter (and from_slot when non-zero).
func subscribeTokenAccounts(ctx context.Context, t *testing.T, c geyserpb.GeyserClient, fromSlot uint64) geyserpb.Geyser_SubscribeClient {
	t.Helper()
	st, err := c.Subscribe(ctx)
	require.NoError(t, err)
	req := &geyserpb.SubscribeRequest{
		Accounts: map[string]*geyserpb.SubscribeRequestFilterAccounts{"tokens": {Owner: []string{tokenProgram.String()}}},
	}
	if fromSlot != 0 {
		req.FromSlot = &fromSlot
	}
	require.NoError(t, st.Send(req))
	return st
}

// receiveAccounts reads until n account updates arrived (and then one ping when wantPing); any other
// data update fails the test.
func receiveAccounts(t *testing.T, st geyserpb.Geyser_SubscribeClient, n int, wantPing bool) []accountID {
	t.Helper()
	var got []accountID
	for len(got) < n || wantPing {
		m, err := st.Recv()
		require.NoError(t, err)
		switch {
		case m.GetPing() != nil:
			if len(got) == n {
				wantPing = false
			}
		case m.GetAccount() != nil:
			acc := m.GetAccount()
			require.Equal(t, []string{"tokens"}, m.Filters)
			got = append(got, accountID{acc.Slot, solana.Pubkey(acc.Account.Pubkey), acc.Account.WriteVersion})
		default:
			t.Fatalf("update outside the filter: %v", m)
		}
	}
	return got
}

func TestServeGeyserHonoursFiltersAndFromSlot(t *testing.T) {
	a := demoArchive(t, 15, 40)
	stats, err := a.Stats()
	require.NoError(t, err)
	// The archive also holds system-program accounts, transactions, slots and block metas, which
	// the owner filter must keep out.
	require.Greater(t, stats.ByKind["transaction"], uint64(0))
	all := tokenAccountUpdates(t, a, 1)
	require.NotEmpty(t, all)

	fromSlot := stats.FirstSlot + 20
	var firstSeq uint64
	require.NoError(t, a.Slots(context.Background(), fromSlot, fromSlot, func(si archive.SlotInfo) error {
		firstSeq = si.FirstSeq
		return nil
	}))
	fromHere := tokenAccountUpdates(t, a, firstSeq)
	require.Less(t, len(fromHere), len(all))

	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() {
		served <- ServeGeyser(ctx, a, lis, GeyserOptions{WaitSubscribers: 1, PingInterval: 20 * time.Millisecond})
	}()
	defer func() {
		cancel()
		require.NoError(t, <-served)
	}()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer conn.Close()
	client := geyserpb.NewGeyserClient(conn)

	// The first subscriber asks for a slot ahead of the archive's start: it gets exactly the
	// filtered updates from that slot on, in archive order, then pings.
	sctx, scancel := context.WithCancel(ctx)
	first := subscribeTokenAccounts(sctx, t, client, fromSlot)
	require.Equal(t, fromHere, receiveAccounts(t, first, len(fromHere), true))
	scancel()

	// A later subscriber asking for the first slot is replayed from the server's buffer: the whole
	// archive's filtered updates.
	sctx, scancel = context.WithCancel(ctx)
	second := subscribeTokenAccounts(sctx, t, client, stats.FirstSlot)
	require.Equal(t, all, receiveAccounts(t, second, len(all), false))
	scancel()

	// A slot before anything the server holds is refused, as by the real service.
	sctx, scancel = context.WithCancel(ctx)
	defer scancel()
	third := subscribeTokenAccounts(sctx, t, client, stats.FirstSlot-1)
	_, err = third.Recv()
	require.Equal(t, codes.OutOfRange, status.Code(err), "%v", err)
}

func TestServeGeyserRequiresToken(t *testing.T) {
	a := demoArchive(t, 16, 5)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() { served <- ServeGeyser(ctx, a, lis, GeyserOptions{XToken: "secret"}) }()
	defer func() {
		cancel()
		require.NoError(t, <-served)
	}()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer conn.Close()
	st, err := geyserpb.NewGeyserClient(conn).Subscribe(ctx)
	require.NoError(t, err)
	_, err = st.Recv()
	require.Equal(t, codes.Unauthenticated, status.Code(err), "%v", err)
}

func TestServeGeyserPacedFromStart(t *testing.T) {
	a := demoArchive(t, 17, 10)
	all := tokenAccountUpdates(t, a, 1)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	ready, done := make(chan struct{}), make(chan struct{})
	go func() {
		// The recording's pace, a million times faster: the pacing path runs, the test stays quick.
		served <- ServeGeyser(ctx, a, lis, GeyserOptions{WaitSubscribers: 1, Speed: 1e6,
			Ready: func() { close(ready) }, Done: func() { close(done) }})
	}()
	defer func() {
		cancel()
		require.NoError(t, <-served)
	}()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer conn.Close()
	st := subscribeTokenAccounts(ctx, t, geyserpb.NewGeyserClient(conn), 0)
	require.Equal(t, all, receiveAccounts(t, st, len(all), false))
	<-ready
	<-done
}
