package replay

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/charmbracelet/log"

	"github.com/hyperstack-go/hyperstack/internal/archive"
	"github.com/hyperstack-go/hyperstack/internal/pipeline"
	"github.com/hyperstack-go/hyperstack/internal/stack"
	"github.com/hyperstack-go/hyperstack/internal/vm"
)

// Options configure a replay.
type Options struct {
	// Spec and Program are the stack (Program compiled from Spec). Required.
	Spec    *stack.Spec
	Program *vm.Program
	// FromSlot and ToSlot bound the slots replayed (inclusive); ToSlot 0 means the end.
	FromSlot, ToSlot uint64
	// ToSeq stops the replay after the update with this sequence number; 0 means no bound.
	ToSeq uint64
	// VM configures the Machine; nil means defaults. Its Resolvers are consulted after the recorded
	// answers (see AnswersFrom).
	VM *vm.Config
	// AnswersFrom is the stack hash whose recorded resolver answers feed the run; empty means the
	// stack's own content hash.
	AnswersFrom string
	// Out receives the JSON lines (buffered here); nil writes none.
	Out io.Writer
	// WriteGolden stores the run as the golden of the stack's content hash (the archive must be open
	// for writing).
	WriteGolden bool
	// Progress, when set, is called after every update with its sequence number and slot.
	Progress func(seq, slot uint64)
	// Sinks are extra pipeline sinks, called before the output and golden sinks.
	Sinks  []pipeline.Sink
	Logger *log.Logger
}

// Result summarises a replay.
type Result struct {
	// Updates is the number of archive updates fed; LastSeq and LastSlot the sequence number and
	// highest slot among them.
	Updates  uint64
	LastSeq  uint64
	LastSlot uint64
	// Mutations is the number of mutations produced.
	Mutations uint64
	Pipeline  pipeline.Stats
	// Golden is the stored golden's metadata (WriteGolden only).
	Golden *Info
}

// recordedResolvers answers first from recorded answers, then from the fallback.
type recordedResolvers struct {
	answers  map[string][]byte
	fallback vm.Resolvers
}

func (r recordedResolvers) Resolve(kind vm.ResolverKind, key string) ([]byte, bool) {
	if a, ok := r.answers[string(kind)+"\x00"+key]; ok {
		return a, true
	}
	if r.fallback != nil {
		return r.fallback.Resolve(kind, key)
	}
	return nil, false
}

// lineWriter is the JSON-lines sink.
type lineWriter struct {
	w   io.Writer
	buf []byte
}

func (l *lineWriter) Apply(b pipeline.Batch) error {
	l.buf = l.buf[:0]
	for i := range b.Mutations {
		l.buf = AppendLine(l.buf, &b.Mutations[i])
	}
	_, err := l.w.Write(l.buf)
	return err
}

var errStop = errors.New("replay bound reached")

// Run replays the archive through the stack: every update in the slot range (and up to ToSeq), in
// archive order, through the same pipeline serve uses.
func Run(ctx context.Context, a *archive.Archive, opts Options) (*Result, error) {
	if opts.Spec == nil || opts.Program == nil {
		return nil, pipeline.ErrNoProgram
	}
	hash := opts.Spec.ContentHash()
	answersFrom := opts.AnswersFrom
	if answersFrom == "" {
		answersFrom = hash
	}
	sinks := append([]pipeline.Sink(nil), opts.Sinks...)
	var bw *bufio.Writer
	if opts.Out != nil {
		bw = bufio.NewWriterSize(opts.Out, 256<<10)
		sinks = append(sinks, &lineWriter{w: bw})
	}
	// Answers are read before a new golden replaces the stored ones.
	answers, err := Answers(ctx, a, answersFrom)
	if err != nil {
		return nil, err
	}
	var gw *GoldenWriter
	if opts.WriteGolden {
		if a.ReadOnly() {
			return nil, fmt.Errorf("write golden: %w", archive.ErrReadOnly)
		}
		gw, err = NewGoldenWriter(a, Info{StackHash: hash, StackName: opts.Spec.StackName,
			FromSlot: opts.FromSlot, ToSlot: opts.ToSlot})
		if err != nil {
			return nil, err
		}
		sinks = append(sinks, gw)
	}
	p, err := newPipelineWith(answers, opts.Program, opts.VM, gw, sinks, opts.Logger)
	if err != nil {
		return nil, err
	}
	res := &Result{}
	to := opts.ToSlot
	if to == 0 {
		to = math.MaxUint64
	}
	err = a.Scan(ctx, opts.FromSlot, to, func(u archive.Update) error {
		if opts.ToSeq != 0 && u.Seq > opts.ToSeq {
			return errStop
		}
		if err := p.Feed(u.Seq, u.Raw); err != nil {
			return err
		}
		res.Updates++
		res.LastSeq = u.Seq
		if u.HasSlot && u.Slot > res.LastSlot {
			res.LastSlot = u.Slot
		}
		if opts.Progress != nil {
			opts.Progress(u.Seq, u.Slot)
		}
		return nil
	})
	if errors.Is(err, errStop) {
		err = nil
	}
	if bw != nil {
		if ferr := bw.Flush(); err == nil && ferr != nil {
			err = fmt.Errorf("write output: %w", ferr)
		}
	}
	if err != nil {
		return nil, err
	}
	res.Pipeline = p.Stats()
	res.Mutations = res.Pipeline.Mutations
	if gw != nil {
		gw.Covered(res.Updates, res.LastSeq)
		if err := gw.Close(); err != nil {
			return nil, err
		}
		info := gw.Info()
		res.Golden = &info
	}
	return res, nil
}

// newPipelineWith builds the pipeline of a run: the recorded answers first, then the configured
// resolvers; gw (optional) records the answers the run uses.
func newPipelineWith(answers map[string][]byte, prog *vm.Program, cfg *vm.Config, gw *GoldenWriter,
	sinks []pipeline.Sink, logger *log.Logger) (*pipeline.Pipeline, error) {
	vmCfg := vm.Config{}
	if cfg != nil {
		vmCfg = *cfg
	}
	vmCfg.Resolvers = recordedResolvers{answers: answers, fallback: vmCfg.Resolvers}
	if gw != nil {
		prev := vmCfg.OnResolve
		vmCfg.OnResolve = func(kind, key string, answer []byte) {
			gw.OnResolve(kind, key, answer)
			if prev != nil {
				prev(kind, key, answer)
			}
		}
	}
	return pipeline.New(pipeline.Config{Program: prog, VM: &vmCfg, Sinks: sinks, Logger: logger})
}

// ShortHash abbreviates a content hash or digest for messages.
func ShortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
