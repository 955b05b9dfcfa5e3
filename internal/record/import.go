package record

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/charmbracelet/log"
	"google.golang.org/protobuf/proto"

	"github.com/hyperstack-go/hyperstack/internal/archive"
	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
)

// DefaultMaxRecord bounds one record of a capture (the recorder's receive limit).
const DefaultMaxRecord = 64 << 20

// ImportOptions configure Import.
type ImportOptions struct {
	// Writer configures batching; the zero value uses the archive defaults.
	Writer archive.WriterConfig
	// MaxRecord bounds one record's length; 0 means DefaultMaxRecord.
	MaxRecord int
	// Now stamps updates without created_at; nil means time.Now.
	Now func() time.Time
	// Logger receives a summary; nil is silent.
	Logger *log.Logger
}

// ImportResult summarises an import.
type ImportResult struct {
	// Records is the number of updates imported.
	Records uint64
	// Offset is the number of capture bytes consumed by the imported records.
	Offset int64
	// ByKind counts the imported updates by kind name.
	ByKind map[string]uint64
}

// Import reads a length-prefixed capture ([u32 big-endian length][SubscribeUpdate bytes]…, the format
// of Vixen's fixtures) from r and appends every update to a, byte-exact. Each update's receive time is
// its created_at when set. A capture that ends inside a record, or holds a record that is not a valid
// SubscribeUpdate, stops the import: every record before it is committed and a *CaptureError names the
// byte offset (ErrTruncatedCapture or ErrBadCapture).
func Import(ctx context.Context, r io.Reader, a *archive.Archive, opts ImportOptions) (ImportResult, error) {
	res := ImportResult{ByKind: map[string]uint64{}}
	maxRec := opts.MaxRecord
	if maxRec <= 0 {
		maxRec = DefaultMaxRecord
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	w, err := a.NewWriter(opts.Writer)
	if err != nil {
		return res, err
	}
	stop := func(reason string, cause error) error {
		return &CaptureError{Offset: res.Offset, Record: res.Records + 1, Imported: res.Records, Reason: reason, Err: cause}
	}
	br := bufio.NewReaderSize(r, 1<<20)
	var hdr [4]byte
	var buf []byte
	var importErr error
	for {
		if err := ctx.Err(); err != nil {
			importErr = err
			break
		}
		n, err := io.ReadFull(br, hdr[:])
		if err == io.EOF {
			break
		}
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				importErr = stop(fmt.Sprintf("length prefix cut after %d of 4 bytes", n), ErrTruncatedCapture)
			} else {
				importErr = fmt.Errorf("read capture at offset %d: %w", res.Offset, err)
			}
			break
		}
		size := binary.BigEndian.Uint32(hdr[:])
		if uint64(size) > uint64(maxRec) {
			importErr = stop(fmt.Sprintf("record length %d exceeds the %d-byte limit", size, maxRec), ErrBadCapture)
			break
		}
		if cap(buf) < int(size) {
			buf = make([]byte, size)
		}
		buf = buf[:size]
		if n, err := io.ReadFull(br, buf); err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
				importErr = stop(fmt.Sprintf("record of %d bytes cut after %d bytes", size, n), ErrTruncatedCapture)
			} else {
				importErr = fmt.Errorf("read capture at offset %d: %w", res.Offset, err)
			}
			break
		}
		var m geyserpb.SubscribeUpdate
		if err := proto.Unmarshal(buf, &m); err != nil {
			importErr = stop(fmt.Sprintf("not a SubscribeUpdate: %v", err), ErrBadCapture)
			break
		}
		kind := geyserpb.KindOf(&m)
		slot, has := geyserpb.SlotOf(&m)
		at := now()
		if m.CreatedAt != nil {
			at = m.CreatedAt.AsTime()
		}
		if _, err := w.Append(archive.Incoming{Raw: buf, Kind: kind, Slot: slot, HasSlot: has, ReceivedAt: at}); err != nil {
			importErr = err
			break
		}
		res.Records++
		res.Offset += 4 + int64(size)
		res.ByKind[kind.String()]++
	}
	if err := w.Close(); err != nil && !errors.Is(importErr, err) {
		importErr = errors.Join(importErr, err)
	}
	if opts.Logger != nil {
		opts.Logger.Info("import finished", "records", res.Records, "bytes", res.Offset, "err", importErr)
	}
	return res, importErr
}
