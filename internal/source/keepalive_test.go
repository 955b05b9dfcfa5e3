package source_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hyperstack-go/hyperstack/internal/source"
	"github.com/hyperstack-go/hyperstack/internal/source/geysertest"
)

// grpc raises a client keepalive interval below 10 s to 10 s, so these tests take that long at least;
// they run in parallel.
const keepaliveTime = 10 * time.Second

// The limit only turns a hang into a failure.
const waitLimit, poll = 2 * time.Minute, 50 * time.Millisecond

func runKeepaliveClient(t *testing.T, ss *geysertest.StreamServer, ka source.Keepalive) {
	t.Helper()
	y, err := source.New(source.Config{Endpoint: ss.Endpoint, Commitment: "processed",
		Filters: source.Filters{Slots: true}, Keepalive: ka, StallTimeout: -1,
		Backoff: source.Backoff{Initial: time.Millisecond, Max: 10 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- y.Run(ctx, &countHandler{want: -1}) }()
	t.Cleanup(func() {
		cancel()
		<-stopped
	})
}

// An idle subscription is kept alive: the client pings at Keepalive.Time and, while the server
// answers, keeps the connection and its one stream.
func TestKeepalivePingsIdleSubscription(t *testing.T) {
	t.Parallel()
	ss := geysertest.StartStream(t, nil)
	ss.Release()
	runKeepaliveClient(t, ss, source.Keepalive{Time: keepaliveTime, Timeout: 5 * time.Second})
	require.Eventually(t, func() bool { return ss.Pings() >= 2 }, waitLimit, poll, "two keepalive pings")
	if n := len(ss.Requests()); n != 1 {
		t.Fatalf("%d subscriptions, want 1: the answered pings must not cost the connection", n)
	}
}

// A server that stops answering pings is taken for dead: after Keepalive.Timeout the client drops
// the connection and subscribes again.
func TestKeepaliveTimeoutReconnects(t *testing.T) {
	t.Parallel()
	ss := geysertest.StartStream(t, nil)
	ss.Release()
	ss.StopPingAcks()
	runKeepaliveClient(t, ss, source.Keepalive{Time: keepaliveTime, Timeout: time.Second})
	require.Eventually(t, func() bool { return len(ss.Requests()) >= 2 }, waitLimit, poll,
		"a second subscription after the unanswered ping")
	if ss.Pings() < 1 {
		t.Fatalf("the client subscribed again without having pinged")
	}
}
