package command

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/hyperstack-go/hyperstack/internal/archive"
	"github.com/hyperstack-go/hyperstack/internal/replay"
)

type inspectEntityOptions struct {
	Entity  string
	Key     string
	Archive string
	Stack   string
	AtSlot  uint64
	History bool
	JSON    bool
}

func newInspectEntityCommand(f *Factory) *cobra.Command {
	opts := &inspectEntityOptions{}
	cmd := &cobra.Command{
		Use:   "entity ENTITY KEY --archive FILE",
		Short: "Show an entity's state at a slot, with its history",
		Long: `Show the state an entity had as of a slot of a recording: the merge of every mutation the
stack produced for it from updates of that slot or earlier (default: the end of the archive),
with --history every one of those mutations (slot, archive update, mutation seq, handler and
patch).

KEY is the entity's primary key as the stack emits it: a number, a string, or JSON.

When the archive holds a golden of the stack (hyperstack replay --write-golden, or record
--stack), its entity index answers at once, reading only the records that touched the entity.
Otherwise the archive is replayed up to the slot, which takes as long as a replay does.`,
		Example: `  # A token account's state at the end of the recording, from the built-in demo stack
  hyperstack inspect entity TokenAccount 7xKXtg2CW87d97TXJSDpbD5jBkheTqA83TZRuJosgAsU --archive tokens.db

  # An ORE round as of slot 301000000, with every mutation that touched it, as JSON
  hyperstack inspect entity OreRound 4711 --archive ore.db --stack ore.stack.json --at-slot 301000000 --history --json`,
		Args: exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Entity, opts.Key = args[0], args[1]
			return runInspectEntity(cmd.Context(), f, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Archive, "archive", "", "archive file (required)")
	fl.StringVar(&opts.Stack, "stack", "", "stack spec (*.stack.json); default: the built-in SPL Token demo stack")
	fl.Uint64Var(&opts.AtSlot, "at-slot", 0, "show the state as of this slot (0 = end of the archive)")
	fl.BoolVar(&opts.History, "history", false, "list every mutation that touched the entity")
	fl.BoolVar(&opts.JSON, "json", false, "print one JSON object")
	return cmd
}

func runInspectEntity(ctx context.Context, f *Factory, opts *inspectEntityOptions) error {
	if opts.Archive == "" {
		return flagErrorf("--archive FILE is required")
	}
	spec, prog, err := loadStack(opts.Stack)
	if err != nil {
		return err
	}
	var names []string
	found := false
	for _, e := range spec.Entities {
		names = append(names, e.StateName)
		found = found || e.StateName == opts.Entity
	}
	if !found {
		return fmt.Errorf("%w %q in stack %s; its entities: %s", replay.ErrUnknownEntity, opts.Entity,
			stackArg(opts.Stack), strings.Join(names, ", "))
	}
	logger := f.Logger("inspect")
	a, err := archive.Open(opts.Archive, &archive.Options{ReadOnly: true, Logger: logger})
	if err != nil {
		return fmt.Errorf("open archive %s: %w", opts.Archive, err)
	}
	defer a.Close()
	cp, err := a.Checkpoint()
	if err != nil {
		return err
	}
	eopts := replay.EntityOptions{Entity: opts.Entity, Key: opts.Key, AtSlot: opts.AtSlot, History: opts.History}

	hash := spec.ContentHash()
	var why string
	g, err := replay.OpenGolden(a, hash)
	var ng *replay.NoGoldenError
	switch {
	case errors.Is(err, replay.ErrNoGoldens) || errors.As(err, &ng):
		why = "the archive has no golden of stack " + replay.ShortHash(hash)
	case err != nil:
		return err
	default:
		ok, err := g.Covers(ctx, opts.AtSlot, cp.Seq)
		if err != nil {
			return err
		}
		if !ok {
			why = fmt.Sprintf("the golden of stack %s does not cover that (it covers slots %d-%d, updates up to %d)",
				replay.ShortHash(hash), g.Info.FromSlot, g.Info.ToSlot, g.Info.LastSeq)
			g = nil
		}
	}

	var st *replay.EntityState
	if g != nil {
		st, err = replay.EntityFromGolden(ctx, g, eopts)
	} else {
		fmt.Fprintf(f.IO.ErrOut, "note: %s; replaying the archive (slow). Make this instant with:\n  hyperstack replay %s%s --write-golden\n",
			why, opts.Archive, stackFlag(opts.Stack))
		defer replayGC(f)()
		bar := newProgressLine(f, "replayed", cp.Seq)
		st, err = replay.EntityByReplay(ctx, a, replay.Options{Spec: spec, Program: prog, Logger: logger,
			Progress: bar.add}, eopts)
		bar.finish()
	}
	if err != nil {
		return err
	}
	if opts.JSON {
		if !opts.History {
			st.History = nil
		}
		return json.NewEncoder(f.IO.Out).Encode(st)
	}
	return printEntity(f, opts, st)
}

func printEntity(f *Factory, opts *inspectEntityOptions, st *replay.EntityState) error {
	at := "the end of the archive"
	if st.AtSlot != 0 {
		at = fmt.Sprintf("slot %d", st.AtSlot)
	}
	source := "replayed"
	if st.FromGolden {
		source = "from the golden"
	}
	fmt.Fprintf(f.IO.Out, "%s %s as of %s (%d mutations, slots %d-%d, %s)\n", st.Entity, st.Key, at,
		st.Mutations, st.FirstSlot, st.LastSlot, source)
	b, err := json.MarshalIndent(st.State, "", "  ")
	if err != nil {
		return err
	}
	fmt.Fprintf(f.IO.Out, "%s\n", b)
	if !opts.History {
		return nil
	}
	fmt.Fprintf(f.IO.Out, "\nhistory (%d mutations):\n", len(st.History))
	tw := tabwriter.NewWriter(f.IO.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SLOT\tUPDATE\tSEQ\tHANDLER\tPATCH")
	for _, c := range st.History {
		patch := string(c.Patch)
		if len(c.Append) > 0 {
			patch += "  (append: " + strings.Join(c.Append, ", ") + ")"
		}
		fmt.Fprintf(tw, "%d\t%d\t%d\t%s\t%s\n", c.Slot, c.UpdateSeq, c.Seq, c.Handler, patch)
	}
	return tw.Flush()
}
