package command

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/charmbracelet/log"
	"github.com/spf13/cobra"

	"github.com/hyperstack-go/hyperstack/internal/archive"
	"github.com/hyperstack-go/hyperstack/internal/buildinfo"
	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
	"github.com/hyperstack-go/hyperstack/internal/idl"
	"github.com/hyperstack-go/hyperstack/internal/pipeline"
	"github.com/hyperstack-go/hyperstack/internal/projection"
	"github.com/hyperstack-go/hyperstack/internal/record"
	"github.com/hyperstack-go/hyperstack/internal/serve"
	"github.com/hyperstack-go/hyperstack/internal/sim"
	"github.com/hyperstack-go/hyperstack/internal/source"
	"github.com/hyperstack-go/hyperstack/internal/stack"
	"github.com/hyperstack-go/hyperstack/internal/vm"
)

type serveOptions struct {
	Source       string
	Stack        string
	XToken       string
	CACert       string
	Speed        string
	Record       string
	Listen       string
	HealthListen string
	Seed         uint64
	SlotInterval time.Duration
	Commitment   string
	MaxEntities  int
	MaxPerIP     int
	MaxMessage   int64
	MaxQueue     int
	AuthSecret   string
	Debug        bool
}

// demoSource is what `hyperstack serve` runs with no arguments.
const demoSource = "sim:spl-token"

func newServeCommand(f *Factory) *cobra.Command {
	opts := &serveOptions{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve live entity state over the HyperStack WebSocket protocol",
		Long: `Serve runs the pipeline — source, decode, VM, projection — and serves the entities over the
HyperStack WebSocket protocol, so the official clients (hyperstack-typescript, hyperstack-react,
hyperstack-stacks) work against it unchanged.

With no arguments it runs the built-in demo: simulated SPL Token traffic through the bundled
SPL Token stack, WebSocket on :8877 and health on :8081.

Sources (--source):
  sim:spl-token | sim:ore        the traffic simulator (sim:ore needs the ORE stack via --stack)
  archive:PATH                   a recorded archive, at the recorded pace (--speed N or max)
  http(s)://host:port            a live Yellowstone gRPC endpoint (--x-token); subscribes to the
                                 stack's programs' accounts and transactions`,
		Example: `  # The built-in demo
  hyperstack serve

  # The ORE stack on simulated ORE traffic
  hyperstack serve --source sim:ore --stack OreStream.stack.json

  # A recording at ten times its pace
  hyperstack serve --source archive:tokens.db --speed 10

  # Live, recording what is served
  hyperstack serve --source https://grpc.example.com --x-token $TOKEN --stack my.stack.json --record live.db`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runServe(cmd.Context(), f, opts) },
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Source, "source", demoSource, "where updates come from: sim:spl-token, sim:ore, archive:PATH or http(s)://host:port")
	fl.StringVar(&opts.Stack, "stack", "", "stack spec (*.stack.json); default: the built-in SPL Token demo stack")
	fl.StringVar(&opts.XToken, "x-token", "", "token for a Yellowstone endpoint")
	fl.StringVar(&opts.CACert, "ca-cert", "", caCertUsage)
	fl.StringVar(&opts.Commitment, "commitment", "confirmed", "commitment for a Yellowstone endpoint: processed, confirmed or finalized")
	fl.StringVar(&opts.Speed, "speed", "1", "pace of an archive source relative to the recording (e.g. 1, 10) or max")
	fl.StringVar(&opts.Record, "record", "", "also record the live stream into this archive (same format and guarantees as record)")
	fl.StringVar(&opts.Listen, "listen", serve.DefaultAddr, "WebSocket listen address")
	fl.StringVar(&opts.HealthListen, "health-listen", serve.DefaultHealthAddr, "health, status and /metrics listen address (- disables)")
	fl.Uint64Var(&opts.Seed, "seed", 1, "simulator seed")
	fl.DurationVar(&opts.SlotInterval, "slot-interval", sim.SlotDuration, "simulator pace: time per slot (0 = as fast as possible)")
	fl.IntVar(&opts.MaxEntities, "max-entities", 0, "entities cached per entity type for snapshots (0 = default)")
	fl.IntVar(&opts.MaxPerIP, "max-connections-per-ip", 0, "concurrent connections per client IP (0 = unlimited)")
	fl.Int64Var(&opts.MaxMessage, "max-message-bytes", 0, "largest inbound client message (0 = default)")
	fl.IntVar(&opts.MaxQueue, "max-queue-bytes", 0, "bytes queued per client before it is disconnected as too slow (0 = default)")
	fl.StringVar(&opts.AuthSecret, "auth-secret", "", "require HS256 session tokens signed with this secret (hs_token query or Bearer header)")
	fl.BoolVar(&opts.Debug, "debug", false, "serve /debug/views and /debug/entities on the health address")
	return cmd
}

