package replay

import (
	"context"
	"fmt"
	"io"

	"github.com/charmbracelet/log"

	"github.com/hyperstack-go/hyperstack/internal/archive"
	"github.com/hyperstack-go/hyperstack/internal/pipeline"
	"github.com/hyperstack-go/hyperstack/internal/stack"
	"github.com/hyperstack-go/hyperstack/internal/vm"
)

// Options configure a replay.
type Options struct {
	// Spec and Program are the stack (Program compiled from Spec).
	Spec    *stack.Spec
	Program *vm.Program
	// FromSlot and ToSlot bound the slots replayed (inclusive); ToSlot 0 means the end.
	FromSlot, ToSlot uint64
	// VM configures the Machine; nil means defaults. Its Resolvers are consulted after the answers
	// recorded with the stack's golden.
	VM *vm.Config
	// Out receives the JSON lines; nil writes none.
	Out io.Writer
	// WriteGolden stores the run as the golden of the stack's content hash.
	WriteGolden bool
	// Progress, when set, is called after every update with its sequence number and slot.
	Progress func(seq, slot uint64)
	// Sinks are extra pipeline sinks (e.g. a WebSocket server).
	Sinks  []pipeline.Sink
	Logger *log.Logger
}

// Result summarises a replay.
type Result struct {
	Updates   uint64
	Mutations uint64
	LastSeq   uint64
	LastSlot  uint64
	Pipeline  pipeline.Stats
	Golden    *Info
}

// recordedResolvers answers first from a golden's recorded answers, then from the fallback.
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

// Run replays the archive through the stack.
func Run(ctx context.Context, a *archive.Archive, opts Options) (*Result, error) {
	hash := opts.Spec.ContentHash()
	answers, err := Answers(ctx, a, hash)
	if err != nil {
		return nil, err
	}
	vmCfg := vm.Config{}
	if opts.VM != nil {
		vmCfg = *opts.VM
	}
	vmCfg.Resolvers = recordedResolvers{answers: answers, fallback: vmCfg.Resolvers}

	sinks := append([]pipeline.Sink(nil), opts.Sinks...)
	if opts.Out != nil {
		sinks = append(sinks, &lineWriter{w: opts.Out})
	}
	var gw *GoldenWriter
	if opts.WriteGolden {
		if a.ReadOnly() {
			return nil, fmt.Errorf("--write-golden needs the archive opened for writing")
		}
		gw, err = NewGoldenWriter(a, Info{StackHash: hash, StackName: opts.Spec.StackName, FromSlot: opts.FromSlot, ToSlot: opts.ToSlot})
		if err != nil {
			return nil, err
		}
		sinks = append(sinks, gw)
		prev := vmCfg.OnResolve
		vmCfg.OnResolve = func(kind, key string, answer []byte) {
			gw.OnResolve(kind, key, answer)
			if prev != nil {
				prev(kind, key, answer)
			}
		}
	}
	p, err := pipeline.New(pipeline.Config{Program: opts.Program, VM: &vmCfg, Sinks: sinks, Logger: opts.Logger})
	if err != nil {
		return nil, err
	}
	res := &Result{}
	err = pipeline.RunArchive(ctx, a, p, pipeline.ArchiveOptions{
		FromSlot: opts.FromSlot, ToSlot: opts.ToSlot,
		OnUpdate: func(u archive.Update) {
			res.Updates++
			res.LastSeq = u.Seq
			if u.HasSlot {
				res.LastSlot = u.Slot
			}
			if opts.Progress != nil {
				opts.Progress(u.Seq, u.Slot)
			}
		},
	})
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

// ShortHash abbreviates a content hash for messages.
func ShortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
