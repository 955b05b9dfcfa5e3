package replay

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/hyperstack-go/hyperstack/internal/archive"
	"github.com/hyperstack-go/hyperstack/internal/pipeline"
)

// Divergence is the first place where a replay differs from a golden.
type Divergence struct {
	// Seq and Slot locate the archive update whose output differs.
	Seq  uint64 `json:"seq"`
	Slot uint64 `json:"slot"`
	// Entity and Key name the first mutation that differs.
	Entity string          `json:"entity"`
	Key    json.RawMessage `json:"key"`
	// Expected and Actual are that update's mutations in the golden and in the replay.
	Expected []Line `json:"expected"`
	Actual   []Line `json:"actual"`
}

// Report renders the divergence for people: where, then a path-by-path diff of the patches.
func (d *Divergence) Report() string {
	var b strings.Builder
	fmt.Fprintf(&b, "first divergence at slot %d (archive update %d): %s %s\n", d.Slot, d.Seq, d.Entity, string(d.Key))
	exp := pickLine(d.Expected, d.Entity, d.Key)
	act := pickLine(d.Actual, d.Entity, d.Key)
	switch {
	case exp == nil && act == nil:
	case exp == nil:
		fmt.Fprintf(&b, "  expected: no mutation of %s %s in this update\n  actual patch: %s\n", d.Entity, d.Key, string(act.Patch))
	case act == nil:
		fmt.Fprintf(&b, "  expected patch: %s\n  actual: no mutation of %s %s in this update\n", string(exp.Patch), d.Entity, d.Key)
	default:
		for _, ln := range DiffPatches(exp.Patch, act.Patch) {
			b.WriteString("  " + ln + "\n")
		}
		if !slices.Equal(exp.Append, act.Append) {
			fmt.Fprintf(&b, "  - append %v\n  + append %v\n", exp.Append, act.Append)
		}
		if exp.Handler != act.Handler {
			fmt.Fprintf(&b, "  - handler %s\n  + handler %s\n", exp.Handler, act.Handler)
		}
		if exp.Seq != act.Seq {
			fmt.Fprintf(&b, "  - mutation seq %d\n  + mutation seq %d\n", exp.Seq, act.Seq)
		}
	}
	fmt.Fprintf(&b, "  (%d expected and %d actual mutations in this update)\n", len(d.Expected), len(d.Actual))
	return b.String()
}

// pickLine returns the first line of entity and key, preferring one that differs from its
// counterpart (see Verify, which names the first differing line).
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
	paths := make([]string, 0, len(e)+len(a))
	for k := range e {
		paths = append(paths, k)
	}
	for k := range a {
		if _, ok := e[k]; !ok {
			paths = append(paths, k)
		}
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
	if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] == '{' && json.Unmarshal(t, &obj) == nil && len(obj) > 0 {
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
	// Options is the replay; its slot range, ToSeq, WriteGolden and AnswersFrom are set by Verify
	// (the golden's range, and the golden's recorded answers).
	Options
	// GoldenHash selects the golden to compare with; empty means the stack's own content hash.
	GoldenHash string
}

// VerifyResult is the outcome of a verification.
type VerifyResult struct {
	// Golden is the golden compared with.
	Golden Info
	// Compared is the number of golden records matched before the end or the divergence.
	Compared uint64
	// Digest is the chain digest of the replay's output over the records compared (hex); equal to
	// Golden.Digest when the output is identical.
	Digest string
	// Divergence is nil when the output is identical.
	Divergence *Divergence
	// Result is the replay's summary (nil after a divergence, which stops the replay).
	Result *Result
}

var errDiverged = errors.New("diverged")