func runServe(ctx context.Context, f *Factory, opts *serveOptions) error {
	logger := f.Logger("serve")
	kind, arg, err := parseSource(opts.Source)
	if err != nil {
		return err
	}
	if kind == "sim" && arg == "ore" && opts.Stack == "" {
		return flagErrorf("--source sim:ore needs the ORE stack: --stack path/to/OreStream.stack.json")
	}
	if opts.Record != "" && kind != "live" {
		return flagErrorf("--record needs a live Yellowstone source")
	}
	speed, err := parseSpeed(opts.Speed)
	if err != nil {
		return err
	}
	spec, prog, err := loadStack(opts.Stack)
	if err != nil {
		return err
	}
	views, err := projectionViews(spec)
	if err != nil {
		return err
	}
	cfg := &serve.Config{
		Addr: opts.Listen, HealthAddr: opts.HealthListen,
		Store:               projection.Config{MaxEntities: opts.MaxEntities, Entities: spec.EntityNames(), Views: views, Logger: logger},
		MaxConnectionsPerIP: opts.MaxPerIP, MaxMessageBytes: opts.MaxMessage, MaxQueueBytes: opts.MaxQueue,
		Debug: opts.Debug, Logger: logger,
	}
	if opts.AuthSecret != "" {
		cfg.Auth = &serve.AuthConfig{Secret: []byte(opts.AuthSecret)}
	}
	srv, err := serve.New(cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", opts.Listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", opts.Listen, err)
	}
	var hln net.Listener
	if opts.HealthListen != "-" {
		if hln, err = net.Listen("tcp", opts.HealthListen); err != nil {
			ln.Close()
			return fmt.Errorf("listen %s: %w", opts.HealthListen, err)
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	srvErr := make(chan error, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		srvErr <- srv.Serve(ctx, ln, hln)
	}()

	status := serve.SourceStatus{State: "connecting", Name: opts.Source}
	srv.ReportSource(status)
	p, err := pipeline.New(pipeline.Config{
		Program: prog, Logger: logger,
		Sinks: []pipeline.Sink{pipeline.SinkFunc(func(b pipeline.Batch) error {
			if err := srv.Apply(ctx, b.Mutations); err != nil {
				var me *projection.MutationError
				if errors.As(err, &me) {
					logger.Warn("mutation skipped", "err", err)
					return nil
				}
				return err
			}
			return nil
		})},
	})
	if err != nil {
		return err
	}
	logConnect(logger, opts, spec)

	var runErr error
	switch kind {
	case "sim":
		runErr = serveSim(ctx, srv, p, spec, arg, opts, &status)
	case "archive":
		runErr = serveArchive(ctx, srv, p, arg, speed, logger, &status)
	case "live":
		runErr = serveLive(ctx, f, srv, p, prog, opts, logger, &status)
	}
	if ctx.Err() != nil && errors.Is(runErr, serve.ErrServerClosed) {
		runErr = nil // the server shut down first on Ctrl-C
	}
	if runErr != nil && !errors.Is(runErr, context.Canceled) {
		status.State, status.Error = "error", runErr.Error()
		status.Errors++
		srv.ReportSource(status)
		cancel()
		wg.Wait()
		return runErr
	}
	if ctx.Err() == nil {
		// The source ended (a finite simulation or an archive); keep serving its final state.
		logger.Info("source finished; still serving its final state (Ctrl-C to stop)", "updates", p.Stats().Updates)
		<-ctx.Done()
	}
	wg.Wait()
	if err := <-srvErr; err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, serve.ErrServerClosed) {
		return err
	}
	return nil
}

