package sim

import (
	"context"
	"errors"
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
)

func benchGenerate(b *testing.B, scenario string, opts Options, marshal bool) {
	s, err := New(scenario, 1, opts)
	if err != nil {
		b.Fatal(err)
	}
	// Warm the world up so the steady state is measured, not the first slots.
	for range 20_000 {
		if _, err := s.Next(); err != nil {
			b.Fatal(err)
		}
	}
	mo := proto.MarshalOptions{Deterministic: true}
	var bytes int64
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		u, err := s.Next()
		if err != nil {
			b.Fatal(err)
		}
		if marshal {
			raw, err := mo.Marshal(u)
			if err != nil {
				b.Fatal(err)
			}
			bytes += int64(len(raw))
		}
	}
	b.StopTimer()
	reportRates(b, cpuTime()-cpu0)
	if marshal {
		b.ReportMetric(float64(bytes)/float64(b.N), "B/update")
	}
}

// BenchmarkGenerateSPLToken measures the generator alone: building SubscribeUpdate messages.
func BenchmarkGenerateSPLToken(b *testing.B) { benchGenerate(b, ScenarioSPLToken, Options{}, false) }

// BenchmarkGenerateSPLTokenMarshal adds deterministic protobuf marshalling (what Run and the server
// pay per update).
func BenchmarkGenerateSPLTokenMarshal(b *testing.B) {
	benchGenerate(b, ScenarioSPLToken, Options{}, true)
}

// BenchmarkGenerateOre measures the ORE scenario's generator (its SlotHashes sysvar alone is 20 KB
// per slot).
func BenchmarkGenerateOre(b *testing.B) {
	benchGenerate(b, ScenarioOre, Options{IDLs: oreIDLs(b)}, false)
}

// rawFrame and rawCodec let the benchmark's subscriber count wire frames without decoding them, as
// a recorder does.
type rawFrame struct{ n int }

type rawCodec struct{}

func (rawCodec) Name() string { return "proto" }

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	b, err := proto.Marshal(v.(proto.Message))
	if err != nil {
		return nil, err
	}
	return mem.BufferSlice{mem.SliceBuffer(b)}, nil
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	v.(*rawFrame).n = data.Len()
	return nil
}

var errEnough = errors.New("enough")

// BenchmarkServeLoopback measures the simulator served over loopback gRPC to one subscriber that
// takes everything: generation, encoding, publishing through the Geyser server and delivery on the
// wire.
func BenchmarkServeLoopback(b *testing.B) {
	applied := make(chan struct{}, 1)
	srv := geyserserver.New(geyserserver.Config{Backpressure: true, PingInterval: -1, Hooks: geyserserver.Hooks{
		OnApplied: func(context.Context, *filter.Filter) { applied <- struct{}{} },
	}})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, lis) }()
	defer func() {
		cancel()
		<-served
	}()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	stream, err := conn.NewStream(ctx, &grpc.StreamDesc{StreamName: "Subscribe", ServerStreams: true, ClientStreams: true},
		"/geyser.Geyser/Subscribe", grpc.ForceCodecV2(rawCodec{}), grpc.MaxCallRecvMsgSize(64<<20))
	if err != nil {
		b.Fatal(err)
	}
	all := &geyserpb.SubscribeRequest{
		Accounts:     map[string]*geyserpb.SubscribeRequestFilterAccounts{"all": {}},
		Transactions: map[string]*geyserpb.SubscribeRequestFilterTransactions{"all": {}},
		Slots:        map[string]*geyserpb.SubscribeRequestFilterSlots{"all": {}},
		BlocksMeta:   map[string]*geyserpb.SubscribeRequestFilterBlocksMeta{"all": {}},
	}
	if err := stream.SendMsg(all); err != nil {
		b.Fatal(err)
	}
	<-applied
	s, err := New(ScenarioSPLToken, 1, Options{})
	if err != nil {
		b.Fatal(err)
	}
	var f rawFrame
	received := make(chan error, 1)
	var bytes int64
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	go func() {
		for i := 0; i < b.N; i++ {
			if err := stream.RecvMsg(&f); err != nil {
				received <- err
				return
			}
			bytes += int64(f.n)
		}
		received <- nil
	}()
	// The same path as `hyperstack sim`: Run generates, encodes and publishes.
	n := 0
	err = s.Run(ctx, RunOptions{}, func(u *geyserpb.SubscribeUpdate, raw []byte) error {
		if err := srv.Publish(u, raw); err != nil {
			return err
		}
		if n++; n == b.N {
			return errEnough
		}
		return nil
	})
	if !errors.Is(err, errEnough) {
		b.Fatal(err)
	}
	if err := <-received; err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	reportRates(b, cpuTime()-cpu0)
	b.ReportMetric(float64(bytes)/float64(b.N), "B/update")
}

// reportRates reports updates/s over the wall time and, when the process CPU time is known,
// cpu-updates/s over it: the rate per CPU-second, which a busy shared machine does not distort.
func reportRates(b *testing.B, cpu time.Duration) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "updates/s")
	if cpu > 0 {
		b.ReportMetric(float64(b.N)/cpu.Seconds(), "cpu-updates/s")
	}
}

// BenchmarkOnCurve measures the curve test that deriving an associated token account runs for each
// candidate bump (solana.IsOnCurve decompresses the point instead).
func BenchmarkOnCurve(b *testing.B) {
	g := newGen(1, 1)
	keys := make([][32]byte, 1024)
	for i := range keys {
		g.fill(keys[i][:])
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		onCurve(&keys[i%len(keys)])
		i++
	}
}
