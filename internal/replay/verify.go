package replay

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/hyperstack-go/hyperstack/internal/archive"
	"github.com/hyperstack-go/hyperstack/internal/pipeline"
)

// Divergence is the first place where a replay differs from a golden.
type Divergence struct {
	// Seq and Slot locate the archive update whose output differs.
	Seq  uint64
	Slot uint64
	// Entity and Key name the first mutation that differs.
	Entity string
	Key    json.RawMessage
	// Expected and Actual are that update's mutations in the golden and in the replay.
	Expected []Line
	Actual   []Line
}

// Report renders the divergence for people: where, then a field-by-field diff of the patches.
func (d *Divergence) Report() string {
	var b strings.Builder
	fmt.Fprintf(&b, "first divergence at slot %d (update seq %d), entity %s key %s\n", d.Slot, d.Seq, d.Entity, string(d.Key))
	exp := pickLine(d.Expected, d.Entity, d.Key)
	act := pickLine(d.Actual, d.Entity, d.Key)
	switch {
	case exp == nil:
		fmt.Fprintf(&b, "  expected: no mutation of %s %s here\n  actual patch: %s\n", d.Entity, d.Key, string(act.Patch))
	case act == nil:
		fmt.Fprintf(&b, "  expected patch: %s\n  actual: no mutation of %s %s here\n", string(exp.Patch), d.Entity, d.Key)
	default:
		for _, ln := range DiffPatches(exp.Patch, act.Patch) {
			b.WriteString("  " + ln + "\n")
		}
		if strings.Join(exp.Append, ",") != strings.Join(act.Append, ",") {
			fmt.Fprintf(&b, "  - append %v\n  + append %v\n", exp.Append, act.Append)
		}
		if exp.Seq != act.Seq {
			fmt.Fprintf(&b, "  - seq %d\n  + seq %d\n", exp.Seq, act.Seq)
		}
	}
	fmt.Fprintf(&b, "  (%d expected and %d actual mutations for this update)\n", len(d.Expected), len(d.Actual))
	return b.String()
}

func pickLine(ls []Line, entity string, key json.RawMessage) *Line {
	for i := range ls {
		if ls[i].Entity == entity && bytes.Equal(ls[i].Key, key) {
			return &ls[i]
		}
	}
	return nil
}

// DiffPatches lists the leaf paths whose values differ: "- path: old" and "+ path: new" lines, in
// path order.
func DiffPatches(expected, actual json.RawMessage) []string {
	e, a := map[string]string{}, map[string]string{}
	flatten("", expected, e)
	flatten("", actual, a)
	keys := map[string]bool{}
	for k := range e {
		keys[k] = true
	}
	for k := range a {
		keys[k] = true
	}
	paths := make([]string, 0, len(keys))
	for k := range keys {
		paths = append(paths, k)
	}
	sort.Strings(paths)
	var out []string
	for _, p := range paths {
		ev, eok := e[p]
		av, aok := a[p]
		if eok && aok && ev == av {
			continue
		}
		if eok {
			out = append(out, fmt.Sprintf("- %s: %s", p, ev))
		}
		if aok {
			out = append(out, fmt.Sprintf("+ %s: %s", p, av))
		}
	}
	return out
}

func flatten(prefix string, raw json.RawMessage, out map[string]string) {
	var obj map[string]json.RawMessage
	if len(raw) > 0 && raw[0] == '{' && json.Unmarshal(raw, &obj) == nil && len(obj) > 0 {
		for k, v := range obj {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			flatten(p, v, out)
		}
		return
	}
	if prefix == "" {
		prefix = "(patch)"
	}
	out[prefix] = string(raw)
}

// VerifyOptions configure Verify.
type VerifyOptions struct {
	Options
	// GoldenHash selects the golden to compare with; empty means the stack's own content hash.
	GoldenHash string
}

// VerifyResult is the outcome of a verification.
type VerifyResult struct {
	Golden     Info
	Compared   uint64
	Divergence *Divergence
	Result     *Result
}

var errDiverged = errors.New("diverged")

