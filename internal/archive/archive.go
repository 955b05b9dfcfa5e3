package archive

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"time"

	"github.com/charmbracelet/log"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// pageSize is the bbolt page size of new archives.
const pageSize = 16 << 10

// Options configure Open and Create. A nil *Options means the zero value.
type Options struct {
	// ReadOnly opens the archive for reading only, with a shared lock; several read-only openers may
	// coexist, but none can open while a writer holds the archive.
	ReadOnly bool
	// LockTimeout bounds the wait for the file lock; when it expires Open returns ErrLocked.
	// Zero means 1 second. Negative means do not wait at all.
	LockTimeout time.Duration
	// NoSync skips fsync on commit. Only for tests and throw-away archives: a crash may lose or damage data.
	NoSync bool
	// MaxSize caps the file size in bytes; a commit that would grow the file past it fails.
	// Zero means no limit.
	MaxSize int
	// Logger receives diagnostics. Nil means silent.
	Logger *log.Logger
}

func (o *Options) lockTimeout() time.Duration {
	switch {
	case o.LockTimeout == 0:
		return time.Second
	case o.LockTimeout < 0:
		return time.Millisecond
	}
	return o.LockTimeout
}

// Archive is an open archive file. Its methods are safe for concurrent use; see the package comment.
type Archive struct {
	path     string
	db       *bolt.DB
	readOnly bool
	meta     Meta
	logger   *log.Logger

	mu     sync.Mutex
	writer *Writer // the open writer, if any; guarded by mu
	closed bool    // guarded by mu
}

// Path returns the archive's file path.
func (a *Archive) Path() string { return a.path }

// ReadOnly reports whether the archive was opened read-only.
func (a *Archive) ReadOnly() bool { return a.readOnly }

// Meta returns the archive's metadata.
func (a *Archive) Meta() Meta { return a.meta }

// Create creates a new archive at path. It fails with ErrExists if anything exists at path: an archive
// is never created over another file. The file is built under a temporary name in the same directory and
// linked into place, so a crash during creation never leaves a half-initialised file at path.
func Create(path string, meta Meta, opts *Options) (*Archive, error) {
	if opts == nil {
		opts = &Options{}
	}
	if opts.ReadOnly {
		return nil, fmt.Errorf("create archive %s: %w", path, ErrReadOnly)
	}
	if _, err := os.Lstat(path); err == nil {
		return nil, fmt.Errorf("create archive %s: %w", path, ErrExists)
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("create archive %s: %w", path, err)
	}
	if meta.CreatedAt.IsZero() {
		meta.CreatedAt = time.Now()
	}
	meta.CreatedAt = meta.CreatedAt.UTC()
	meta.FormatVersion = FormatVersion
	metaJSON, err := json.Marshal(meta)
	if err != nil {
		return nil, fmt.Errorf("create archive %s: encode metadata: %w", path, err)
	}

	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".creating-*")
	if err != nil {
		return nil, fmt.Errorf("create archive %s: %w", path, err)
	}
	tmpPath := tmp.Name()
	_ = tmp.Close() // empty: bbolt initialises it
	_ = os.Chmod(tmpPath, 0o644)
	defer func() { _ = os.Remove(tmpPath) }()

	// 16 KiB pages hold several ~1 KB updates each, which makes appends and commits markedly cheaper
	// than the 4 KiB default.
	db, err := bolt.Open(tmpPath, 0o644, &bolt.Options{Timeout: time.Second, FreelistType: bolt.FreelistMapType,
		PageSize: pageSize})
	if err != nil {
		return nil, fmt.Errorf("create archive %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range allBuckets() {
			if _, err := tx.CreateBucket(name); err != nil {
				return err
			}
		}
		mb := tx.Bucket(bucketMeta)
		puts := []struct{ k, v []byte }{
			{keyMagic, []byte(magic)},
			{keyVersion, binary.BigEndian.AppendUint32(nil, FormatVersion)},
			{keyMeta, metaJSON},
			{keyCheckpoint, Checkpoint{}.encode()},
			{keyCounters, (&counters{}).encode()},
		}
		for _, p := range puts {
			if err := mb.Put(p.k, p.v); err != nil {
				return err
			}
		}
		return nil
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("create archive %s: %w", path, err)
	}
	// Link fails if path appeared meanwhile, so an existing file is never replaced.
	if err := os.Link(tmpPath, path); err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("create archive %s: %w", path, ErrExists)
		}
		return nil, fmt.Errorf("create archive %s: %w", path, err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return Open(path, opts)
}

