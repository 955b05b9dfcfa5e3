package replay

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/charmbracelet/log"
	"google.golang.org/protobuf/proto"

	"github.com/hyperstack-go/hyperstack/internal/archive"
	"github.com/hyperstack-go/hyperstack/internal/event"
	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
	"github.com/hyperstack-go/hyperstack/internal/pipeline"
	"github.com/hyperstack-go/hyperstack/internal/stack"
	"github.com/hyperstack-go/hyperstack/internal/vm"
)

// BatchGCPercent is the garbage collector setting `hyperstack replay` runs with (unless GOGC is set):
// a replay allocates quickly (decoded accounts, patches) over a small live heap, and collecting at
// five times the live heap instead of twice saves about a quarter of its CPU time. The replay
// benchmarks run with it too.
const BatchGCPercent = 400

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
	err = feedArchive(ctx, a, opts.FromSlot, opts.ToSlot, opts.ToSeq, p, func(seq, slot uint64, hasSlot bool) {
		res.Updates++
		res.LastSeq = seq
		if hasSlot && slot > res.LastSlot {
			res.LastSlot = slot
		}
		if opts.Progress != nil {
			opts.Progress(seq, slot)
		}
	})
	if bw != nil {
		if ferr := bw.Flush(); err == nil && ferr != nil {
			err = fmt.Errorf("write output: %w", ferr)
		}
	}
	if err != nil {
		if gw != nil {
			_ = gw.wait() // no write outlives the run; the golden stays incomplete (no info)
		}
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

// readAhead is how many decoded updates the reading goroutine may be ahead of the VM, in batches of
// readBatch.
const (
	readBatch = 256
	readAhead = 8
)

// fed is one update read and decoded ahead of the pipeline.
type fed struct {
	seq, slot uint64
	hasSlot   bool
	msg       *geyserpb.SubscribeUpdate
	uerr      error // the bytes were no SubscribeUpdate; msg holds nothing
	evs       []event.Event
	xerr      error // extraction failed
}

// feedArchive feeds the updates of the slot range (up to toSeq, 0 = no bound) to p in archive order.
// Reading the archive, decoding the protobuf and extracting the events run on a second goroutine,
// ahead of the pipeline's VM, which runs on the caller's; the order, and so the output, is the same as
// feeding one by one.
// after is called on the caller's goroutine after each update is fed.
func feedArchive(ctx context.Context, a *archive.Archive, fromSlot, toSlot, toSeq uint64, p *pipeline.Pipeline,
	after func(seq, slot uint64, hasSlot bool)) error {
	if toSlot == 0 {
		toSlot = math.MaxUint64
	}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	full := make(chan []fed, readAhead)
	free := make(chan []fed, readAhead+2)
	for range readAhead + 2 {
		free <- make([]fed, 0, readBatch)
	}
	readErr := make(chan error, 1)
	ex := p.Extractor()
	go func() {
		defer close(full)
		var cur []fed
		take := func() bool {
			select {
			case cur = <-free:
				cur = cur[:0]
				return true
			case <-rctx.Done():
				return false
			}
		}
		if !take() {
			readErr <- rctx.Err()
			return
		}
		err := a.ScanBorrowed(rctx, fromSlot, toSlot, func(u archive.Update) error {
			if toSeq != 0 && u.Seq > toSeq {
				return errStop
			}
			cur = cur[:len(cur)+1]
			f := &cur[len(cur)-1]
			if f.msg == nil {
				f.msg = new(geyserpb.SubscribeUpdate)
			}
			f.msg.Reset()
			f.seq, f.slot, f.hasSlot = u.Seq, u.Slot, u.HasSlot
			// Unmarshal copies what it keeps, so the borrowed bytes are not needed after it.
			// Extraction runs here, beside the read, so the pipeline's goroutine only runs the VM.
			if f.uerr = proto.Unmarshal(u.Raw, f.msg); f.uerr == nil {
				f.evs, f.xerr = ex.Update(f.msg, u.Seq, f.evs[:0])
			}
			if len(cur) == cap(cur) {
				select {
				case full <- cur:
				case <-rctx.Done():
					return rctx.Err()
				}
				if !take() {
					return rctx.Err()
				}
			}
			return nil
		})
		if errors.Is(err, errStop) {
			err = nil
		}
		if err == nil && len(cur) > 0 {
			select {
			case full <- cur:
			case <-rctx.Done():
				err = rctx.Err()
			}
		}
		readErr <- err
	}()
	var err error
	for batch := range full {
		if err == nil {
			for i := range batch {
				f := &batch[i]
				if f.uerr != nil {
					p.SkipUndecodable(f.seq, f.uerr)
				} else if err = p.FeedExtracted(f.seq, f.msg, f.evs, f.xerr); err != nil {
					cancel()
					break
				}
				after(f.seq, f.slot, f.hasSlot)
			}
		}
		free <- batch
	}
	rerr := <-readErr
	if err != nil {
		return err
	}
	return rerr
}
