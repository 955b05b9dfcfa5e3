package command

import (
	"context"

	"github.com/charmbracelet/log"

	"github.com/hyperstack-go/hyperstack/internal/archive"
	"github.com/hyperstack-go/hyperstack/internal/record"
	"github.com/hyperstack-go/hyperstack/internal/replay"
	"github.com/hyperstack-go/hyperstack/internal/source"
	"github.com/hyperstack-go/hyperstack/internal/stack"
	"github.com/hyperstack-go/hyperstack/internal/vm"
)

// recordStack is the stack of `record --stack`, whose golden is computed while recording; the zero
// value (no --stack) does nothing.
type recordStack struct {
	path string
	spec *stack.Spec
	prog *vm.Program
}

func (o *recordOptions) loadStack() (recordStack, error) {
	if o.Stack == "" {
		return recordStack{}, nil
	}
	spec, prog, err := loadStack(o.Stack)
	if err != nil {
		return recordStack{}, err
	}
	return recordStack{path: o.Stack, spec: spec, prog: prog}, nil
}

// startLive starts the live golden (replaying what a resumed archive already holds) and hooks it
// to the recorder.
func (s recordStack) startLive(ctx context.Context, a *archive.Archive, rec *record.Recorder, logger *log.Logger) (*replay.Live, error) {
	if s.spec == nil {
		return nil, nil
	}
	live, err := replay.StartLive(ctx, a, replay.LiveConfig{Spec: s.spec, Program: s.prog, Logger: logger})
	if err != nil {
		return nil, err
	}
	rec.AfterAppend = func(w *archive.Writer, seq uint64, u *source.Update) error {
		return live.Append(w, seq, u.Raw)
	}
	logger.Info("computing the stack's golden while recording", "stack", s.path, "stack_hash", replay.ShortHash(s.spec.ContentHash()))
	return live, nil
}

func (s recordStack) closeLive(live *replay.Live, logger *log.Logger) error {
	if live == nil {
		return nil
	}
	if err := live.Close(); err != nil {
		return err
	}
	logGolden(logger, live.Info())
	return nil
}

// importGolden stores the golden of an imported capture (the same a live recording computes).
func (s recordStack) importGolden(ctx context.Context, a *archive.Archive, logger *log.Logger) error {
	if s.spec == nil {
		return nil
	}
	res, err := replay.Run(ctx, a, replay.Options{Spec: s.spec, Program: s.prog, WriteGolden: true, Logger: logger})
	if err != nil {
		return err
	}
	logGolden(logger, *res.Golden)
	return nil
}

func logGolden(logger *log.Logger, in replay.Info) {
	logger.Info("golden stored", "stack_hash", in.StackHash, "updates", in.Updates, "records", in.Records,
		"digest", replay.ShortHash(in.Digest))
}
