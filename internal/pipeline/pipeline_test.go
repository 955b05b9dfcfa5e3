package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/hyperstack-go/hyperstack/internal/event"
	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
	"github.com/hyperstack-go/hyperstack/internal/sim"
	"github.com/hyperstack-go/hyperstack/internal/stack"
	"github.com/hyperstack-go/hyperstack/internal/vm"
)

func demoProgram(t testing.TB) *vm.Program {
	t.Helper()
	spec, err := stack.Load("../../fixtures/stacks/spl-token.stack.json")
	require.NoError(t, err)
	prog, err := vm.Compile(spec)
	require.NoError(t, err)
	return prog
}

// lineSink writes every mutation to out as "seq json" lines.
func lineSink(out *bytes.Buffer) Sink {
	return SinkFunc(func(b Batch) error {
		for _, m := range b.Mutations {
			line, err := json.Marshal(m)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "%d %s\n", b.Seq, line)
		}
		return nil
	})
}

// runDemo runs slots of the spl-token simulator through a fresh pipeline and returns every
// mutation as a JSON line.
func runDemo(t *testing.T, slots uint64) ([]byte, Stats) {
	t.Helper()
	var out bytes.Buffer
	p, err := New(Config{Program: demoProgram(t), Sinks: []Sink{lineSink(&out)}})
	require.NoError(t, err)
	s, err := sim.New("spl-token", 7, sim.Options{Slots: slots})
	require.NoError(t, err)
	require.NoError(t, RunSim(context.Background(), s, p, 0, nil))
	return out.Bytes(), p.Stats()
}

func TestDemoStackProducesMutations(t *testing.T) {
	out, st := runDemo(t, 20)
	require.NotZero(t, st.Updates)
	require.NotZero(t, st.Events)
	require.NotZero(t, st.Mutations)
	require.Zero(t, st.BadUpdates)
	require.Zero(t, st.VM.Undecodable, "every simulated SPL Token account and instruction decodes")
	require.Zero(t, st.HandlerErrors)
	require.Contains(t, string(out), `"entity":"TokenAccount"`)
	require.Contains(t, string(out), `"entity":"Mint"`)
}

func TestDeterministic(t *testing.T) {
	a, _ := runDemo(t, 15)
	b, _ := runDemo(t, 15)
	require.Equal(t, a, b)
}

func TestFeedExtractedOnAnotherGoroutineMatchesFeedMessage(t *testing.T) {
	want, _ := runDemo(t, 15)

	var out bytes.Buffer
	p, err := New(Config{Program: demoProgram(t), Sinks: []Sink{lineSink(&out)}})
	require.NoError(t, err)
	s, err := sim.New("spl-token", 7, sim.Options{Slots: 15})
	require.NoError(t, err)
	type extracted struct {
		seq  uint64
		msg  *geyserpb.SubscribeUpdate
		evs  []event.Event
		xerr error
	}
	ch := make(chan extracted, 64)
	ex := p.Extractor()
	go func() {
		defer close(ch)
		var seq uint64
		_ = s.Run(context.Background(), sim.RunOptions{}, func(_ *geyserpb.SubscribeUpdate, raw []byte) error {
			seq++
			msg := new(geyserpb.SubscribeUpdate) // the simulator reuses its message; extract from a copy
			if err := proto.Unmarshal(raw, msg); err != nil {
				return err
			}
			evs, xerr := ex.Update(msg, seq, nil)
			ch <- extracted{seq, msg, evs, xerr}
			return nil
		})
	}()
	for e := range ch {
		require.NoError(t, p.FeedExtracted(e.seq, e.msg, e.evs, e.xerr))
	}
	require.NotEmpty(t, want)
	require.Equal(t, string(want), out.String())
}

func TestSinkErrorStops(t *testing.T) {
	boom := errors.New("sink full")
	p, err := New(Config{Program: demoProgram(t), Sinks: []Sink{SinkFunc(func(Batch) error { return boom })}})
	require.NoError(t, err)
	s, err := sim.New("spl-token", 1, sim.Options{Slots: 50})
	require.NoError(t, err)
	require.ErrorIs(t, RunSim(context.Background(), s, p, 0, nil), boom)
}

func TestBadUpdateIsCountedAndSkipped(t *testing.T) {
	p, err := New(Config{Program: demoProgram(t)})
	require.NoError(t, err)
	require.NoError(t, p.Feed(1, []byte{0xff, 0xff, 0xff}))
	require.Equal(t, uint64(1), p.Stats().BadUpdates)
}

func TestNeedsProgram(t *testing.T) {
	_, err := New(Config{})
	require.ErrorIs(t, err, ErrNoProgram)
}
