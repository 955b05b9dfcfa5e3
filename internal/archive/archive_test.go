package archive_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

	"github.com/hyperstack-go/hyperstack/internal/archive"
	"github.com/hyperstack-go/hyperstack/internal/archive/archivetest"
	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
)

func fileHash(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return sha256.Sum256(b)
}

func TestCreateOpenRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.archive")
	meta := archive.Meta{
		CreatedAt: time.Date(2026, 2, 5, 10, 0, 0, 0, time.UTC),
		CreatedBy: "hyperstack test",
		Source: archive.Source{Kind: archive.SourceYellowstone, Endpoint: "https://example.invalid:443",
			Commitment: "confirmed", Filters: archive.Filters{Owners: []string{"oreV3EG1i9BEgiAJ8b177Z2S2rMarzak4NMv1kULvWv"}, Slots: true}},
	}
	a, err := archive.Create(path, meta, nil)
	require.NoError(t, err)
	w, err := a.NewWriter(archive.WriterConfig{BatchSize: 7})
	require.NoError(t, err)

	var want []archive.Incoming
	for i := range 50 {
		var in archive.Incoming
		switch {
		case i%10 == 9:
			in = archivetest.Incoming(t, archivetest.PingUpdate())
		case i%3 == 0:
			in = archivetest.Incoming(t, archivetest.SlotUpdate(100+uint64(i/5), geyserpb.SlotStatus_SLOT_CONFIRMED))
		default:
			in = archivetest.Incoming(t, archivetest.AccountUpdate(100+uint64(i/5), uint64(i), byte(i), 100+i))
		}
		in.ReceivedAt = time.Unix(1_770_000_000, int64(i)).UTC()
		seq, err := w.Append(in)
		require.NoError(t, err)
		require.Equal(t, uint64(i+1), seq)
		want = append(want, in)
	}
	require.NoError(t, w.Close())
	require.NoError(t, a.Close())

	a, err = archive.Open(path, &archive.Options{ReadOnly: true})
	require.NoError(t, err)
	defer a.Close()
	got := a.Meta()
	require.Equal(t, archive.FormatVersion, got.FormatVersion)
	require.Equal(t, meta.CreatedAt, got.CreatedAt)
	require.Equal(t, meta.Source, got.Source)

	var seen []archive.Update
	require.NoError(t, a.Scan(context.Background(), 0, math.MaxUint64, func(u archive.Update) error {
		seen = append(seen, u)
		return nil
	}))
	require.Len(t, seen, len(want))
	for i, u := range seen {
		require.Equal(t, uint64(i+1), u.Seq)
		require.Equal(t, want[i].Raw, u.Raw, "update %d bytes", i+1)
		require.Equal(t, want[i].Kind, u.Kind)
		require.Equal(t, want[i].HasSlot, u.HasSlot)
		if u.HasSlot {
			require.Equal(t, want[i].Slot, u.Slot)
		}
		require.True(t, want[i].ReceivedAt.Equal(u.ReceivedAt))
		m, err := u.Decode()
		require.NoError(t, err)
		require.Equal(t, want[i].Kind, geyserpb.KindOf(m))
	}

	st, err := a.Stats()
	require.NoError(t, err)
	require.Equal(t, uint64(50), st.Messages)
	require.Equal(t, map[string]uint64{"ping": 5, "slot": 15, "account": 30}, st.ByKind)
	require.Equal(t, uint64(100), st.FirstSlot)
	require.Equal(t, uint64(109), st.LastSlot)
	require.Equal(t, uint64(10), st.Slots)
	require.Equal(t, uint64(50), st.Checkpoint.Seq)
	require.Equal(t, uint64(109), st.Checkpoint.MaxSlot)
	require.Positive(t, st.FileSize)
	var raw uint64
	for _, in := range want {
		raw += uint64(len(in.Raw))
	}
	require.Equal(t, raw, st.RawBytes)
	require.NoError(t, a.Check())
}

func TestCreateRefusesExistingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x")
	require.NoError(t, os.WriteFile(path, []byte("precious"), 0o600))
	_, err := archive.Create(path, archive.Meta{}, nil)
	require.ErrorIs(t, err, archive.ErrExists)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, "precious", string(b))
	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary file is left behind")
}

