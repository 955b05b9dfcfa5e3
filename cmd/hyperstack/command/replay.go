package command

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"runtime/debug"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/hyperstack-go/hyperstack/internal/archive"
	"github.com/hyperstack-go/hyperstack/internal/replay"
)

type replayOptions struct {
	Archive     string
	Stack       string
	FromSlot    uint64
	ToSlot      uint64
	Out         string
	WriteGolden bool
	Verify      bool
	Golden      string
	ServeGeyser string
	Speed       string
	XToken      string
	JSON        bool
}

func newReplayCommand(f *Factory) *cobra.Command {
	opts := &replayOptions{}
	cmd := &cobra.Command{
		Use:   "replay ARCHIVE",
		Short: "Run an archive through a stack deterministically, verify it, or serve it as Yellowstone",
		Long: `Replay runs a recorded archive through exactly the pipeline "serve" uses and writes every
mutation as one JSON line (slot, seq, entity, key, patch, append, handler). The output bytes are
identical across runs, machines and GOMAXPROCS.

--write-golden stores the run inside the archive, keyed by the stack's content hash: a digest
chain over the mutations of every update, an index of the updates that touched each entity (so
"inspect entity" answers without replaying), and the resolver answers the run used (fed back to
every later replay, so resolvers replay exactly). "record --stack" stores the same golden live.

--verify replays again and compares with the golden of the stack's hash: exit 0 when identical,
otherwise exit 1 with the first divergent slot, entity, key and a diff of the expected and actual
patches. --golden HASH (or a unique prefix of it) compares with the golden of another stack
version, to see exactly where a spec change or a new release alters the output.

--serve-geyser ADDR serves the archive as a Yellowstone gRPC endpoint instead (filters,
commitment levels, pings, from_slot; --speed paces it). The archive starts flowing when the first
client subscribes; a client whose from_slot lies ahead moves the stream forward to that slot.`,
		Example: `  # Mutations as JSON lines
  hyperstack replay tokens.db --stack fixtures/stacks/spl-token.stack.json --out mutations.jsonl

  # Record a golden, then prove a later run (or release) produces the same output
  hyperstack replay tokens.db --stack my.stack.json --write-golden
  hyperstack replay tokens.db --stack my.stack.json --verify

  # Where does my edited stack change the output compared with the old version?
  hyperstack replay tokens.db --stack my-edited.stack.json --verify --golden 3f2a...

  # Serve the archive to any Yellowstone client at 5x the recorded pace
  hyperstack replay tokens.db --serve-geyser 127.0.0.1:10000 --speed 5`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Archive = args[0]
			return runReplay(cmd, f, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Stack, "stack", "", "stack spec (*.stack.json); default: the built-in SPL Token demo stack")
	fl.Uint64Var(&opts.FromSlot, "from-slot", 0, "first slot to replay")
	fl.Uint64Var(&opts.ToSlot, "to-slot", 0, "last slot to replay (0 = end of archive)")
	fl.StringVar(&opts.Out, "out", "-", "where to write the JSON lines: a file, or - for stdout (with --write-golden: none unless given)")
	fl.BoolVar(&opts.WriteGolden, "write-golden", false, "store this run as the golden of the stack's content hash")
	fl.BoolVar(&opts.Verify, "verify", false, "compare with the stored golden; exit 1 at the first difference")
	fl.StringVar(&opts.Golden, "golden", "", "with --verify: the stack hash of the golden to compare with")
	fl.StringVar(&opts.ServeGeyser, "serve-geyser", "", "serve the archive as a Yellowstone gRPC endpoint on ADDR")
	fl.StringVar(&opts.Speed, "speed", "max", "with --serve-geyser: pace relative to the recording (e.g. 1, 10) or max")
	fl.StringVar(&opts.XToken, "x-token", "", "with --serve-geyser: token clients must send")
	fl.BoolVar(&opts.JSON, "json", false, "print the summary (or verification result) as JSON on stdout")
	return cmd
}

func parseSpeed(s string) (float64, error) {
	if s == "max" || s == "" {
		return 0, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v <= 0 {
		return 0, flagErrorf("--speed %q: want a positive number or max", s)
	}
	return v, nil
}

func runReplay(cmd *cobra.Command, f *Factory, opts *replayOptions) error {
	ctx := cmd.Context()
	logger := f.Logger("replay")
	fl := cmd.Flags()
	switch {
	case opts.Golden != "" && !opts.Verify:
		return flagErrorf("--golden goes with --verify")
	case opts.Verify && opts.WriteGolden:
		return flagErrorf("--verify and --write-golden exclude each other")
	case opts.Verify && (fl.Changed("from-slot") || fl.Changed("to-slot")):
		return flagErrorf("--verify replays the slot range the golden was written for; drop --from-slot and --to-slot")
	case opts.Verify && fl.Changed("out"):
		return flagErrorf("--verify writes no mutations; drop --out")
	case opts.ServeGeyser != "" && (opts.Verify || opts.WriteGolden || fl.Changed("out") || fl.Changed("stack")):
		return flagErrorf("--serve-geyser serves the archive's updates: it takes no --stack, --out, --verify or --write-golden")
	case opts.ServeGeyser == "" && (fl.Changed("speed") || fl.Changed("x-token")):
		return flagErrorf("--speed and --x-token go with --serve-geyser")
	case opts.ToSlot != 0 && opts.ToSlot < opts.FromSlot:
		return flagErrorf("--to-slot %d is before --from-slot %d", opts.ToSlot, opts.FromSlot)
	}
	speed, err := parseSpeed(opts.Speed)
	if err != nil {
		return err
	}
	a, err := archive.Open(opts.Archive, &archive.Options{ReadOnly: !opts.WriteGolden, Logger: logger})
	if err != nil {
		return fmt.Errorf("open archive %s: %w", opts.Archive, err)
	}
	defer a.Close()

	if opts.ServeGeyser != "" {
		lis, err := net.Listen("tcp", opts.ServeGeyser)
		if err != nil {
			return fmt.Errorf("listen %s: %w", opts.ServeGeyser, err)
		}
		logger.Info("serving the archive as a Yellowstone endpoint", "addr", lis.Addr().String(), "archive", opts.Archive,
			"speed", opts.Speed, "hint", "updates start flowing when the first client subscribes")
		return replay.ServeGeyser(ctx, a, lis, replay.GeyserOptions{
			FromSlot: opts.FromSlot, ToSlot: opts.ToSlot, Speed: speed, WaitSubscribers: 1,
			XToken: opts.XToken, Logger: logger,
			Ready: func() { logger.Info("a client subscribed; streaming the archive") },
			Done:  func() { logger.Info("every update was served; the endpoint stays up until stopped") },
		})
	}

	spec, prog, err := loadStack(opts.Stack)
	if err != nil {
		return err
	}
	defer replayGC(f)()
	total, err := updatesInRange(ctx, a, opts.FromSlot, opts.ToSlot)
	if err != nil {
		return err
	}
	bar := newProgressLine(f, "replayed", total)
	ro := replay.Options{
		Spec: spec, Program: prog, FromSlot: opts.FromSlot, ToSlot: opts.ToSlot, WriteGolden: opts.WriteGolden,
		Logger: logger, Progress: bar.add,
	}

	if opts.Verify {
		golden := opts.Golden
		var vr *replay.VerifyResult
		if golden != "" {
			golden, err = replay.MatchGolden(a, golden)
		}
		if err == nil {
			vr, err = replay.Verify(ctx, a, replay.VerifyOptions{Options: ro, GoldenHash: golden})
			bar.finish()
		}
		var ng *replay.NoGoldenError
		switch {
		case errors.Is(err, replay.ErrNoGoldens):
			return fmt.Errorf("%w: create one with: hyperstack replay %s%s --write-golden (or record with --stack)",
				err, opts.Archive, stackFlag(opts.Stack))
		case errors.As(err, &ng):
			hint := "compare with one of them with --golden HASH"
			if opts.Golden == "" {
				hint += ", or create one for this stack with --write-golden"
			}
			return fmt.Errorf("%w; %s", err, hint)
		case err != nil:
			return err
		}
		return reportVerify(f, opts, spec.ContentHash(), vr)
	}

	var outFile *os.File
	switch {
	case opts.WriteGolden && !fl.Changed("out"):
		// storing a golden: the mutations go to the archive only
	case opts.JSON && opts.Out == "-":
		// stdout carries the summary
	case opts.Out == "-":
		ro.Out = f.IO.Out
	case opts.Out != "":
		outFile, err = os.Create(opts.Out)
		if err != nil {
			return err
		}
		defer outFile.Close()
		ro.Out = outFile
	}
	res, err := replay.Run(ctx, a, ro)
	bar.finish()
	if err != nil {
		return err
	}
	if outFile != nil {
		if err := outFile.Close(); err != nil {
			return fmt.Errorf("write %s: %w", opts.Out, err)
		}
	}
	summary := map[string]any{
		"archive": opts.Archive, "stack_hash": spec.ContentHash(), "updates": res.Updates,
		"mutations": res.Mutations, "last_seq": res.LastSeq, "last_slot": res.LastSlot,
		"bad_updates": res.Pipeline.BadUpdates, "handler_errors": res.Pipeline.HandlerErrors,
		"undecodable": res.Pipeline.VM.Undecodable,
	}
	if res.Golden != nil {
		summary["golden_digest"] = res.Golden.Digest
		summary["golden_records"] = res.Golden.Records
	}
	if opts.JSON {
		return json.NewEncoder(f.IO.Out).Encode(summary)
	}
	logger.Info("replay finished", "updates", res.Updates, "mutations", res.Mutations, "last_slot", res.LastSlot,
		"undecodable", res.Pipeline.VM.Undecodable, "handler_errors", res.Pipeline.HandlerErrors)
	if res.Golden != nil {
		fmt.Fprintf(f.IO.ErrOut, "golden stored for stack %s: %d updates, %d records, digest %s\n",
			spec.ContentHash(), res.Golden.Updates, res.Golden.Records, res.Golden.Digest)
	}
	return nil
}

// updatesInRange counts the updates a replay of the slot range feeds (for the progress line); the
// whole archive is its checkpoint.
func updatesInRange(ctx context.Context, a *archive.Archive, fromSlot, toSlot uint64) (uint64, error) {
	if fromSlot == 0 && toSlot == 0 {
		cp, err := a.Checkpoint()
		return cp.Seq, err
	}
	if toSlot == 0 {
		toSlot = math.MaxUint64
	}
	var n uint64
	err := a.Slots(ctx, fromSlot, toSlot, func(si archive.SlotInfo) error {
		n += si.Count
		return nil
	})
	return n, err
}

// replayGC makes the collector run less often during a replay (replay.BatchGCPercent), unless GOGC
// is set. It returns the undo.
func replayGC(f *Factory) func() {
	if f.Getenv("GOGC") != "" {
		return func() {}
	}
	old := debug.SetGCPercent(replay.BatchGCPercent)
	return func() { debug.SetGCPercent(old) }
}

// stackArg is how a message names the stack.
func stackArg(path string) string {
	if path == "" {
		return builtinStackName
	}
	return path
}

// stackFlag is the --stack flag of a suggested command line ("" for the built-in stack).
func stackFlag(path string) string {
	if path == "" {
		return ""
	}
	return " --stack " + path
}

func reportVerify(f *Factory, opts *replayOptions, hash string, vr *replay.VerifyResult) error {
	if opts.JSON {
		out := map[string]any{
			"identical": vr.Divergence == nil, "stack_hash": hash, "golden_hash": vr.Golden.StackHash,
			"golden_digest": vr.Golden.Digest, "records_compared": vr.Compared,
		}
		if d := vr.Divergence; d != nil {
			out["divergence"] = map[string]any{
				"slot": d.Slot, "seq": d.Seq, "entity": d.Entity, "key": d.Key,
				"expected": d.Expected, "actual": d.Actual,
			}
		}
		if err := json.NewEncoder(f.IO.Out).Encode(out); err != nil {
			return err
		}
	} else if vr.Divergence == nil {
		fmt.Fprintf(f.IO.Out, "identical: %d records match the golden of %s (digest %s)\n", vr.Compared,
			replay.ShortHash(vr.Golden.StackHash), replay.ShortHash(vr.Golden.Digest))
	} else {
		fmt.Fprintf(f.IO.Out, "DIVERGED from the golden of %s\n%s", replay.ShortHash(vr.Golden.StackHash), vr.Divergence.Report())
	}
	if vr.Divergence != nil {
		return &SilentError{Err: errors.New("output diverges from the golden")}
	}
	return nil
}
