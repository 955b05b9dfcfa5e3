package sim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"

	"github.com/hyperstack-go/hyperstack/internal/archive"
	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
)

// SourceKind is the archive source kind of simulated archives.
const SourceKind = "sim"

// ArchiveOptions tune WriteArchive.
type ArchiveOptions struct {
	// Seed is recorded in the archive metadata (the generator's seed).
	Seed uint64
	// Progress, when set, is called about every ProgressEvery updates with the counts so far.
	Progress      func(Stats)
	ProgressEvery uint64
	// NoSync skips fsync on commit (tests).
	NoSync bool
}

// archiveBatch is the writer's batch size. Batches are cut by count and bytes only, never by time, so
// the same stream gives the same sequence of bbolt transactions and a byte-identical file.
const archiveBatch = 2048

// WriteArchive writes the whole stream (the generator must have an end: Options.Slots > 0, or ctx
// cancels it) into a new archive at path, which must not exist. Every update keeps its deterministic
// encoding and its created_at as receive time, and the metadata holds no wall-clock value. The
// archive is written under a temporary name, then compacted into path with a fixed page size and a
// deterministic page allocator and trimmed to its last page, so the same scenario, seed and options
// always give a byte-identical (and tightly packed) file.
func (s *Sim) WriteArchive(ctx context.Context, path string, opts ArchiveOptions) (Stats, error) {
	if _, err := os.Lstat(path); err == nil {
		return s.stats, fmt.Errorf("create archive %s: %w", path, archive.ErrExists)
	}
	tmp := path + ".sim-raw"
	_ = os.Remove(tmp)
	defer func() { _ = os.Remove(tmp) }()
	if err := s.writeRaw(ctx, tmp, opts); err != nil {
		return s.stats, err
	}
	if err := compactArchive(tmp, path); err != nil {
		return s.stats, fmt.Errorf("compact archive %s: %w", path, err)
	}
	a, err := archive.Open(path, &archive.Options{ReadOnly: true})
	if err != nil {
		return s.stats, err
	}
	return s.stats, a.Close()
}

func (s *Sim) writeRaw(ctx context.Context, path string, opts ArchiveOptions) error {
	meta := archive.Meta{
		CreatedAt: SlotTime(s.opts.StartSlot),
		CreatedBy: "hyperstack sim",
		Source: archive.Source{
			Kind:     SourceKind,
			Endpoint: fmt.Sprintf("sim://%s?seed=%d&start_slot=%d", s.scenario, opts.Seed, s.opts.StartSlot),
		},
	}
	a, err := archive.Create(path, meta, &archive.Options{NoSync: true, Logger: s.opts.Logger})
	if err != nil {
		return err
	}
	// Commit times come from the stream's clock (the created_at of the last update appended), not
	// the wall clock.
	var clock atomic.Int64
	clock.Store(slotTime(s.opts.StartSlot))
	w, err := a.NewWriter(archive.WriterConfig{
		BatchSize:     archiveBatch,
		BatchBytes:    64 << 20,
		BatchInterval: 365 * 24 * time.Hour,
		Logger:        s.opts.Logger,
		Now:           func() time.Time { return time.Unix(0, clock.Load()) },
	})
	if err != nil {
		_ = a.Close()
		return err
	}
	err = s.appendAll(ctx, w, opts, &clock)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if cerr := a.Close(); err == nil {
		err = cerr
	}
	return err
}

// compactTxBytes bounds one compaction transaction.
const compactTxBytes = 32 << 20