func TestOpenRefusesBadFiles(t *testing.T) {
	dir := t.TempDir()
	mk := func(name string, content []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, content, 0o644))
		return p
	}
	random := make([]byte, 64<<10)
	for i := range random {
		random[i] = byte(i*7 + i/13)
	}

	otherBolt := filepath.Join(dir, "other.db")
	db, err := bolt.Open(otherBolt, 0o644, nil)
	require.NoError(t, err)
	require.NoError(t, db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket([]byte("stuff"))
		if err != nil {
			return err
		}
		return b.Put([]byte("k"), []byte("v"))
	}))
	require.NoError(t, db.Close())

	newer := filepath.Join(dir, "newer.archive")
	a, err := archive.Create(newer, archive.Meta{}, nil)
	require.NoError(t, err)
	require.NoError(t, a.Close())
	db, err = bolt.Open(newer, 0o644, nil)
	require.NoError(t, err)
	require.NoError(t, db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("meta")).Put([]byte("format_version"), binary.BigEndian.AppendUint32(nil, archive.FormatVersion+1))
	}))
	require.NoError(t, db.Close())

	// A real archive cut short: its meta pages survive but the data pages are gone.
	truncated := filepath.Join(dir, "truncated.archive")
	a, err = archive.Create(truncated, archive.Meta{}, &archive.Options{NoSync: true})
	require.NoError(t, err)
	w, err := a.NewWriter(archive.WriterConfig{})
	require.NoError(t, err)
	for i := range 2000 {
		_, err := w.Append(archivetest.Incoming(t, archivetest.AccountUpdate(uint64(i), uint64(i), 1, 500)))
		require.NoError(t, err)
	}
	require.NoError(t, a.Close())
	full, err := os.ReadFile(truncated)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(truncated, full[:len(full)/3], 0o644))

	cases := []struct {
		name string
		path string
		want error
	}{
		{"text", mk("text.txt", []byte("hello, this is not a database\n")), archive.ErrNotArchive},
		{"random", mk("random.bin", random), archive.ErrNotArchive},
		{"empty", mk("empty", nil), archive.ErrNotArchive},
		{"directory", dir, archive.ErrNotArchive},
		{"other bbolt", otherBolt, archive.ErrNotArchive},
		{"newer version", newer, archive.ErrNewerVersion},
		{"truncated", truncated, archive.ErrCorrupt},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var before [32]byte
			fi, _ := os.Stat(tc.path)
			if !fi.IsDir() {
				before = fileHash(t, tc.path)
			}
			for _, ro := range []bool{false, true} {
				_, err := archive.Open(tc.path, &archive.Options{ReadOnly: ro})
				require.ErrorIs(t, err, tc.want, "read-only=%v", ro)
				_, _, err = archive.OpenOrCreate(tc.path, archive.Meta{}, nil)
				require.ErrorIs(t, err, tc.want)
			}
			if !fi.IsDir() {
				require.Equal(t, before, fileHash(t, tc.path), "file must be left byte-identical")
			}
		})
	}

	var ve *archive.VersionError
	_, err = archive.Open(newer, nil)
	require.ErrorAs(t, err, &ve)
	require.Equal(t, archive.FormatVersion+1, ve.Found)
	require.Contains(t, err.Error(), "upgrade hyperstack")

	_, err = archive.Open(filepath.Join(dir, "missing"), nil)
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestOpenLocked(t *testing.T) {
	a := archivetest.MustCreate(t, nil)
	_, err := archive.Open(a.Path(), &archive.Options{ReadOnly: true, LockTimeout: 50 * time.Millisecond})
	require.ErrorIs(t, err, archive.ErrLocked)
	require.Contains(t, err.Error(), "archive is locked by another process")
	require.NoError(t, a.Close())

	r1, err := archive.Open(a.Path(), &archive.Options{ReadOnly: true})
	require.NoError(t, err)
	r2, err := archive.Open(a.Path(), &archive.Options{ReadOnly: true})
	require.NoError(t, err, "read-only openers share the lock")
	_, err = r1.NewWriter(archive.WriterConfig{})
	require.ErrorIs(t, err, archive.ErrReadOnly)
	require.ErrorIs(t, r1.Put(archive.NSResolver, []byte("k"), []byte("v")), archive.ErrReadOnly)
	require.NoError(t, r1.Close())
	require.NoError(t, r2.Close())
}

