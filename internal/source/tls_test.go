package source_test

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/log"
	"github.com/stretchr/testify/require"

	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
	"github.com/hyperstack-go/hyperstack/internal/source"
	"github.com/hyperstack-go/hyperstack/internal/source/geysertest"
)

func TestTLSEndpointWithTrustedCertificate(t *testing.T) {
	srvTLS, pool, _ := geysertest.SelfSigned(t)
	ts := geysertest.Start(t, geysertest.Options{TLS: srvTLS, XToken: "secret", PingInterval: -1})
	require.True(t, strings.HasPrefix(ts.Endpoint, "https://"))
	y := newSource(t, ts, func(c *source.Config) {
		c.RootCAs = pool
		c.XToken = "secret"
		c.Commitment = "processed"
	})
	c := newCollector()
	running(t, y, c)
	ctx := testCtx(t)
	require.NoError(t, ts.WaitApplied(ctx, 1))
	ts.Feed(geysertest.Slot(7, geyserpb.SlotStatus_SLOT_PROCESSED))
	c.waitUntil(t, ctx, "the slot update", func() bool { return len(c.data()) == 1 })
	require.Equal(t, uint64(7), c.data()[0].Slot)
	require.Equal(t, "secret", ts.Requests()[0].XToken, "the token travelled inside the TLS session")
}

func TestTLSEndpointWithUntrustedCertificateNeverSubscribes(t *testing.T) {
	srvTLS, _, _ := geysertest.SelfSigned(t)
	ts := geysertest.Start(t, geysertest.Options{TLS: srvTLS, PingInterval: -1})
	var logs syncBuffer
	y := newSource(t, ts, func(c *source.Config) { c.Logger = log.New(&logs) }) // system roots only
	running(t, y, newCollector())
	ctx := testCtx(t)
	for !strings.Contains(logs.String(), "certificate") {
		select {
		case <-ctx.Done():
			t.Fatalf("no certificate error logged; logs:\n%s", logs.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	require.Zero(t, ts.Applied(), "no subscription went through an unverified connection")
}