// Open opens an existing archive. The file is validated read-only first (bbolt structure, archive magic,
// format version, required buckets, checkpoint consistency) and is never modified when validation
// fails: a damaged file is reported (ErrCorrupt), not repaired. Errors: ErrNotArchive, *VersionError
// (ErrNewerVersion), ErrCorrupt, ErrLocked, or an os error such as os.ErrNotExist.
func Open(path string, opts *Options) (*Archive, error) {
	if opts == nil {
		opts = &Options{}
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("open archive: %w", err)
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("open archive %s: %w: is a directory", path, ErrNotArchive)
	}
	if fi.Size() == 0 {
		return nil, fmt.Errorf("open archive %s: %w: empty file", path, ErrNotArchive)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("open archive %s: %w: not a regular file", path, ErrNotArchive)
	}

	// Pass 1: read-only validation. A read-only bbolt handle opens the file O_RDONLY, so nothing in
	// this pass can write to it.
	roOpts := &bolt.Options{ReadOnly: true, Timeout: opts.lockTimeout()}
	db, err := openBolt(path, roOpts)
	if err != nil {
		return nil, err
	}
	meta, err := validate(path, db, fi.Size())
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	a := &Archive{path: path, readOnly: opts.ReadOnly, meta: meta, logger: opts.Logger}
	if opts.ReadOnly {
		a.db = db
		return a, nil
	}
	// Opening for writing loads the free-page list. A file written without one makes bbolt rebuild it
	// by walking every page in a goroutine of its own, where damage would crash the process: walk it
	// here first, where damage is reported.
	if !freelistSynced(path) {
		a.db = db
		if err := a.walk(); err != nil {
			_ = db.Close()
			return nil, fmt.Errorf("open archive %s: %w", path, err)
		}
	}
	if err := db.Close(); err != nil {
		return nil, fmt.Errorf("open archive %s: %w", path, err)
	}

	// Pass 2: the validated file is opened for writing.
	db, err = openBolt(path, &bolt.Options{
		Timeout:      opts.lockTimeout(),
		FreelistType: bolt.FreelistMapType,
		NoSync:       opts.NoSync,
		MaxSize:      opts.MaxSize,
	})
	if err != nil {
		return nil, err
	}
	a.db = db
	return a, nil
}

// OpenOrCreate opens the archive at path, or creates it with meta if nothing exists there.
// created reports which happened.
func OpenOrCreate(path string, meta Meta, opts *Options) (a *Archive, created bool, err error) {
	if _, err := os.Lstat(path); errors.Is(err, os.ErrNotExist) {
		a, err := Create(path, meta, opts)
		return a, err == nil, err
	}
	a, err = Open(path, opts)
	return a, false, err
}

func openBolt(path string, o *bolt.Options) (db *bolt.DB, err error) {
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, fmt.Errorf("open archive %s: %w: %v", path, ErrCorrupt, r)
		}
	}()
	db, err = bolt.Open(path, 0o644, o)
	if err == nil {
		return db, nil
	}
	switch {
	case errors.Is(err, berrors.ErrTimeout):
		return nil, fmt.Errorf("open archive %s: %w (wait for it to finish or stop it)", path, ErrLocked)
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrVersionMismatch),
		errors.Is(err, berrors.ErrChecksum), errors.Is(err, berrors.ErrInvalidMapping):
		return nil, fmt.Errorf("open archive %s: %w: %v", path, ErrNotArchive, err)
	case errors.Is(err, os.ErrNotExist), errors.Is(err, os.ErrPermission):
		return nil, fmt.Errorf("open archive: %w", err)
	}
	return nil, fmt.Errorf("open archive %s: %w: %v", path, ErrNotArchive, err)
}

// validate checks that db is an archive this build can read. Memory faults while reading a damaged
// file become ErrCorrupt instead of crashing the process.
func validate(path string, db *bolt.DB, fileSize int64) (meta Meta, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("open archive %s: %w: %v", path, ErrCorrupt, r)
		}
	}()
	err = db.View(func(tx *bolt.Tx) error {
		if tx.Size() > fileSize {
			return fmt.Errorf("open archive %s: %w: file is %d bytes but its pages need %d (truncated?)",
				path, ErrCorrupt, fileSize, tx.Size())
		}
		mb := tx.Bucket(bucketMeta)
		if mb == nil || !bytes.Equal(mb.Get(keyMagic), []byte(magic)) {
			return fmt.Errorf("open archive %s: %w: a bbolt database without hyperstack archive metadata",
				path, ErrNotArchive)
		}
		vb := mb.Get(keyVersion)
		if len(vb) != 4 {
			return fmt.Errorf("open archive %s: %w: format version has %d bytes", path, ErrCorrupt, len(vb))
		}
		if v := binary.BigEndian.Uint32(vb); v > FormatVersion {
			return &VersionError{Path: path, Found: v, Supported: FormatVersion}
		} else if v == 0 {
			return fmt.Errorf("open archive %s: %w: format version 0", path, ErrCorrupt)
		}
		for _, name := range [][]byte{bucketUpdates, bucketSlots, bucketGaps} {
			if tx.Bucket(name) == nil {
				return fmt.Errorf("open archive %s: %w: bucket %q is missing", path, ErrCorrupt, name)
			}
		}
		if err := json.Unmarshal(mb.Get(keyMeta), &meta); err != nil {
			return fmt.Errorf("open archive %s: %w: metadata: %v", path, ErrCorrupt, err)
		}
		meta.FormatVersion = binary.BigEndian.Uint32(vb)
		cp, err := decodeCheckpoint(mb.Get(keyCheckpoint))
		if err != nil {
			return fmt.Errorf("open archive %s: %w", path, err)
		}
		if _, err := decodeCounters(mb.Get(keyCounters)); err != nil {
			return fmt.Errorf("open archive %s: %w", path, err)
		}
		var last uint64
		if k, _ := tx.Bucket(bucketUpdates).Cursor().Last(); k != nil {
			if len(k) != 8 {
				return fmt.Errorf("open archive %s: %w: update key has %d bytes", path, ErrCorrupt, len(k))
			}
			last = binary.BigEndian.Uint64(k)
		}
		if last != cp.Seq {
			return fmt.Errorf("open archive %s: %w: checkpoint names sequence %d but the last update is %d",
				path, ErrCorrupt, cp.Seq, last)
		}
		return nil
	})
	return meta, err
}

