package command

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hyperstack-go/hyperstack/internal/buildinfo"
	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
	"github.com/hyperstack-go/hyperstack/internal/geyserserver"
	"github.com/hyperstack-go/hyperstack/internal/idl"
	"github.com/hyperstack-go/hyperstack/internal/sim"
)

type simOptions struct {
	Scenario   string
	Listen     string
	Rate       float64
	Seed       uint64
	Slots      uint64
	StartSlot  uint64
	TxPerSlot  float64
	Population int
	RoundSlots uint64
	Out        string
	Stack      string
	IDLs       []string
	XToken     string
	Interslot  bool
	NoSync     bool
}

func newSimCommand(f *Factory) *cobra.Command {
	opts := &simOptions{}
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Serve simulated Solana program traffic as a Yellowstone endpoint",
		Long: `Simulate a Solana program's traffic and serve it as a Yellowstone gRPC (Geyser) endpoint,
or write it into an archive.

The stream is what a real endpoint sends: account updates (owner, lamports, data, rising
write_version, the writing transaction's signature), transactions (signatures, legacy and v0
messages with address lookup tables, instructions and inner instructions, logs, fees, balances and
token balances), slot status updates (processed, then confirmed, then finalized) and block
metadata. It is a pure function of --scenario, --seed and the other content flags; --rate only
sets the pace.

Scenarios:
  spl-token  mints, token accounts, transfer, transfer_checked, mint_to and burn, with activity
             skewed across accounts by a power law (built-in SPL Token IDL)
  ore        the ORE mining game: rounds, deploys, checkpoints, resets, treasury, board and the
             entropy Var; needs the ORE IDLs (--stack OreStream.stack.json, or --idl twice)

The endpoint honours account, transaction, slot and block-meta filters and commitment, sends a
ping every 10 s, answers pings, keeps a from_slot replay buffer of 150 slots and answers GetSlot,
GetVersion and Ping. With --out the stream goes straight into a new archive instead, as fast as
possible; the same flags always give a byte-identical file.`,
		Example: `  # Mainnet-paced SPL Token traffic on localhost:10000
  hyperstack sim --scenario spl-token --listen 127.0.0.1:10000

  # ORE traffic, ten times mainnet pace
  hyperstack sim --scenario ore --stack OreStream.stack.json --rate 25

  # 3,000 slots of SPL Token traffic into an archive
  hyperstack sim --scenario spl-token --seed 1 --slots 3000 --out demo.hsa`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSim(cmd.Context(), f, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Scenario, "scenario", sim.ScenarioSPLToken, "traffic to simulate: "+strings.Join(sim.Scenarios(), " or "))
	fl.StringVar(&opts.Listen, "listen", "127.0.0.1:10000", "address to serve the Yellowstone gRPC endpoint on")
	fl.Float64Var(&opts.Rate, "rate", 2.5, "slots per second (2.5 is mainnet's 400 ms slots; 0 = as fast as possible)")
	fl.Uint64Var(&opts.Seed, "seed", 1, "random seed: the same seed gives the same stream")
	fl.Uint64Var(&opts.Slots, "slots", 0, "stop generating after this many slots (0 = no end)")
	fl.Uint64Var(&opts.StartSlot, "start-slot", sim.DefaultStartSlot, "number of the first slot")
	fl.Float64Var(&opts.TxPerSlot, "txs-per-slot", 0, "mean program transactions per slot (0 = scenario default)")
	fl.IntVar(&opts.Population, "population", 0, "most wallets (spl-token) or miners (ore) to create (0 = default)")
	fl.Uint64Var(&opts.RoundSlots, "round-slots", 0, "ore: slots per round (0 = 150)")
	fl.StringVar(&opts.Out, "out", "", "write the stream into this new archive instead of serving it")
	fl.StringVar(&opts.Stack, "stack", "", "stack spec whose embedded IDLs the scenario encodes with")
	fl.StringSliceVar(&opts.IDLs, "idl", nil, "IDL file the scenario encodes with (repeatable)")
	fl.StringVar(&opts.XToken, "x-token", "", "require this x-token from clients")
	fl.BoolVar(&opts.Interslot, "interslot", false, "with --out: also write FIRST_SHRED_RECEIVED, CREATED_BANK and COMPLETED statuses (always served)")
	fl.BoolVar(&opts.NoSync, "no-sync", false, "with --out: skip fsync on commits (faster; unsafe on crash)")
	return cmd
}

