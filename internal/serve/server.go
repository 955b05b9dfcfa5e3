package serve

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/charmbracelet/log"
	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/hyperstack-go/hyperstack/internal/event"
	"github.com/hyperstack-go/hyperstack/internal/projection"
)

// Server is the WebSocket server. Create it with New, feed it with Apply, serve Handler (or run
// ListenAndServe), and stop it with Shutdown.
type Server struct {
	cfg      Config
	log      *log.Logger
	store    *projection.Store
	broker   Broker
	ownsBrk  bool
	hub      *hub
	flushers []*flusher // send live frames; connections are spread over them round robin
	nextFl   atomic.Uint32
	registry *prometheus.Registry
	metrics  *metrics
	upgrader websocket.Upgrader
	started  time.Time

	// applyMu makes Apply's store update and publish one step, so batches reach the broker in
	// sequence order.
	applyMu   sync.Mutex
	cancelSub func()
	// applyTimes maps a batch sequence number to when Apply produced it, for the dispatch-lag
	// histogram; written by Apply, read and deleted by the hub goroutine.
	applyTimes sync.Map

	// mu guards clients, reserved, perIP, closed and servers. reserved counts handshakes in
	// progress, which hold a slot against the limits.
	mu       sync.Mutex
	clients  map[*conn]struct{}
	reserved int
	perIP    map[string]int
	closed   bool
	servers  []*http.Server

	// conns counts live reader goroutines, writers live writer goroutines.
	conns   sync.WaitGroup
	writers sync.WaitGroup

	source atomic.Pointer[SourceStatus]

	// afterAck, a test hook, runs on a connection's reader after a subscription's acknowledgement is
	// queued and before its snapshot is read.
	afterAck func()

	shutdownOnce sync.Once
	shutdownDone chan struct{}
	shutdownErr  error
}

// New creates a Server. A nil cfg means defaults.
func New(cfg *Config) (*Server, error) {
	c := Config{}
	if cfg != nil {
		c = *cfg
	}
	if err := c.normalize(); err != nil {
		return nil, err
	}
	logger := c.Logger
	if logger == nil {
		logger = log.New(discard{})
		logger.SetLevel(log.FatalLevel + 1)
	} else {
		logger = logger.WithPrefix("serve")
	}
	storeCfg := c.Store
	if storeCfg.Logger == nil && c.Logger != nil {
		storeCfg.Logger = c.Logger.WithPrefix("projection")
	}
	store, err := projection.New(&storeCfg)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadConfig, err)
	}
	s := &Server{
		cfg:          c,
		log:          logger,
		store:        store,
		broker:       c.Broker,
		hub:          newHub(),
		registry:     prometheus.NewRegistry(),
		started:      time.Now(),
		clients:      make(map[*conn]struct{}),
		perIP:        make(map[string]int),
		shutdownDone: make(chan struct{}),
	}
	s.metrics = newMetrics(s.registry)
	for range runtime.GOMAXPROCS(0) {
		s.flushers = append(s.flushers, newFlusher(s))
	}
	if s.broker == nil {
		s.broker = NewMemoryBroker()
		s.ownsBrk = true
	}
	s.upgrader = websocket.Upgrader{
		ReadBufferSize:  c.ReadBufferSize,
		WriteBufferSize: c.WriteBufferSize,
		WriteBufferPool: &sync.Pool{},
		// The original server checks no origin; browsers on any site may connect.
		CheckOrigin: func(*http.Request) bool { return true },
		Error: func(w http.ResponseWriter, r *http.Request, status int, reason error) {
			http.Error(w, reason.Error(), status)
		},
	}
	cancel, err := s.broker.Subscribe(s.dispatch)
	if err != nil {
		s.closeFlushers()
		return nil, fmt.Errorf("subscribe to broker: %w", err)
	}
	s.cancelSub = cancel
	return s, nil
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// Store returns the server's entity store (for status pages and tests; frames must go through
// Apply).
func (s *Server) Store() *projection.Store { return s.store }

// Registry returns the Prometheus registry served at /metrics; the pipeline may register its own
// collectors (VM errors, source counters) in it.
func (s *Server) Registry() *prometheus.Registry { return s.registry }

