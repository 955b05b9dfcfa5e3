package geyserserver

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"

	"github.com/charmbracelet/log"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	_ "google.golang.org/grpc/encoding/gzip" // registers gzip: clients may compress both ways
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
)

// ProtoVersion is the upstream proto crate version whose interface the server implements.
const ProtoVersion = "12.6.0"

// Server is a Geyser gRPC service fed by Publish. Create it with New.
type Server struct {
	geyserpb.UnimplementedGeyserServer

	cfg Config
	log *log.Logger

	feedMu sync.Mutex // serialises Publish; guards slots
	rings  [numLevels]*ring
	slots  map[uint64]*slotState

	statsMu        sync.Mutex // guards the fields below
	statusSlot     [numLevels]uint64
	dataSlot       [numLevels]uint64
	latestBlock    [numLevels]*blockInfo
	blockhashes    map[string]blockInfo
	blockhashOrder []string

	published   atomic.Uint64
	subscribers atomic.Int64

	done         chan struct{}
	shutdownOnce sync.Once
	grpcMu       sync.Mutex
	grpcServers  []*grpc.Server // created by Serve; stopped by Shutdown
}

// New returns a server with cfg (zero fields take their defaults).
func New(cfg Config) *Server {
	cfg = cfg.withDefaults()
	s := &Server{
		cfg:         cfg,
		log:         cfg.Logger,
		slots:       make(map[uint64]*slotState),
		blockhashes: make(map[string]blockInfo),
		done:        make(chan struct{}),
	}
	if s.log == nil {
		s.log = log.New(io.Discard)
	}
	for i := range s.rings {
		s.rings[i] = newRing(cfg.RingSize, cfg.Backpressure)
	}
	return s
}

// ServerOptions returns the grpc.ServerOptions a server hosting this service needs: the frame codec,
// the receive limit and a keepalive policy that tolerates clients pinging every 5 s even without
// streams.
func (s *Server) ServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.ForceServerCodecV2(Codec{}),
		grpc.MaxRecvMsgSize(s.cfg.MaxRecvBytes),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{
			MinTime:             s.cfg.KeepaliveMinTime,
			PermitWithoutStream: true,
		}),
	}
}

// Register adds the Geyser service to gs, which must have been built with ServerOptions (at least
// its codec).
func (s *Server) Register(gs *grpc.Server) { geyserpb.RegisterGeyserServer(gs, s) }