// Verify replays the golden's range with the stack and compares the output record by record with
// the golden. A nil Divergence means the output is byte-identical. Errors: ErrNoGoldens,
// *NoGoldenError, ErrCorruptGolden (a stored digest that does not match its record).
func Verify(ctx context.Context, a *archive.Archive, opts VerifyOptions) (*VerifyResult, error) {
	if opts.Spec == nil || opts.Program == nil {
		return nil, pipeline.ErrNoProgram
	}
	hash := opts.GoldenHash
	if hash == "" {
		hash = opts.Spec.ContentHash()
	}
	g, err := OpenGolden(a, hash)
	if err != nil {
		return nil, err
	}
	vr := &VerifyResult{Golden: g.Info}

	// The golden streams from its own goroutine while the replay runs on this one.
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	recs := make(chan Record, 256)
	readErr := make(chan error, 1)
	go func() {
		defer close(recs)
		readErr <- g.Records(rctx, 0, 0, func(r Record) error {
			select {
			case recs <- r:
				return nil
			case <-rctx.Done():
				return rctx.Err()
			}
		})
	}()
	var (
		cur     Record
		have    bool
		drained bool
	)
	peek := func() bool {
		if !have && !drained {
			cur, have = <-recs
			drained = !have
		}
		return have
	}
	var (
		buf   []byte
		prev  [32]byte
		chain = newChainer()
	)
	diverge := func(seq, slot uint64, exp, act []byte) error {
		d := &Divergence{Seq: seq, Slot: slot}
		var err error
		if d.Expected, err = ParseLines(exp); err != nil {
			return fmt.Errorf("%w: record %d: %v", ErrCorruptGolden, seq, err)
		}
		if d.Actual, err = ParseLines(act); err != nil {
			return err
		}
		for i := 0; i < len(d.Expected) || i < len(d.Actual); i++ {
			var l *Line
			switch {
			case i >= len(d.Expected):
				l = &d.Actual[i]
			case i >= len(d.Actual):
				l = &d.Expected[i]
			case !lineEqual(&d.Expected[i], &d.Actual[i]):
				l = &d.Expected[i]
				if d.Actual[i].Entity != l.Entity || !bytes.Equal(d.Actual[i].Key, l.Key) {
					// Different entities at this position: name the expected one unless the
					// actual output has it elsewhere in the update, unchanged.
					if o := pickLine(d.Actual, l.Entity, l.Key); o != nil && lineEqual(o, l) {
						l = &d.Actual[i]
					}
				}
			default:
				continue
			}
			d.Entity, d.Key = l.Entity, l.Key
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
		if !peek() || cur.Seq > b.Seq {
			return diverge(b.Seq, b.Slot, nil, buf)
		}
		if cur.Seq < b.Seq {
			return diverge(cur.Seq, cur.Slot, cur.Lines, nil)
		}
		have = false
		if !bytes.Equal(cur.Lines, buf) {
			return diverge(cur.Seq, cur.Slot, cur.Lines, buf)
		}
		prev = chain.next(prev, b.Seq, b.Slot, buf)
		if prev != cur.Digest {
			return fmt.Errorf("%w: the stored digest of record %d does not match its lines", ErrCorruptGolden, cur.Seq)
		}
		vr.Compared++
		return nil
	})
	ro := opts.Options
	ro.FromSlot, ro.ToSlot, ro.ToSeq = g.Info.FromSlot, g.Info.ToSlot, g.Info.LastSeq
	ro.WriteGolden = false
	ro.AnswersFrom = hash
	ro.Sinks = append(append([]pipeline.Sink(nil), ro.Sinks...), cmp)
	res, err := Run(ctx, a, ro)
	switch {
	case errors.Is(err, errDiverged):
	case err != nil:
		return nil, err
	default:
		vr.Result = res
		if peek() {
			_ = diverge(cur.Seq, cur.Slot, cur.Lines, nil)
		}
	}
	cancel()
	for range recs { // let the reader finish
	}
	if rerr := <-readErr; rerr != nil && !errors.Is(rerr, context.Canceled) {
		return nil, fmt.Errorf("read golden: %w", rerr)
	}
	vr.Digest = hex.EncodeToString(prev[:])
	if vr.Divergence == nil && vr.Digest != g.Info.Digest {
		return nil, fmt.Errorf("%w: every record matches but the final digest %s is not the golden's %s",
			ErrCorruptGolden, ShortHash(vr.Digest), ShortHash(g.Info.Digest))
	}
	return vr, nil
}

func lineEqual(a, b *Line) bool {
	return a.Slot == b.Slot && a.Seq == b.Seq && a.Entity == b.Entity && bytes.Equal(a.Key, b.Key) &&
		bytes.Equal(a.Patch, b.Patch) && slices.Equal(a.Append, b.Append) && a.Handler == b.Handler
}
