package source_test

import (
	"bytes"
	"context"
	"net"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"

	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
	"github.com/hyperstack-go/hyperstack/internal/source"
	"github.com/hyperstack-go/hyperstack/internal/source/geysertest"
)

// countingConn counts the bytes read from the server.
type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func countingDialer(n *atomic.Int64) grpc.DialOption {
	return grpc.WithContextDialer(func(ctx context.Context, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, err
		}
		return countingConn{c, n}, nil
	})
}

func receiveBigAccount(t *testing.T, gz bool, size int) (*source.Update, int64) {
	ts := geysertest.Start(t, geysertest.Options{PingInterval: -1})
	var read atomic.Int64
	y := newSource(t, ts, func(c *source.Config) {
		c.Gzip = gz
		c.Commitment = "processed"
		c.DialOptions = []grpc.DialOption{countingDialer(&read)}
	})
	c := newCollector()
	running(t, y, c)
	ctx := testCtx(t)
	require.NoError(t, ts.WaitApplied(ctx, 1))
	data := bytes.Repeat([]byte("hyperstack "), size/11+1)[:size]
	ts.Feed(geysertest.Account(1, geysertest.Key(1), geysertest.Key(1000), 1, data, 1))
	c.waitUntil(t, ctx, "the account", func() bool { return len(c.data()) == 1 })
	u := c.data()[0]
	m, err := u.Message()
	require.NoError(t, err)
	require.Equal(t, data, m.GetAccount().GetAccount().GetData())
	return u, read.Load()
}

func TestGzipCompressedStream(t *testing.T) {
	u, read := receiveBigAccount(t, true, 1<<20)
	require.Greater(t, len(u.Raw), 1<<20)
	require.Less(t, read, int64(256<<10), "1 MiB of repetitive data arrived compressed")
}

func TestUncompressedStreamForComparison(t *testing.T) {
	_, read := receiveBigAccount(t, false, 1<<20)
	require.Greater(t, read, int64(1<<20))
}

func TestMessageLargerThanGRPCDefaultLimit(t *testing.T) {
	u, _ := receiveBigAccount(t, false, 6<<20)
	require.Greater(t, len(u.Raw), 6<<20)
	require.Equal(t, geyserpb.KindAccount, u.Kind)
}