// compactArchive copies the bbolt file src into a new file dst key by key, with full pages, 4 KiB
// pages and the array freelist, then cuts the file after its last used page. Each transaction writes
// into one bucket only: bbolt spills the dirty buckets of a transaction in map order, so a
// transaction touching several would allocate pages in a random order.
func compactArchive(src, dst string) (err error) {
	in, err := bolt.Open(src, 0o644, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return err
	}
	defer in.Close()
	tmp := dst + ".sim-compact"
	_ = os.Remove(tmp)
	defer func() { _ = os.Remove(tmp) }()
	out, err := bolt.Open(tmp, 0o644, &bolt.Options{
		Timeout: time.Second, PageSize: 4096, FreelistType: bolt.FreelistArrayType, NoFreelistSync: true,
		NoSync: true,
	})
	if err != nil {
		return err
	}
	err = in.View(func(rtx *bolt.Tx) error {
		return rtx.ForEach(func(name []byte, b *bolt.Bucket) error {
			return copyBucket(out, [][]byte{name}, b)
		})
	})
	var size int64
	if err == nil {
		err = out.View(func(tx *bolt.Tx) error { size = tx.Size(); return nil })
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	f, err := os.OpenFile(tmp, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if err := f.Truncate(size); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	// Link fails if dst appeared meanwhile: an existing file is never replaced.
	return os.Link(tmp, dst)
}

// copyBucket creates the bucket at path in out and copies src's pairs into it in transactions of at
// most compactTxBytes, then its nested buckets.
func copyBucket(out *bolt.DB, path [][]byte, src *bolt.Bucket) error {
	open := func(tx *bolt.Tx, create bool) (*bolt.Bucket, error) {
		var b *bolt.Bucket
		for i, name := range path {
			var err error
			switch {
			case i == 0 && create && len(path) == 1:
				b, err = tx.CreateBucket(name)
			case i == 0:
				b = tx.Bucket(name)
			case create && i == len(path)-1:
				b, err = b.CreateBucket(name)
			default:
				b = b.Bucket(name)
			}
			if err != nil {
				return nil, err
			}
			if b == nil {
				return nil, fmt.Errorf("bucket %q missing", name)
			}
		}
		b.FillPercent = 1.0
		return b, nil
	}
	if err := out.Update(func(tx *bolt.Tx) error {
		b, err := open(tx, true)
		if err != nil {
			return err
		}
		return b.SetSequence(src.Sequence())
	}); err != nil {
		return err
	}
	var kvs [][2][]byte
	var nested [][]byte
	size := 0
	flush := func() error {
		if len(kvs) == 0 {
			return nil
		}
		err := out.Update(func(tx *bolt.Tx) error {
			b, err := open(tx, false)
			if err != nil {
				return err
			}
			for _, kv := range kvs {
				if err := b.Put(kv[0], kv[1]); err != nil {
					return err
				}
			}
			return nil
		})
		kvs, size = kvs[:0], 0
		return err
	}
	c := src.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if v == nil {
			nested = append(nested, k)
			continue
		}
		kvs = append(kvs, [2][]byte{k, v})
		if size += len(k) + len(v); size >= compactTxBytes {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	for _, name := range nested {
		sub := append(append([][]byte(nil), path...), name)
		if err := copyBucket(out, sub, src.Bucket(name)); err != nil {
			return err
		}
	}
	return nil
}

func (s *Sim) appendAll(ctx context.Context, w *archive.Writer, opts ArchiveOptions, clock *atomic.Int64) error {
	mo := proto.MarshalOptions{Deterministic: true}
	every := opts.ProgressEvery
	if every == 0 {
		every = 100_000
	}
	var n uint64
	for {
		if n&1023 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		u, err := s.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		raw, err := mo.Marshal(u)
		if err != nil {
			return fmt.Errorf("marshal update: %w", err)
		}
		slot, has := geyserpb.SlotOf(u)
		at := u.GetCreatedAt().AsTime()
		clock.Store(at.UnixNano())
		if _, err := w.Append(archive.Incoming{
			Raw: raw, Kind: geyserpb.KindOf(u), Slot: slot, HasSlot: has, ReceivedAt: at,
		}); err != nil {
			return err
		}
		n++
		if opts.Progress != nil && n%every == 0 {
			opts.Progress(s.stats)
		}
	}
}
