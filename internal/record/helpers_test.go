package record_test

import (
	"context"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/hyperstack-go/hyperstack/fixtures/fixturestest"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/hyperstack-go/hyperstack/internal/archive"
	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
	"github.com/hyperstack-go/hyperstack/internal/record"
	"github.com/hyperstack-go/hyperstack/internal/solana"
	"github.com/hyperstack-go/hyperstack/internal/source"
	"github.com/hyperstack-go/hyperstack/internal/source/geysertest"
)

var (
	ownerA = geysertest.Key(1000)
	ownerB = geysertest.Key(2000)
)

// streamFor returns the updates of slots [from, to): per slot, perSlot accounts owned by ownerA, one
// owned by ownerB (filtered out by the recorder's subscription) and a PROCESSED slot status.
func streamFor(from, to uint64, perSlot int) []*geyserpb.SubscribeUpdate {
	var out []*geyserpb.SubscribeUpdate
	for s := from; s < to; s++ {
		for i := range perSlot {
			out = append(out, geysertest.Account(s, geysertest.Key(i), ownerA, 1000+s, []byte{byte(s), byte(i)}, s*100+uint64(i)))
		}
		out = append(out, geysertest.Account(s, geysertest.Key(500), ownerB, 1, []byte{9}, s*100+99))
		out = append(out, geysertest.Slot(s, geyserpb.SlotStatus_SLOT_PROCESSED))
	}
	return out
}

// wanted keeps the updates the recorder's filter selects.
func wanted(us []*geyserpb.SubscribeUpdate) []*geyserpb.SubscribeUpdate {
	var out []*geyserpb.SubscribeUpdate
	for _, u := range us {
		if a := u.GetAccount(); a != nil && solana.Pubkey(a.GetAccount().GetOwner()) != ownerA {
			continue
		}
		out = append(out, u)
	}
	return out
}

func dedupKeys(t *testing.T, us []*geyserpb.SubscribeUpdate) []string {
	t.Helper()
	keys := make([]string, len(us))
	for i, u := range us {
		raw, err := proto.Marshal(u)
		require.NoError(t, err)
		k, ok := source.DedupKeyOf(raw)
		require.True(t, ok)
		keys[i] = k
	}
	return keys
}

// archivedKeys returns the dedup keys of the archive's updates in sequence order (pings skipped),
// checking that sequence numbers run 1..N without holes.
func archivedKeys(t *testing.T, path string) []string {
	t.Helper()
	a, err := archive.Open(path, &archive.Options{ReadOnly: true})
	require.NoError(t, err)
	defer a.Close()
	var keys []string
	var next uint64 = 1
	require.NoError(t, a.Scan(context.Background(), 0, math.MaxUint64, func(u archive.Update) error {
		require.Equal(t, next, u.Seq, "sequence numbers have no holes")
		next++
		if u.Kind == geyserpb.KindPing {
			return nil
		}
		k, ok := source.DedupKeyOf(u.Raw)
		require.True(t, ok)
		keys = append(keys, k)
		return nil
	}))
	return keys
}

type recording struct {
	rec     *record.Recorder
	arch    *archive.Archive
	commits chan archive.Checkpoint
	cancel  context.CancelFunc
	done    chan error
}

func newArchive(t *testing.T) string {
	return filepath.Join(t.TempDir(), "rec.archive")
}

// startRecording opens (or creates) the archive at path and records from ts until stopped.
func startRecording(t *testing.T, ts *geysertest.Server, path, token string, opts *archive.Options) *recording {
	t.Helper()
	meta := archive.Meta{Source: archive.Source{Kind: archive.SourceYellowstone, Endpoint: ts.Endpoint, Commitment: "processed"}}
	a, _, err := archive.OpenOrCreate(path, meta, opts)
	require.NoError(t, err)
	r := &recording{arch: a, commits: make(chan archive.Checkpoint, 10000), done: make(chan error, 1)}
	r.rec = &record.Recorder{Archive: a, Writer: archive.WriterConfig{BatchSize: 64, BatchInterval: 2 * time.Millisecond,
		OnCommit: func(cp archive.Checkpoint) { r.commits <- cp }}}
	src, err := source.New(source.Config{
		Endpoint:   ts.Endpoint,
		XToken:     token,
		Commitment: "processed",
		Filters:    source.Filters{AccountOwners: []string{ownerA.String()}, Slots: true},
		ResumeSlot: r.rec.ResumeSlot,
		Seen:       r.rec.Seen,
		Backoff:    source.Backoff{Initial: time.Millisecond, Max: 20 * time.Millisecond},
	})
	require.NoError(t, err)
	r.rec.Source = src
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- r.rec.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		_ = a.Close()
	})
	return r
}

// waitDurable blocks until the archive's durable sequence reaches n or the recorder stops.
func (r *recording) waitDurable(t *testing.T, n uint64) {
	t.Helper()
	for {
		select {
		case cp := <-r.commits:
			if cp.Seq >= n {
				return
			}
		case err := <-r.done:
			r.done <- err
			t.Fatalf("recorder stopped before seq %d: %v", n, err)
		}
	}
}

// stop cancels the recording, checks that it ended cleanly and closes the archive.
func (r *recording) stop(t *testing.T) {
	t.Helper()
	r.cancel()
	require.NoError(t, <-r.done)
	require.NoError(t, r.arch.Close())
}

var fixturePath = fixturestest.Shared