// parseSource splits --source into sim/archive/live and its argument.
func parseSource(s string) (kind, arg string, err error) {
	switch {
	case strings.HasPrefix(s, "sim:"):
		arg = strings.TrimPrefix(s, "sim:")
		for _, sc := range sim.Scenarios() {
			if sc == arg {
				return "sim", arg, nil
			}
		}
		return "", "", flagErrorf("--source %q: unknown scenario; want one of sim:%s", s, strings.Join(sim.Scenarios(), ", sim:"))
	case strings.HasPrefix(s, "archive:"):
		arg = strings.TrimPrefix(s, "archive:")
		if arg == "" {
			return "", "", flagErrorf("--source archive: needs a path, e.g. archive:tokens.db")
		}
		return "archive", arg, nil
	case strings.HasPrefix(s, "http://"), strings.HasPrefix(s, "https://"):
		return "live", s, nil
	}
	return "", "", flagErrorf("--source %q: want sim:spl-token, sim:ore, archive:PATH or http(s)://host:port", s)
}

func logConnect(logger *log.Logger, opts *serveOptions, spec *stack.Spec) {
	host := opts.Listen
	if strings.HasPrefix(host, ":") {
		host = "localhost" + host
	}
	stackName := opts.Stack
	if stackName == "" {
		stackName = builtinStackName
	}
	logger.Info("serving", "source", opts.Source, "stack", stackName, "websocket", "ws://"+host, "health", opts.HealthListen)
	var viewsList []string
	for _, e := range spec.EntityNames() {
		viewsList = append(viewsList, e+"/state", e+"/list", e+"/append")
	}
	for _, v := range spec.Views() {
		viewsList = append(viewsList, v.View.ID)
	}
	logger.Info("connect with the official client: HyperStack.connect(stack, { url: 'ws://" + host + "' })")
	logger.Info("views", "available", strings.Join(viewsList, " "))
	logger.Info(`or by hand: send {"type":"subscribe","view":"` + firstListView(spec) + `"}`)
}

func firstListView(spec *stack.Spec) string {
	names := spec.EntityNames()
	if len(names) == 0 {
		return "Entity/list"
	}
	return names[len(names)-1] + "/list"
}

func serveSim(ctx context.Context, srv *serve.Server, p *pipeline.Pipeline, spec *stack.Spec, scenario string, opts *serveOptions, st *serve.SourceStatus) error {
	var idls []*idl.IDL
	for _, pi := range p.Machine().Program().Programs {
		if pi.IDL != nil {
			idls = append(idls, pi.IDL)
		}
	}
	s, err := sim.New(scenario, opts.Seed, sim.Options{IDLs: idls})
	if err != nil {
		return err
	}
	st.State, st.CaughtUp = "connected", true
	srv.ReportSource(*st)
	last := time.Now()
	return pipeline.RunSim(ctx, s, p, opts.SlotInterval, func(uint64, *geyserpb.SubscribeUpdate, []byte) error {
		if time.Since(last) > time.Second {
			last = time.Now()
			st.LastSlot = s.Slot()
			srv.ReportSource(*st)
		}
		return nil
	})
}