// Close closes the open writer (flushing it) and the file. It is idempotent.
func (a *Archive) Close() error {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return nil
	}
	w := a.writer
	a.mu.Unlock()
	var werr error
	if w != nil {
		werr = w.Close() // flushes while the file is still open
	}
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return werr
	}
	a.closed = true
	a.mu.Unlock()
	if err := a.db.Close(); err != nil {
		return errors.Join(werr, fmt.Errorf("close archive %s: %w", a.path, err))
	}
	return werr
}

func (a *Archive) checkOpen() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return ErrClosed
	}
	return nil
}

// view runs fn in a read transaction, turning a panic from a damaged file into ErrCorrupt.
func (a *Archive) view(fn func(tx *bolt.Tx) error) (err error) {
	if err := a.checkOpen(); err != nil {
		return err
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("read archive %s: %w: %v", a.path, ErrCorrupt, r)
		}
	}()
	return a.db.View(fn)
}

func (a *Archive) update(fn func(tx *bolt.Tx) error) error {
	if a.readOnly {
		return ErrReadOnly
	}
	if err := a.checkOpen(); err != nil {
		return err
	}
	return a.db.Update(fn)
}

// Check reads every key and value of the file and runs bbolt's consistency check, reporting damage
// as ErrCorrupt. It reads the whole file.
func (a *Archive) Check() error {
	if err := a.walk(); err != nil {
		return err
	}
	if !freelistSynced(a.path) {
		// bbolt's check would rebuild the free list in a goroutine that crashes on damage; the walk
		// above has read every page already.
		return nil
	}
	return a.view(func(tx *bolt.Tx) error {
		var errs []error
		for err := range tx.Check() {
			errs = append(errs, err)
		}
		if len(errs) > 0 {
			return fmt.Errorf("%w: %w", ErrCorrupt, errors.Join(errs...))
		}
		return nil
	})
}

// walk visits every bucket and key (the cursor reads every page holding them), so that damaged
// pages surface as ErrCorrupt.
func (a *Archive) walk() error {
	var visit func(b *bolt.Bucket, depth int) error
	visit = func(b *bolt.Bucket, depth int) error {
		if depth > 16 {
			return fmt.Errorf("%w: buckets nested %d deep", ErrCorrupt, depth)
		}
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if v == nil {
				if nb := b.Bucket(k); nb != nil {
					if err := visit(nb, depth+1); err != nil {
						return err
					}
				}
			}
		}
		return nil
	}
	return a.view(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error { return visit(b, 1) })
	})
}

// freelistSynced reports whether the file's current meta page points to a stored free-page list
// (bbolt meta layout: the freelist page id at byte 48 of each meta page, txid at byte 64; the meta
// page with the higher txid is current; integers in the machine's little-endian order).
func freelistSynced(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var hdr [80]byte
	if _, err := f.ReadAt(hdr[:], 0); err != nil {
		return false
	}
	pageSize := int64(binary.LittleEndian.Uint32(hdr[24:28]))
	if pageSize < 1024 || pageSize > 1<<20 {
		return false
	}
	var hdr1 [80]byte
	if _, err := f.ReadAt(hdr1[:], pageSize); err != nil {
		return false
	}
	cur := hdr
	if binary.LittleEndian.Uint64(hdr1[64:72]) > binary.LittleEndian.Uint64(hdr[64:72]) {
		cur = hdr1
	}
	return binary.LittleEndian.Uint64(cur[48:56]) != ^uint64(0)
}

// Checkpoint returns the durable checkpoint.
func (a *Archive) Checkpoint() (Checkpoint, error) {
	var cp Checkpoint
	err := a.view(func(tx *bolt.Tx) error {
		var err error
		cp, err = decodeCheckpoint(tx.Bucket(bucketMeta).Get(keyCheckpoint))
		return err
	})
	return cp, err
}