// Apply projects mutations and publishes the resulting frames to subscribers. Malformed mutations
// are skipped and reported in the returned error (see projection.MutationError); the rest are
// applied.
func (s *Server) Apply(ctx context.Context, muts []event.Mutation) error {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	if s.isClosed() {
		return ErrServerClosed
	}
	batch, applyErr := s.store.Apply(muts)
	s.metrics.mutations.Add(float64(len(muts)))
	if applyErr != nil {
		var n int
		for _, e := range unwrapJoin(applyErr) {
			var me *projection.MutationError
			if errors.As(e, &me) {
				n++
			}
		}
		s.metrics.mutationErrors.Add(float64(n))
	}
	s.metrics.framesPublished.Add(float64(len(batch.Frames)))
	s.metrics.batchSeq.Set(float64(batch.Seq))
	s.applyTimes.Store(batch.Seq, time.Now())
	if err := s.broker.Publish(ctx, batch); err != nil {
		s.applyTimes.Delete(batch.Seq)
		return errors.Join(applyErr, fmt.Errorf("publish batch %d: %w", batch.Seq, err))
	}
	return applyErr
}

func unwrapJoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func (s *Server) dispatch(b *projection.Batch) {
	s.hub.dispatch(b)
	if t, ok := s.applyTimes.LoadAndDelete(b.Seq); ok {
		s.metrics.dispatchLag.Observe(time.Since(t.(time.Time)).Seconds())
	}
}

func (s *Server) closeFlushers() {
	for _, f := range s.flushers {
		f.close()
	}
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

func (s *Server) addSub(sub *subscription) {
	s.hub.add(sub)
	s.metrics.subscriptions.Inc()
}

func (s *Server) removeSub(sub *subscription) {
	s.hub.remove(sub)
	sub.stop()
	s.store.Close(sub.target)
	s.metrics.subscriptions.Dec()
}

// Handler returns the WebSocket handler. Like the original server it accepts an upgrade on any
// path.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveWS) }

// clientIP is the address limits are counted by.
func (s *Server) clientIP(r *http.Request) string {
	if s.cfg.TrustForwardedFor {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			first, _, _ := strings.Cut(xff, ",")
			if ip := strings.TrimSpace(first); ip != "" {
				return ip
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (s *Server) reject(w http.ResponseWriter, code, msg string) {
	s.metrics.connectionsReject.WithLabelValues(code).Inc()
	s.log.Debug("handshake rejected", "code", code, "reason", msg)
	retryAfter := 0
	if code == "connection-limit-exceeded" {
		retryAfter = 5
	}
	writeHandshakeError(w, code, msg, retryAfter)
}

func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	if !websocket.IsWebSocketUpgrade(r) {
		http.Error(w, "this endpoint speaks WebSocket only", http.StatusUpgradeRequired)
		return
	}
	var claims *Claims
	if a := s.cfg.Auth; a != nil {
		var err error
		if claims, err = a.Verify(a.tokenFromRequest(r)); err != nil {
			var ae *AuthError
			if errors.As(err, &ae) {
				s.reject(w, ae.Code, ae.Err.Error())
			} else {
				s.reject(w, "internal-error", err.Error())
			}
			return
		}
	}
	ip := s.clientIP(r)
	// Reserve the slot before upgrading so that concurrent handshakes cannot exceed the limits.
	s.mu.Lock()
	switch {
	case s.closed:
		s.mu.Unlock()
		s.reject(w, "server-shutting-down", "server is shutting down")
		return
	case len(s.clients)+s.reserved >= s.cfg.MaxClients:
		s.mu.Unlock()
		s.reject(w, "connection-limit-exceeded", fmt.Sprintf("server is at its limit of %d clients", s.cfg.MaxClients))
		return
	case s.cfg.MaxConnectionsPerIP > 0 && s.perIP[ip] >= s.cfg.MaxConnectionsPerIP:
		s.mu.Unlock()
		s.reject(w, "connection-limit-exceeded", fmt.Sprintf("at most %d connections per IP address", s.cfg.MaxConnectionsPerIP))
		return
	}
	s.perIP[ip]++
	s.reserved++
	s.mu.Unlock()

	hw := &hijackWriter{ResponseWriter: w}
	ws, err := s.upgrader.Upgrade(hw, r, nil)
	if err != nil {
		s.log.Debug("upgrade failed", "ip", ip, "err", err)
		s.mu.Lock()
		s.reserved--
		s.releaseIPLocked(ip)
		s.mu.Unlock()
		return
	}
	c := &conn{srv: s, ws: ws, bc: hw.conn, ip: ip, subs: make(map[string]*subscription)}
	c.fl = s.flushers[s.nextFl.Add(1)%uint32(len(s.flushers))]
	ws.SetReadLimit(s.cfg.MaxMessageBytes)
	if tc, ok := c.bc.Conn.(*net.TCPConn); ok && s.cfg.SendBufferBytes > 0 {
		tc.SetWriteBuffer(s.cfg.SendBufferBytes)
	}
	s.mu.Lock()
	s.reserved--
	if s.closed {
		// Shutdown started during the upgrade.
		s.releaseIPLocked(ip)
		s.mu.Unlock()
		ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "server shutting down"), time.Now().Add(time.Second))
		ws.Close()
		return
	}
	s.clients[c] = struct{}{}
	s.conns.Add(1)
	s.mu.Unlock()
	s.metrics.connectionsTotal.Inc()
	s.metrics.connectionsActive.Inc()
	if claims != nil {
		c.armExpiry(claims.Expiry())
	}
	s.log.Debug("client connected", "ip", ip)
	// Read on a fresh goroutine so the handler's (possibly grown) stack is released.
	go c.readLoop()
}

func (s *Server) releaseIPLocked(ip string) {
	if n := s.perIP[ip] - 1; n > 0 {
		s.perIP[ip] = n
	} else {
		delete(s.perIP, ip)
	}
}

// dropConn forgets a connection after its reader ended.
func (s *Server) dropConn(c *conn) {
	s.mu.Lock()
	if _, ok := s.clients[c]; ok {
		delete(s.clients, c)
		s.releaseIPLocked(c.ip)
		s.metrics.connectionsActive.Dec()
	}
	s.mu.Unlock()
	s.log.Debug("client disconnected", "ip", c.ip)
}

// Clients returns the number of connected clients.
func (s *Server) Clients() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.clients)
}