func serveArchive(ctx context.Context, srv *serve.Server, p *pipeline.Pipeline, path string, speed float64, logger *log.Logger, st *serve.SourceStatus) error {
	a, err := archive.Open(path, &archive.Options{ReadOnly: true, Logger: logger})
	if err != nil {
		return fmt.Errorf("open archive %s: %w", path, err)
	}
	defer a.Close()
	st.State = "connected"
	srv.ReportSource(*st)
	last := time.Now()
	err = pipeline.RunArchive(ctx, a, p, pipeline.ArchiveOptions{Speed: speed, OnUpdate: func(u archive.Update) {
		if time.Since(last) > time.Second {
			last = time.Now()
			st.LastSlot = u.Slot
			srv.ReportSource(*st)
		}
	}})
	if err == nil {
		st.CaughtUp, st.State = true, "disconnected"
		st.LastSlot = p.Stats().LastSlot
		srv.ReportSource(*st)
	}
	return err
}

func serveLive(ctx context.Context, f *Factory, srv *serve.Server, p *pipeline.Pipeline, prog *vm.Program, opts *serveOptions, logger *log.Logger, st *serve.SourceStatus) error {
	filters := source.Filters{Slots: true, Accounts: []string{slotHashesSysvar}}
	for _, pi := range prog.Programs {
		filters.AccountOwners = append(filters.AccountOwners, pi.ID.String())
		filters.TransactionAccounts = append(filters.TransactionAccounts, pi.ID.String())
	}
	h := &pipeline.LiveHandler{Pipeline: p}
	roots, err := loadCACert(opts.CACert)
	if err != nil {
		return err
	}
	cfg := source.Config{Endpoint: opts.Source, XToken: opts.XToken, RootCAs: roots, Filters: filters, Commitment: opts.Commitment, Logger: logger}
	st.State, st.CaughtUp = "connected", true
	srv.ReportSource(*st)
	if opts.Record == "" {
		y, err := source.New(cfg)
		if err != nil {
			return flagErrorf("--source: %v", err)
		}
		return y.Run(ctx, h)
	}
	// Recording while serving: the recorder owns the stream (resume, de-duplication, durable
	// batches) and every update it receives is also fed to the pipeline.
	a, _, err := archive.OpenOrCreate(opts.Record, archive.Meta{
		CreatedAt: f.Now(),
		CreatedBy: "hyperstack " + buildinfo.Version(),
		Source: archive.Source{
			Kind:       archive.SourceYellowstone,
			Endpoint:   archive.SanitizeEndpoint(opts.Source, opts.XToken),
			Commitment: opts.Commitment,
		},
	}, &archive.Options{Logger: logger})
	if err != nil {
		return fmt.Errorf("open archive %s: %w", opts.Record, err)
	}
	defer a.Close()
	rec := &record.Recorder{Archive: a, Logger: logger}
	cfg.ResumeSlot, cfg.Seen = rec.ResumeSlot, rec.Seen
	y, err := source.New(cfg)
	if err != nil {
		return flagErrorf("--source: %v", err)
	}
	rec.Source = teeSource{src: y, tee: h}
	return rec.Run(ctx)
}

// teeSource runs a stream and hands every update to the recorder's handler first, then to tee.
type teeSource struct {
	src interface {
		Run(ctx context.Context, h source.Handler) error
	}
	tee source.Handler
}

func (t teeSource) Run(ctx context.Context, h source.Handler) error {
	return t.src.Run(ctx, teeHandler{first: h, then: t.tee})
}

type teeHandler struct{ first, then source.Handler }

func (t teeHandler) OnUpdate(u *source.Update) error {
	if err := t.first.OnUpdate(u); err != nil {
		return err
	}
	return t.then.OnUpdate(u)
}

func (t teeHandler) OnGap(g source.Gap) error {
	if err := t.first.OnGap(g); err != nil {
		return err
	}
	return t.then.OnGap(g)
}

// slotHashesSysvar is followed by live serving so stacks that read slot hashes get them.
const slotHashesSysvar = "SysvarS1otHashes111111111111111111111111111"