// Verify replays the golden's range with the stack and compares the output record by record. A nil
// Divergence means the output is identical.
func Verify(ctx context.Context, a *archive.Archive, opts VerifyOptions) (*VerifyResult, error) {
	hash := opts.GoldenHash
	if hash == "" {
		hash = opts.Spec.ContentHash()
	}
	g, err := OpenGolden(a, hash)
	if err != nil {
		return nil, err
	}
	var expected []Record
	if err := g.Records(ctx, 0, func(r Record) error {
		r.Lines = bytes.Clone(r.Lines)
		expected = append(expected, r)
		return nil
	}); err != nil {
		return nil, err
	}
	vr := &VerifyResult{Golden: g.Info}
	next := 0
	var buf []byte
	diverge := func(seq, slot uint64, exp []byte, act []byte) error {
		el, _ := ParseLines(exp)
		al, _ := ParseLines(act)
		d := &Divergence{Seq: seq, Slot: slot, Expected: el, Actual: al}
		for i := 0; i < len(el) || i < len(al); i++ {
			switch {
			case i >= len(el):
				d.Entity, d.Key = al[i].Entity, al[i].Key
			case i >= len(al):
				d.Entity, d.Key = el[i].Entity, el[i].Key
			case !lineEqual(el[i], al[i]):
				d.Entity, d.Key = el[i].Entity, el[i].Key
			default:
				continue
			}
			break
		}
		vr.Divergence = d
		return errDiverged
	}
	cmp := pipeline.SinkFunc(func(b pipeline.Batch) error {
		buf = buf[:0]
		for i := range b.Mutations {
			buf = AppendLine(buf, &b.Mutations[i])
		}
		if next < len(expected) && expected[next].Seq < b.Seq {
			r := expected[next]
			return diverge(r.Seq, r.Slot, r.Lines, nil)
		}
		if next < len(expected) && expected[next].Seq == b.Seq {
			r := expected[next]
			next++
			vr.Compared++
			if !bytes.Equal(r.Lines, buf) {
				return diverge(r.Seq, r.Slot, r.Lines, buf)
			}
			return nil
		}
		return diverge(b.Seq, b.Slot, nil, buf)
	})
	ro := opts.Options
	ro.FromSlot, ro.ToSlot = g.Info.FromSlot, g.Info.ToSlot
	ro.WriteGolden = false
	ro.Sinks = append(append([]pipeline.Sink(nil), ro.Sinks...), cmp)
	res, err := runCovered(ctx, a, ro, g.Info.LastSeq)
	if errors.Is(err, errDiverged) {
		return vr, nil
	}
	if err != nil {
		return nil, err
	}
	vr.Result = res
	if next < len(expected) {
		r := expected[next]
		_ = diverge(r.Seq, r.Slot, r.Lines, nil)
	}
	return vr, nil
}

func lineEqual(a, b Line) bool {
	return a.Slot == b.Slot && a.Seq == b.Seq && a.Entity == b.Entity && bytes.Equal(a.Key, b.Key) &&
		bytes.Equal(a.Patch, b.Patch) && strings.Join(a.Append, "\x00") == strings.Join(b.Append, "\x00") &&
		a.Handler == b.Handler
}

var errCovered = errors.New("covered range done")

// runCovered runs a replay that stops after update lastSeq (0 = no limit), so a golden written live
// is compared only over the updates it covers.
func runCovered(ctx context.Context, a *archive.Archive, opts Options, lastSeq uint64) (*Result, error) {
	if lastSeq == 0 {
		return Run(ctx, a, opts)
	}
	prev := opts.Progress
	var last uint64
	opts.Progress = func(seq, slot uint64) {
		last = seq
		if prev != nil {
			prev(seq, slot)
		}
	}
	cctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	guard := pipeline.SinkFunc(func(b pipeline.Batch) error {
		if b.Seq > lastSeq {
			return errCovered
		}
		return nil
	})
	opts.Sinks = append([]pipeline.Sink{guard}, opts.Sinks...)
	res, err := Run(cctx, a, opts)
	if errors.Is(err, errCovered) {
		return &Result{LastSeq: last}, nil
	}
	return res, err
}
