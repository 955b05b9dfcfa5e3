package record

import (
	"errors"
	"fmt"
)

var (
	// ErrTruncatedCapture is returned by Import when the capture ends in the middle of a record; the
	// complete records before it were imported. It is wrapped by *CaptureError.
	ErrTruncatedCapture = errors.New("capture is truncated")

	// ErrBadCapture is returned by Import when a record of the capture is not a valid SubscribeUpdate
	// or has an impossible length. It is wrapped by *CaptureError.
	ErrBadCapture = errors.New("capture is malformed")

	// ErrNoArchive is returned by Recorder.Run when the Recorder has no Archive or no Source.
	ErrNoArchive = errors.New("recorder needs a source and an archive")
)

// CaptureError reports where an import stopped. Offset is the byte offset of the first record that was
// not imported; Imported counts the records before it (all of them durable in the archive).
type CaptureError struct {
	Offset   int64
	Record   uint64 // 1-based number of the record that failed
	Imported uint64
	Reason   string
	Err      error // ErrTruncatedCapture or ErrBadCapture
}

func (e *CaptureError) Error() string {
	return fmt.Sprintf("%v at byte offset %d (record %d): %s; imported the %d complete records before it",
		e.Err, e.Offset, e.Record, e.Reason, e.Imported)
}

// Unwrap returns ErrTruncatedCapture or ErrBadCapture.
func (e *CaptureError) Unwrap() error { return e.Err }
