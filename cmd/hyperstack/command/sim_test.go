package command

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/hyperstack-go/hyperstack/internal/archive"
	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
	"github.com/hyperstack-go/hyperstack/internal/sim"
)

func TestSimCommandWritesByteIdenticalArchives(t *testing.T) {
	dir := t.TempDir()
	var sums [][32]byte
	for _, name := range []string{"a.db", "b.db"} {
		path := filepath.Join(dir, name)
		code, out, errOut := replayCmd(t, "sim", "--seed", "5", "--slots", "30", "--txs-per-slot", "3", "--no-sync", "--out", path)
		require.Equal(t, ExitOK, code, errOut)
		require.Contains(t, out, "wrote "+path+": 30 slots")
		sums = append(sums, sha(t, path))
	}
	require.Equal(t, sums[0], sums[1], "the same flags gave different archives")

	a, err := archive.Open(filepath.Join(dir, "a.db"), &archive.Options{ReadOnly: true})
	require.NoError(t, err)
	defer a.Close()
	require.Equal(t, sim.SourceKind, a.Meta().Source.Kind)
	require.Contains(t, a.Meta().Source.Endpoint, "seed=5")

	// An existing file is never replaced.
	code, _, errOut := replayCmd(t, "sim", "--slots", "1", "--out", filepath.Join(dir, "a.db"))
	require.Equal(t, ExitFailure, code)
	require.Contains(t, errOut, "exists")
}

func TestSimCommandOreFromStack(t *testing.T) {
	stackPath := eventsSharedFixture(t, "hyperstack/OreStream.stack.json")
	path := filepath.Join(t.TempDir(), "ore.db")
	code, out, errOut := replayCmd(t, "sim", "--scenario", "ore", "--stack", stackPath, "--round-slots", "10",
		"--slots", "40", "--no-sync", "--out", path)
	require.Equal(t, ExitOK, code, errOut)
	require.Contains(t, out, "40 slots")
}

func TestSimCommandFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"sim", "--scenario", "nope"}, `--scenario "nope"`},
		{[]string{"sim", "--rate", "-1"}, "--rate"},
		{[]string{"sim", "--scenario", "ore", "--out", "x.db"}, "idl"},
		{[]string{"sim", "extra"}, "unexpected argument"},
	} {
		code, _, errOut := replayCmd(t, tc.args...)
		require.Equal(t, ExitUsage, code, "%v: %s", tc.args, errOut)
		require.Contains(t, errOut, tc.want, "%v", tc.args)
	}
}

var servingRE = regexp.MustCompile(`serving Yellowstone gRPC on (\S+)`)

func TestSimCommandServes(t *testing.T) {
	f, out, errOut := recordFactory(false)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	exit := make(chan int, 1)
	go func() {
		exit <- Run(ctx, f, []string{"sim", "--listen", "127.0.0.1:0", "--rate", "0", "--slots", "50", "--log-level", "error"})
	}()
	var addr string
	for addr == "" {
		if m := servingRE.FindStringSubmatch(out.String()); m != nil {
			addr = m[1]
			break
		}
		select {
		case code := <-exit:
			t.Fatalf("sim exited with %d: %s", code, errOut.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer conn.Close()
	client := geyserpb.NewGeyserClient(conn)

	// The whole run is in the replay buffer: replaying it from its first slot yields slot statuses.
	stream, err := client.Subscribe(ctx)
	require.NoError(t, err)
	from := uint64(sim.DefaultStartSlot + 1)
	var slot *geyserpb.GetSlotResponse
	for {
		// Wait until the simulator has published past the slot to replay from.
		slot, err = client.GetSlot(ctx, &geyserpb.GetSlotRequest{})
		require.NoError(t, err)
		if slot.GetSlot() > from {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	require.NoError(t, stream.Send(&geyserpb.SubscribeRequest{
		Slots:    map[string]*geyserpb.SubscribeRequestFilterSlots{"slots": {}},
		FromSlot: &from,
	}))
	u, err := stream.Recv()
	require.NoError(t, err)
	require.Equal(t, from, u.GetSlot().GetSlot())
	require.Equal(t, []string{"slots"}, u.GetFilters())

	cancel()
	require.Equal(t, ExitOK, <-exit, errOut.String())
	require.True(t, strings.Contains(out.String(), "scenario spl-token"), out.String())
}