// simIDLs loads the IDLs given with --stack and --idl.
func simIDLs(opts *simOptions) ([]*idl.IDL, error) {
	var out []*idl.IDL
	if opts.Stack != "" {
		data, err := os.ReadFile(opts.Stack)
		if err != nil {
			return nil, fmt.Errorf("read stack: %w", err)
		}
		idls, err := idl.ParseStack(data)
		if err != nil {
			return nil, fmt.Errorf("stack %s: %w", opts.Stack, err)
		}
		out = append(out, idls...)
	}
	for _, p := range opts.IDLs {
		x, err := idl.ParseFile(p)
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, nil
}

func runSim(ctx context.Context, f *Factory, opts *simOptions) error {
	if opts.Rate < 0 {
		return flagErrorf("--rate %v: must not be negative", opts.Rate)
	}
	if opts.TxPerSlot < 0 || opts.Population < 0 {
		return flagErrorf("--txs-per-slot and --population must not be negative")
	}
	known := false
	for _, s := range sim.Scenarios() {
		known = known || s == opts.Scenario
	}
	if !known {
		return flagErrorf("--scenario %q: want %s", opts.Scenario, strings.Join(sim.Scenarios(), " or "))
	}
	if opts.StartSlot == 0 {
		return flagErrorf("--start-slot must be positive")
	}
	logger := f.Logger("sim")
	idls, err := simIDLs(opts)
	if err != nil {
		return err
	}
	s, err := sim.New(opts.Scenario, opts.Seed, sim.Options{
		Logger:     logger,
		StartSlot:  opts.StartSlot,
		Slots:      opts.Slots,
		TxPerSlot:  opts.TxPerSlot,
		Interslot:  opts.Out == "" || opts.Interslot,
		IDLs:       idls,
		Population: opts.Population,
		RoundSlots: opts.RoundSlots,
	})
	if err != nil {
		if errors.Is(err, sim.ErrMissingIDL) {
			return flagErrorf("%v", err)
		}
		return err
	}
	if opts.Out != "" {
		return simToArchive(ctx, f, opts, s)
	}
	return simServe(ctx, f, opts, s)
}

// progress prints a status line at most every interval: rewritten in place on a terminal, logged
// otherwise.
type progress struct {
	f        *Factory
	last     time.Time
	start    time.Time
	interval time.Duration
	lastUpd  uint64
}

func newProgress(f *Factory) *progress {
	now := f.Now()
	return &progress{f: f, last: now, start: now, interval: 2 * time.Second}
}

func (p *progress) report(st sim.Stats, slot uint64, final bool) {
	now := p.f.Now()
	if !final && now.Sub(p.last) < p.interval {
		return
	}
	var rate float64
	if d := now.Sub(p.last).Seconds(); d > 0 {
		rate = float64(st.Updates-p.lastUpd) / d
	}
	if d := now.Sub(p.start).Seconds(); final && d > 0 {
		rate = float64(st.Updates) / d
	}
	p.last, p.lastUpd = now, st.Updates
	if p.f.IO.IsTerminal != nil && p.f.IO.IsTerminal() {
		end := ""
		if final {
			end = "\n"
		}
		fmt.Fprintf(p.f.IO.ErrOut, "\r\x1b[Kslot %d  slots %d  updates %d (%d accounts, %d txs)  %.0f updates/s%s",
			slot, st.Slots, st.Updates, st.AccountUpdates, st.Transactions, rate, end)
		return
	}
	p.f.Logger("sim").Info("progress", "slot", slot, "slots", st.Slots, "updates", st.Updates,
		"accounts", st.AccountUpdates, "transactions", st.Transactions, "updates_per_s", int64(rate))
}

func simToArchive(ctx context.Context, f *Factory, opts *simOptions, s *sim.Sim) error {
	p := newProgress(f)
	st, err := s.WriteArchive(ctx, opts.Out, sim.ArchiveOptions{
		Seed:          opts.Seed,
		NoSync:        opts.NoSync,
		ProgressEvery: 4096,
		Progress:      func(st sim.Stats) { p.report(st, s.Slot(), false) },
	})
	if err != nil {
		return fmt.Errorf("write archive: %w", err)
	}
	p.report(st, s.Slot(), true)
	fmt.Fprintf(f.IO.Out, "wrote %s: %d slots, %d updates (%d account updates, %d transactions)\n",
		opts.Out, st.Slots, st.Updates, st.AccountUpdates, st.Transactions)
	return nil
}

func simServe(ctx context.Context, f *Factory, opts *simOptions, s *sim.Sim) error {
	logger := f.Logger("sim")
	srv := geyserserver.New(geyserserver.Config{
		XToken:  opts.XToken,
		Version: buildinfo.Version(),
		// As fast as possible, the generator waits for the slowest client instead of dropping it.
		Backpressure: opts.Rate == 0,
		Logger:       logger,
	})
	lis, err := net.Listen("tcp", opts.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, lis) }()
	fmt.Fprintf(f.IO.Out, "serving Yellowstone gRPC on %s (scenario %s, seed %d)\n", lis.Addr(), opts.Scenario, opts.Seed)

	var interval time.Duration
	if opts.Rate > 0 {
		interval = time.Duration(float64(time.Second) / opts.Rate)
	}
	p := newProgress(f)
	var n uint64
	err = s.Run(ctx, sim.RunOptions{SlotInterval: interval}, func(u *geyserpb.SubscribeUpdate, raw []byte) error {
		if n++; n&1023 == 0 {
			p.report(s.Stats(), s.Slot(), false)
		}
		return srv.Publish(u, raw)
	})
	switch {
	case err == nil:
		p.report(s.Stats(), s.Slot(), true)
		logger.Info("simulation finished; still serving (Ctrl-C to stop)", "slots", s.Stats().Slots)
		<-ctx.Done()
	case errors.Is(err, context.Canceled) || errors.Is(err, geyserserver.ErrShutdown):
	default:
		cancel()
		<-served
		return err
	}
	cancel()
	shutdown, done := context.WithTimeout(context.Background(), 5*time.Second)
	defer done()
	_ = srv.Shutdown(shutdown)
	return <-served
}