// Serve serves the Geyser service (and grpc.health.v1) on lis until ctx is done or Shutdown is called; it then shuts the
// server down and returns nil.
func (s *Server) Serve(ctx context.Context, lis net.Listener) error {
	if s.isShutdown() {
		_ = lis.Close()
		return ErrShutdown
	}
	gs := grpc.NewServer(s.ServerOptions()...)
	s.Register(gs)
	hs := health.NewServer() // grpc.health.v1, as the upstream server offers
	hs.SetServingStatus("geyser.Geyser", healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(gs, hs)
	s.grpcMu.Lock()
	s.grpcServers = append(s.grpcServers, gs)
	s.grpcMu.Unlock()

	errc := make(chan error, 1)
	go func() { errc <- gs.Serve(lis) }()
	select {
	case err := <-errc:
		if s.isShutdown() || errors.Is(err, grpc.ErrServerStopped) {
			return nil
		}
		return err
	case <-ctx.Done():
		_ = s.Shutdown(context.Background())
		<-errc
		return nil
	}
}

// Shutdown ends every Subscribe stream with UNAVAILABLE, releases publishers waiting on
// backpressure, and stops the gRPC servers started by Serve, waiting for them until ctx is done (then
// closing connections forcibly and returning ctx.Err()). It is idempotent.
func (s *Server) Shutdown(ctx context.Context) error {
	s.shutdownOnce.Do(func() {
		close(s.done)
		for _, r := range s.rings {
			r.close()
		}
	})
	s.grpcMu.Lock()
	servers := s.grpcServers
	s.grpcServers = nil
	s.grpcMu.Unlock()
	if len(servers) == 0 {
		return nil
	}
	stopped := make(chan struct{})
	go func() {
		for _, gs := range servers {
			gs.GracefulStop()
		}
		close(stopped)
	}()
	select {
	case <-stopped:
		return nil
	case <-ctx.Done():
		for _, gs := range servers {
			gs.Stop()
		}
		<-stopped
		return ctx.Err()
	}
}

func (s *Server) isShutdown() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// Stats is a snapshot of the server's counters.
type Stats struct {
	Published   uint64 // updates accepted by Publish
	Subscribers int    // open Subscribe streams
}

// Stats returns the current counters.
func (s *Server) Stats() Stats {
	return Stats{Published: s.published.Load(), Subscribers: int(s.subscribers.Load())}
}

func (s *Server) addSubscriber() bool {
	n := s.subscribers.Add(1)
	if s.cfg.MaxSubscribers > 0 && n > int64(s.cfg.MaxSubscribers) {
		s.subscribers.Add(-1)
		return false
	}
	return true
}

func (s *Server) removeSubscriber() { s.subscribers.Add(-1) }

// authorize checks the x-token metadata.
func (s *Server) authorize(ctx context.Context) error {
	if s.cfg.XToken == "" {
		return nil
	}
	md, _ := metadata.FromIncomingContext(ctx)
	for _, v := range md.Get("x-token") {
		if subtle.ConstantTimeCompare([]byte(v), []byte(s.cfg.XToken)) == 1 {
			return nil
		}
	}
	return status.Error(codes.Unauthenticated, "invalid x-token")
}

func (s *Server) unary(ctx context.Context) error {
	if s.cfg.UnaryDisabled {
		return status.Error(codes.Unimplemented, "method disabled")
	}
	return s.authorize(ctx)
}

// SubscribeReplayInfo reports the oldest slot a from_slot request can replay at processed
// commitment; absent when replay is disabled or nothing was published yet.
func (s *Server) SubscribeReplayInfo(ctx context.Context, _ *geyserpb.SubscribeReplayInfoRequest) (*geyserpb.SubscribeReplayInfoResponse, error) {
	if err := s.unary(ctx); err != nil {
		return nil, err
	}
	resp := &geyserpb.SubscribeReplayInfoResponse{}
	if s.cfg.ReplaySlots > 0 {
		if first, ok := s.rings[levelProcessed].info(uint64(s.cfg.ReplaySlots)); ok {
			resp.FirstAvailable = &first
		}
	}
	return resp, nil
}

// Ping echoes count.
func (s *Server) Ping(ctx context.Context, req *geyserpb.PingRequest) (*geyserpb.PongResponse, error) {
	if err := s.unary(ctx); err != nil {
		return nil, err
	}
	return &geyserpb.PongResponse{Count: req.GetCount()}, nil
}

// GetSlot returns the newest slot at the requested commitment.
func (s *Server) GetSlot(ctx context.Context, req *geyserpb.GetSlotRequest) (*geyserpb.GetSlotResponse, error) {
	if err := s.unary(ctx); err != nil {
		return nil, err
	}
	return &geyserpb.GetSlotResponse{Slot: s.slotAt(levelOf(req.GetCommitment()))}, nil
}

// GetBlockHeight returns the block height of the newest block meta at the requested commitment.
func (s *Server) GetBlockHeight(ctx context.Context, req *geyserpb.GetBlockHeightRequest) (*geyserpb.GetBlockHeightResponse, error) {
	if err := s.unary(ctx); err != nil {
		return nil, err
	}
	bi := s.latestBlockAt(levelOf(req.GetCommitment()))
	if bi == nil {
		return nil, status.Error(codes.Unavailable, "no block meta published yet")
	}
	return &geyserpb.GetBlockHeightResponse{BlockHeight: bi.height}, nil
}

// GetLatestBlockhash returns the newest block meta's blockhash at the requested commitment.
func (s *Server) GetLatestBlockhash(ctx context.Context, req *geyserpb.GetLatestBlockhashRequest) (*geyserpb.GetLatestBlockhashResponse, error) {
	if err := s.unary(ctx); err != nil {
		return nil, err
	}
	bi := s.latestBlockAt(levelOf(req.GetCommitment()))
	if bi == nil {
		return nil, status.Error(codes.Unavailable, "no block meta published yet")
	}
	return &geyserpb.GetLatestBlockhashResponse{
		Slot:                 bi.slot,
		Blockhash:            bi.blockhash,
		LastValidBlockHeight: bi.height + MaxRecentBlockhashes,
	}, nil
}

// IsBlockhashValid reports whether blockhash belongs to a recent block (within MaxRecentBlockhashes
// block heights of the newest block at the requested commitment).
func (s *Server) IsBlockhashValid(ctx context.Context, req *geyserpb.IsBlockhashValidRequest) (*geyserpb.IsBlockhashValidResponse, error) {
	if err := s.unary(ctx); err != nil {
		return nil, err
	}
	level := levelOf(req.GetCommitment())
	cur := s.latestBlockAt(level)
	slot := s.slotAt(level)
	s.statsMu.Lock()
	bi, known := s.blockhashes[req.GetBlockhash()]
	s.statsMu.Unlock()
	valid := known && cur != nil && bi.slot <= cur.slot && cur.height <= bi.height+MaxRecentBlockhashes
	return &geyserpb.IsBlockhashValidResponse{Slot: slot, Valid: valid}, nil
}

func (s *Server) latestBlockAt(level int) *blockInfo {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	if bi := s.latestBlock[level]; bi != nil {
		c := *bi
		return &c
	}
	return nil
}

// GetVersion returns the version JSON in the upstream shape.
func (s *Server) GetVersion(ctx context.Context, _ *geyserpb.GetVersionRequest) (*geyserpb.GetVersionResponse, error) {
	if err := s.unary(ctx); err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	v := map[string]any{
		"version": map[string]string{
			"package": "hyperstack-geyser",
			"version": s.cfg.Version,
			"proto":   ProtoVersion,
			"solana":  "",
			"git":     "",
			"rustc":   "",
			"buildts": "",
		},
		"extra": map[string]string{"hostname": host},
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &geyserpb.GetVersionResponse{Version: string(b)}, nil
}