func TestScanSlotRangeWithInterleavedSlots(t *testing.T) {
	a := archivetest.MustCreate(t, &archive.Options{NoSync: true})
	w, err := a.NewWriter(archive.WriterConfig{BatchSize: 3})
	require.NoError(t, err)
	// Stream order: entries of the current slot interleave with late statuses of older slots.
	slots := []uint64{10, 10, 11, 5, 11, 0 /*ping*/, 12, 6, 12, 13, 11}
	for i, s := range slots {
		var in archive.Incoming
		if s == 0 {
			in = archivetest.Incoming(t, archivetest.PingUpdate())
		} else {
			in = archivetest.Incoming(t, archivetest.AccountUpdate(s, uint64(i), byte(i), 10))
		}
		_, err := w.Append(in)
		require.NoError(t, err)
	}
	require.NoError(t, w.Flush())

	collect := func(from, to uint64) (seqs []uint64) {
		require.NoError(t, a.Scan(context.Background(), from, to, func(u archive.Update) error {
			seqs = append(seqs, u.Seq)
			return nil
		}))
		return seqs
	}
	require.Equal(t, []uint64{3, 5, 6, 7, 9, 11}, collect(11, 12))
	require.Equal(t, []uint64{4, 6, 8}, collect(5, 6), "the ping between them is included")
	require.Equal(t, []uint64{10}, collect(13, 100))
	require.Empty(t, collect(14, 100))
	require.Empty(t, collect(12, 11))
	require.Len(t, collect(0, math.MaxUint64), len(slots))

	var infos []archive.SlotInfo
	require.NoError(t, a.Slots(context.Background(), 0, math.MaxUint64, func(s archive.SlotInfo) error {
		infos = append(infos, s)
		return nil
	}))
	require.Equal(t, archive.SlotInfo{Slot: 11, FirstSeq: 3, LastSeq: 11, Count: 3}, infos[3])
	require.Len(t, infos, 6)

	var seqs []uint64
	require.NoError(t, a.ScanSeq(context.Background(), 4, 6, func(u archive.Update) error {
		seqs = append(seqs, u.Seq)
		return nil
	}))
	require.Equal(t, []uint64{4, 5, 6}, seqs)

	stop := errors.New("stop")
	n := 0
	err = a.ScanSeq(context.Background(), 1, math.MaxUint64, func(archive.Update) error {
		n++
		if n == 2 {
			return stop
		}
		return nil
	})
	require.ErrorIs(t, err, stop)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, a.ScanSeq(ctx, 1, math.MaxUint64, func(archive.Update) error { return nil }), context.Canceled)

	u, err := a.Get(6)
	require.NoError(t, err)
	require.False(t, u.HasSlot)
	require.Equal(t, geyserpb.KindPing, u.Kind)
	_, err = a.Get(99)
	require.ErrorIs(t, err, archive.ErrNotFound)
}

func TestScanLargeArchiveCrossesChunks(t *testing.T) {
	a := archivetest.MustCreate(t, &archive.Options{NoSync: true})
	w, err := a.NewWriter(archive.WriterConfig{})
	require.NoError(t, err)
	const n = 10_000
	for i := range n {
		_, err := w.Append(archivetest.Incoming(t, archivetest.AccountUpdate(uint64(i/100), uint64(i), byte(i), 8)))
		require.NoError(t, err)
	}
	require.NoError(t, w.Flush())
	var next uint64 = 1
	require.NoError(t, a.Scan(context.Background(), 0, math.MaxUint64, func(u archive.Update) error {
		require.Equal(t, next, u.Seq)
		next++
		return nil
	}))
	require.Equal(t, uint64(n+1), next)
	count := 0
	require.NoError(t, a.Scan(context.Background(), 10, 59, func(u archive.Update) error {
		require.True(t, u.Slot >= 10 && u.Slot <= 59)
		count++
		return nil
	}))
	require.Equal(t, 5000, count)
}