// ListenAndServe listens on Config.Addr and Config.HealthAddr and serves until ctx ends, then shuts
// down within Config.ShutdownTimeout.
func (s *Server) ListenAndServe(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", s.cfg.Addr, err)
	}
	var hln net.Listener
	if s.cfg.HealthAddr != "-" {
		if hln, err = net.Listen("tcp", s.cfg.HealthAddr); err != nil {
			ln.Close()
			return fmt.Errorf("listen %s: %w", s.cfg.HealthAddr, err)
		}
	}
	return s.Serve(ctx, ln, hln)
}

// Serve serves WebSocket clients on ln and the health handler on healthLn (nil for none) until ctx
// ends, then shuts down within Config.ShutdownTimeout. It returns nil after a clean shutdown.
func (s *Server) Serve(ctx context.Context, ln, healthLn net.Listener) error {
	ws := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: nil}
	servers := []*http.Server{ws}
	lns := []net.Listener{ln}
	if healthLn != nil {
		servers = append(servers, &http.Server{Handler: s.HealthHandler(), ReadHeaderTimeout: 10 * time.Second})
		lns = append(lns, healthLn)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		for _, l := range lns {
			l.Close()
		}
		return ErrServerClosed
	}
	s.servers = append(s.servers, servers...)
	s.mu.Unlock()

	errc := make(chan error, len(servers))
	for i, srv := range servers {
		go func() { errc <- srv.Serve(lns[i]) }()
	}
	s.log.Info("serving", "ws", "ws://"+ln.Addr().String(), "health", addrOf(healthLn))
	var serveErr error
	select {
	case <-ctx.Done():
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			serveErr = err
		}
	case <-s.shutdownDone:
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := s.Shutdown(sctx); err != nil && serveErr == nil {
		serveErr = err
	}
	return serveErr
}

func addrOf(ln net.Listener) string {
	if ln == nil {
		return "off"
	}
	return "http://" + ln.Addr().String()
}

// Shutdown stops accepting clients, closes every client with 1001 "going away" after what is
// already queued for it, and waits for them to go, until ctx ends (then the rest are dropped and
// ctx.Err() is returned). It is idempotent: later calls wait for the first and return its result.
func (s *Server) Shutdown(ctx context.Context) error {
	s.shutdownOnce.Do(func() {
		defer close(s.shutdownDone)
		s.mu.Lock()
		s.closed = true
		servers := s.servers
		clients := make([]*conn, 0, len(s.clients))
		for c := range s.clients {
			clients = append(clients, c)
		}
		s.mu.Unlock()

		var errs []error
		for _, srv := range servers {
			if err := srv.Shutdown(ctx); err != nil {
				errs = append(errs, err)
			}
		}
		for _, c := range clients {
			c.closeWith(websocket.CloseGoingAway, "server shutting down", false)
		}
		done := make(chan struct{})
		go func() {
			s.conns.Wait()
			s.writers.Wait()
			close(done)
		}()
		select {
		case <-done:
		case <-ctx.Done():
			s.mu.Lock()
			for c := range s.clients {
				c.kill()
			}
			s.mu.Unlock()
			errs = append(errs, ctx.Err())
		}
		s.applyMu.Lock()
		s.cancelSub()
		if s.ownsBrk {
			s.broker.Close()
		}
		s.applyMu.Unlock()
		s.closeFlushers()
		s.shutdownErr = errors.Join(errs...)
		s.log.Info("server stopped")
	})
	select {
	case <-s.shutdownDone:
		return s.shutdownErr
	case <-ctx.Done():
		return ctx.Err()
	}
}
