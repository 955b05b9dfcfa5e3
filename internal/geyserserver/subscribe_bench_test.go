package geyserserver_test

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"

	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
	"github.com/hyperstack-go/hyperstack/internal/geyserserver"
	"github.com/hyperstack-go/hyperstack/internal/geyserserver/filter"
	"github.com/hyperstack-go/hyperstack/internal/source/geysertest"
)

// rawRecv is a client codec that keeps received frames as bytes (as a recorder does).
type rawRecv struct{}

type rawMsg struct{ b []byte }

func (rawRecv) Name() string { return "proto" }
func (rawRecv) Marshal(v any) (mem.BufferSlice, error) {
	b, err := proto.Marshal(v.(proto.Message))
	return mem.BufferSlice{mem.SliceBuffer(b)}, err
}
func (rawRecv) Unmarshal(data mem.BufferSlice, v any) error {
	v.(*rawMsg).b = data.Materialize()
	return nil
}

// accountFrames returns n distinct encoded ~size-byte account updates of owner Key(1000), 100 per slot.
func accountFrames(n, size int) ([]*geyserpb.SubscribeUpdate, [][]byte) {
	us := make([]*geyserpb.SubscribeUpdate, n)
	raws := make([][]byte, n)
	for i := range us {
		data := make([]byte, size)
		for j := range data {
			data[j] = byte(i + j)
		}
		us[i] = geysertest.Account(uint64(1+i/100), geysertest.Key(i%5000), geysertest.Key(1000), 1, data, uint64(i))
		raws[i], _ = proto.Marshal(us[i])
	}
	return us, raws
}

func startBenchServer(b *testing.B) (*geyserserver.Server, string, <-chan struct{}) {
	b.Helper()
	applied := make(chan struct{}, 16)
	srv := geyserserver.New(geyserserver.Config{Backpressure: true, PingInterval: -1, Hooks: geyserserver.Hooks{
		OnApplied: func(context.Context, *filter.Filter) { applied <- struct{}{} },
	}})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = srv.Serve(ctx, lis); close(done) }()
	b.Cleanup(func() { cancel(); <-done })
	return srv, lis.Addr().String(), applied
}

// BenchmarkSubscribeLoopback measures Publish → Subscribe → one raw-frame client over loopback
// with ~1 KB account updates (pre-encoded, as the simulator and replay publish them).
func BenchmarkSubscribeLoopback(b *testing.B) {
	for _, size := range []int{200, 1000, 4000} {
		b.Run(fmt.Sprintf("data=%dB", size), func(b *testing.B) {
			us, raws := accountFrames(1024, size)
			srv, addr, applied := startBenchServer(b)
			cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
			if err != nil {
				b.Fatal(err)
			}
			defer cc.Close()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			stream, err := geyserpb.NewGeyserClient(cc).Subscribe(ctx, grpc.ForceCodecV2(rawRecv{}))
			if err != nil {
				b.Fatal(err)
			}
			owner := geysertest.Key(1000).String()
			commitment := geyserpb.CommitmentLevel_PROCESSED
			if err := stream.SendMsg(&geyserpb.SubscribeRequest{
				Commitment: &commitment,
				Accounts:   map[string]*geyserpb.SubscribeRequestFilterAccounts{"bench": {Owner: []string{owner}}},
			}); err != nil {
				b.Fatal(err)
			}
			<-applied
			b.ReportAllocs()
			b.SetBytes(int64(len(raws[0])))
			b.ResetTimer()
			start := time.Now()
			go func() {
				for i := 0; i < b.N; i++ {
					if err := srv.Publish(us[i%len(us)], raws[i%len(raws)]); err != nil {
						panic(err)
					}
				}
			}()
			var m rawMsg
			for i := 0; i < b.N; i++ {
				if err := stream.RecvMsg(&m); err != nil {
					b.Fatalf("recv %d: %v", i, err)
				}
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "updates/s")
		})
	}
}
