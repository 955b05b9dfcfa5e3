package archive_test

import (
	"context"
	"math"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hyperstack-go/hyperstack/internal/archive"
	"github.com/hyperstack-go/hyperstack/internal/archive/archivetest"
)

// TestDamagedPagesAreReportedNotFatal scribbles over data pages of a valid archive: opening,
// scanning and checking must report an error (or, for damage that happens to be harmless, succeed)
// and never crash the process.
func TestDamagedPagesAreReportedNotFatal(t *testing.T) {
	a := archivetest.MustCreate(t, &archive.Options{NoSync: true})
	w, err := a.NewWriter(archive.WriterConfig{})
	require.NoError(t, err)
	for i := range 3000 {
		_, err := w.Append(archivetest.Incoming(t, archivetest.AccountUpdate(uint64(i/10), uint64(i), byte(i), 300)))
		require.NoError(t, err)
	}
	require.NoError(t, a.Close())
	good, err := os.ReadFile(a.Path())
	require.NoError(t, err)

	const page = 4096
	detected := 0
	for _, at := range []int{2, 3, 5, 8, 13, 40, 100, 200, len(good)/page - 2} {
		bad := append([]byte(nil), good...)
		for i := at * page; i < (at+1)*page && i < len(bad); i++ {
			bad[i] = byte(i*131 + at)
		}
		require.NoError(t, os.WriteFile(a.Path(), bad, 0o644))
		r, err := archive.Open(a.Path(), &archive.Options{ReadOnly: true})
		if err != nil {
			require.ErrorIs(t, err, archive.ErrCorrupt, "page %d", at)
			detected++
			continue
		}
		scanErr := r.Scan(context.Background(), 0, math.MaxUint64, func(archive.Update) error { return nil })
		checkErr := r.Check()
		_, statsErr := r.Stats()
		require.NoError(t, r.Close())
		if scanErr != nil || checkErr != nil || statsErr != nil {
			detected++
		}
		if rw, err := archive.Open(a.Path(), nil); err == nil {
			_ = rw.Close()
		}
	}
	require.Positive(t, detected)
}
