package archive

import (
	"errors"
	"fmt"
)

var (
	// ErrNotArchive is returned when a file exists but is not a hyperstack archive (not a bbolt file,
	// a bbolt file without archive metadata, an empty file or a directory). The file is left untouched.
	ErrNotArchive = errors.New("not a hyperstack archive")

	// ErrNewerVersion is returned when an archive was written by a newer format version than this build
	// reads. It is wrapped by *VersionError, which carries both versions.
	ErrNewerVersion = errors.New("archive format version is newer than this build supports")

	// ErrCorrupt is returned when a file carries archive metadata but its structure is damaged.
	ErrCorrupt = errors.New("archive is corrupt")

	// ErrLocked is returned when another process holds the archive open for writing.
	ErrLocked = errors.New("archive is locked by another process")

	// ErrExists is returned by Create when the path already exists.
	ErrExists = errors.New("file already exists")

	// ErrNotFound is returned when a key, bucket or update does not exist.
	ErrNotFound = errors.New("not found")

	// ErrReadOnly is returned when a write is attempted on an archive opened read-only.
	ErrReadOnly = errors.New("archive is opened read-only")

	// ErrClosed is returned when the archive or writer has been closed.
	ErrClosed = errors.New("archive is closed")

	// ErrWriterActive is returned by NewWriter when the archive already has an open writer.
	ErrWriterActive = errors.New("archive already has an open writer")

	// ErrWriterFailed is returned by a writer after a commit failed; the archive keeps every batch
	// committed before the failure.
	ErrWriterFailed = errors.New("archive writer stopped after a failed commit")

	// ErrBadBucket is returned when a key-value bucket path is empty, malformed, or does not start with
	// one of the reserved namespaces.
	ErrBadBucket = errors.New("invalid key-value bucket path")
)

// VersionError reports an archive whose format version this build cannot read.
type VersionError struct {
	Path      string
	Found     uint32
	Supported uint32
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("%s: archive format version %d is newer than this build supports (%d); upgrade hyperstack",
		e.Path, e.Found, e.Supported)
}

// Unwrap returns ErrNewerVersion.
func (e *VersionError) Unwrap() error { return ErrNewerVersion }

// CommitError reports a failed batch commit. Every batch committed before it is durable.
type CommitError struct {
	// FirstSeq and LastSeq bound the sequence numbers of the batch that was lost.
	FirstSeq, LastSeq uint64
	Err               error
}

func (e *CommitError) Error() string {
	if e.LastSeq == 0 {
		return fmt.Sprintf("commit archive batch: %v", e.Err)
	}
	return fmt.Sprintf("commit archive batch (seq %d-%d): %v", e.FirstSeq, e.LastSeq, e.Err)
}

// Unwrap returns the underlying error.
func (e *CommitError) Unwrap() []error { return []error{ErrWriterFailed, e.Err} }