func TestScanBorrowedMatchesScanAcrossChunks(t *testing.T) {
	a := archivetest.MustCreate(t, &archive.Options{NoSync: true})
	w, err := a.NewWriter(archive.WriterConfig{})
	require.NoError(t, err)
	const n = 10_000 // more than one read chunk, so the borrowed buffer is reused
	for i := range n {
		_, err := w.Append(archivetest.Incoming(t, archivetest.AccountUpdate(uint64(i/100), uint64(i), byte(i), 8+i%300)))
		require.NoError(t, err)
	}
	require.NoError(t, w.Flush())
	for _, r := range [][2]uint64{{0, math.MaxUint64}, {10, 59}} {
		var want, got []archive.Update
		require.NoError(t, a.Scan(context.Background(), r[0], r[1], func(u archive.Update) error {
			want = append(want, u)
			return nil
		}))
		var borrowed [][]byte
		require.NoError(t, a.ScanBorrowed(context.Background(), r[0], r[1], func(u archive.Update) error {
			borrowed = append(borrowed, u.Raw)
			u.Raw = bytes.Clone(u.Raw) // what a caller that keeps Raw does
			got = append(got, u)
			return nil
		}))
		require.Equal(t, want, got, "slots %d..%d", r[0], r[1])
		// The borrowed slices did share memory: later chunks overwrote earlier ones.
		var overwritten int
		for i, b := range borrowed {
			if !bytes.Equal(b, want[i].Raw) {
				overwritten++
			}
		}
		if r[0] == 0 {
			require.NotZero(t, overwritten, "the scan reused its buffer")
		}
	}
}

func TestSanitizeEndpoint(t *testing.T) {
	cases := []struct{ in, token, want string }{
		{"https://user:pass@grpc.example.com:443/?x-token=abc", "", "https://grpc.example.com:443/"},
		{"https://abc.example.com/SECRETTOKEN/", "SECRETTOKEN", "https://abc.example.com/REDACTED/"},
		{"http://127.0.0.1:10000", "tok", "http://127.0.0.1:10000"},
		{"not a url with tok", "tok", "<unparseable endpoint>"},
	}
	for _, tc := range cases {
		require.Equal(t, tc.want, archive.SanitizeEndpoint(tc.in, tc.token), tc.in)
	}
}

func TestFiltersEqual(t *testing.T) {
	a := archive.Filters{Owners: []string{"a", "b"}, Slots: true}
	require.True(t, a.Equal(archive.Filters{Owners: []string{"b", "a"}, Slots: true}))
	require.False(t, a.Equal(archive.Filters{Owners: []string{"a"}, Slots: true}))
	require.False(t, a.Equal(archive.Filters{Owners: []string{"a", "b"}}))
	require.True(t, archive.Filters{}.Empty())
	require.False(t, a.Empty())
}

func TestCheckpointMatchesLastUpdateAfterReopen(t *testing.T) {
	a := archivetest.MustCreate(t, nil)
	w, err := a.NewWriter(archive.WriterConfig{})
	require.NoError(t, err)
	for i := range 5 {
		_, err := w.Append(archivetest.Incoming(t, archivetest.SlotUpdate(uint64(20+i), geyserpb.SlotStatus_SLOT_PROCESSED)))
		require.NoError(t, err)
	}
	_, err = w.Append(archivetest.Incoming(t, archivetest.PingUpdate()))
	require.NoError(t, err)
	require.NoError(t, a.Close())
	a, err = archive.Open(a.Path(), nil)
	require.NoError(t, err)
	defer a.Close()
	cp, err := a.Checkpoint()
	require.NoError(t, err)
	require.Equal(t, uint64(6), cp.Seq)
	require.Equal(t, uint64(24), cp.Slot)
	require.False(t, cp.CommittedAt.IsZero())
	// A new writer continues the sequence.
	w, err = a.NewWriter(archive.WriterConfig{})
	require.NoError(t, err)
	_, err = a.NewWriter(archive.WriterConfig{})
	require.ErrorIs(t, err, archive.ErrWriterActive)
	seq, err := w.Append(archivetest.Incoming(t, archivetest.PingUpdate()))
	require.NoError(t, err)
	require.Equal(t, uint64(7), seq)
	require.NoError(t, w.Close())
	_, err = w.Append(archivetest.Incoming(t, archivetest.PingUpdate()))
	require.ErrorIs(t, err, archive.ErrClosed)
	u, err := a.Get(7)
	require.NoError(t, err)
	require.True(t, bytes.Equal(u.Raw, archivetest.Incoming(t, archivetest.PingUpdate()).Raw))
}
