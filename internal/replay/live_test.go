package replay

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/hyperstack-go/hyperstack/internal/archive"
	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
	"github.com/hyperstack-go/hyperstack/internal/sim"
)

// recordLive appends up to n updates of s to a (as a recorder does) with a live golden of the demo
// stack; closeLive=false leaves the golden as a crash would (no final info).
func recordLive(t *testing.T, a *archive.Archive, s *sim.Sim, n int, closeLive bool) (appended int) {
	t.Helper()
	spec, prog := demoStack(t)
	ctx := context.Background()
	live, err := StartLive(ctx, a, LiveConfig{Spec: spec, Program: prog})
	require.NoError(t, err)
	w, err := a.NewWriter(archive.WriterConfig{BatchSize: 97})
	require.NoError(t, err)
	mo := proto.MarshalOptions{Deterministic: true}
	for appended < n {
		u, err := s.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		raw, err := mo.Marshal(u)
		require.NoError(t, err)
		slot, has := geyserpb.SlotOf(u)
		seq, err := w.Append(archive.Incoming{Raw: raw, Kind: geyserpb.KindOf(u), Slot: slot, HasSlot: has})
		require.NoError(t, err)
		require.NoError(t, live.Append(w, seq, raw))
		appended++
	}
	require.NoError(t, w.Close())
	if closeLive {
		require.NoError(t, live.Close())
	}
	return appended
}

func TestLiveGoldenVerifiesAcrossResumeAndCrash(t *testing.T) {
	spec, prog := demoStack(t)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "live.archive")
	a, err := archive.Create(path, archive.Meta{Source: archive.Source{Kind: archive.SourceImport}}, &archive.Options{NoSync: true})
	require.NoError(t, err)
	defer a.Close()
	s, err := sim.New(sim.ScenarioSPLToken, 21, sim.Options{Slots: 60})
	require.NoError(t, err)

	// A first session stops without closing the golden (as a crash would), a second one resumes,
	// a third one runs to the end.
	require.Equal(t, 1500, recordLive(t, a, s, 1500, false))
	g, err := OpenGolden(a, spec.ContentHash())
	require.NoError(t, err)
	require.True(t, g.Info.Live)
	require.NotZero(t, g.Info.Records)
	require.LessOrEqual(t, g.Info.LastSeq, uint64(1500))
	vr, err := Verify(ctx, a, VerifyOptions{Options: Options{Spec: spec, Program: prog}})
	require.NoError(t, err)
	require.Nil(t, vr.Divergence, "the records committed so far verify")

	require.Equal(t, 2000, recordLive(t, a, s, 2000, true))
	recordLive(t, a, s, 1<<30, true)
	cp, err := a.Checkpoint()
	require.NoError(t, err)

	g, err = OpenGolden(a, spec.ContentHash())
	require.NoError(t, err)
	require.Equal(t, cp.Seq, g.Info.LastSeq)
	require.Equal(t, cp.Seq, g.Info.Updates)
	vr, err = Verify(ctx, a, VerifyOptions{Options: Options{Spec: spec, Program: prog}})
	require.NoError(t, err)
	require.Nil(t, vr.Divergence, "replay reproduces what was computed live")
	require.Equal(t, g.Info.Records, vr.Compared)
	require.Equal(t, g.Info.Digest, vr.Digest)

	// And a batch golden written by replay has the same digest.
	_, res := replayBytes(t, a, Options{Spec: spec, Program: prog, WriteGolden: true})
	require.Equal(t, g.Info.Digest, res.Golden.Digest)
	require.Equal(t, g.Info.Records, res.Golden.Records)
}
