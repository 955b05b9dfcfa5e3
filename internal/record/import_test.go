package record_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hyperstack-go/hyperstack/internal/archive"
	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
	"github.com/hyperstack-go/hyperstack/internal/record"
	"github.com/hyperstack-go/hyperstack/internal/source/geysertest"
)

const vixenSHA256 = "86b81eb1f118ef638b5bd7650671918beea910c6116163f25e54c245d10f32b6"

func TestImportVixenSample(t *testing.T) {
	capture := fixturePath(t, "yellowstone/vixen-sample.bin")
	data, err := os.ReadFile(capture)
	require.NoError(t, err)
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != vixenSHA256 {
		t.Fatalf("%s has changed (sha256 %x, want %s); its documented counts no longer apply", capture, sum, vixenSHA256)
	}
	a, err := archive.Create(newArchive(t), archive.Meta{Source: archive.Source{Kind: archive.SourceImport, Capture: "vixen-sample.bin"}}, nil)
	require.NoError(t, err)
	defer a.Close()
	res, err := record.Import(context.Background(), bytes.NewReader(data), a, record.ImportOptions{})
	require.NoError(t, err)
	require.Equal(t, uint64(40_186), res.Records)
	require.Equal(t, int64(len(data)), res.Offset)

	st, err := a.Stats()
	require.NoError(t, err)
	require.Equal(t, uint64(40_186), st.Messages)
	require.Equal(t, map[string]uint64{"entry": 39_840, "slot": 295, "block_meta": 50, "ping": 1}, st.ByKind)
	require.Equal(t, uint64(398_202_741), st.FirstSlot)
	require.Equal(t, uint64(398_202_821), st.LastSlot)
	require.Equal(t, uint64(81), st.Slots)

	// Every record is stored byte-exact, in capture order; the ping is the 30,067th message.
	off := 0
	require.NoError(t, a.Scan(context.Background(), 0, math.MaxUint64, func(u archive.Update) error {
		n := int(binary.BigEndian.Uint32(data[off:]))
		require.Equal(t, data[off+4:off+4+n], u.Raw, "record %d", u.Seq)
		off += 4 + n
		if u.Kind == geyserpb.KindPing {
			require.Equal(t, uint64(30_067), u.Seq)
		}
		return nil
	}))
	require.Equal(t, len(data), off)

	var metas int
	require.NoError(t, a.Scan(context.Background(), 398_202_772, 398_202_772, func(u archive.Update) error {
		if u.Kind == geyserpb.KindBlockMeta {
			m, err := u.Decode()
			require.NoError(t, err)
			require.Equal(t, "6vuFSnAmje863UnGpyg5AcvmL2uWU2V8H5Qs8FRJbTcc", m.GetBlockMeta().GetBlockhash())
			metas++
		}
		return nil
	}))
	require.Equal(t, 1, metas)
}

func capture(t *testing.T, n int) ([]byte, []int) {
	t.Helper()
	var buf bytes.Buffer
	var ends []int
	for i := range n {
		raw, err := protoMarshal(geysertest.Entry(uint64(10+i/3), uint64(i)))
		require.NoError(t, err)
		require.NoError(t, binary.Write(&buf, binary.BigEndian, uint32(len(raw))))
		buf.Write(raw)
		ends = append(ends, buf.Len())
	}
	return buf.Bytes(), ends
}

func TestImportTruncatedCapture(t *testing.T) {
	data, ends := capture(t, 10)
	cases := []struct {
		name     string
		cut      int
		imported uint64
	}{
		{"inside a record", ends[6] + 4 + 3, 7},
		{"inside a length prefix", ends[3] + 2, 4},
		{"right after a length prefix", ends[8] + 4, 9},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, err := archive.Create(newArchive(t), archive.Meta{}, nil)
			require.NoError(t, err)
			defer a.Close()
			res, err := record.Import(context.Background(), bytes.NewReader(data[:tc.cut]), a, record.ImportOptions{})
			require.ErrorIs(t, err, record.ErrTruncatedCapture)
			var ce *record.CaptureError
			require.ErrorAs(t, err, &ce)
			require.Equal(t, int64(ends[tc.imported-1]), ce.Offset)
			require.Equal(t, tc.imported, ce.Imported)
			require.Equal(t, tc.imported+1, ce.Record)
			require.Contains(t, err.Error(), "byte offset")
			require.Equal(t, tc.imported, res.Records)
			cp, err := a.Checkpoint()
			require.NoError(t, err)
			require.Equal(t, tc.imported, cp.Seq, "the complete prefix is durable")
		})
	}
}

func TestImportMalformedCapture(t *testing.T) {
	data, ends := capture(t, 5)
	bad := append([]byte{}, data[:ends[1]]...)
	bad = binary.BigEndian.AppendUint32(bad, 3)
	bad = append(bad, 0xff, 0xff, 0xff) // not a protobuf message
	bad = append(bad, data[ends[1]:]...)
	a, err := archive.Create(newArchive(t), archive.Meta{}, nil)
	require.NoError(t, err)
	defer a.Close()
	_, err = record.Import(context.Background(), bytes.NewReader(bad), a, record.ImportOptions{})
	require.ErrorIs(t, err, record.ErrBadCapture)
	var ce *record.CaptureError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, int64(ends[1]), ce.Offset)
	require.Equal(t, uint64(2), ce.Imported)

	huge := binary.BigEndian.AppendUint32(nil, 1<<31)
	b, err := archive.Create(newArchive(t), archive.Meta{}, nil)
	require.NoError(t, err)
	defer b.Close()
	_, err = record.Import(context.Background(), bytes.NewReader(huge), b, record.ImportOptions{MaxRecord: 1 << 20})
	require.ErrorIs(t, err, record.ErrBadCapture)
	require.Contains(t, err.Error(), "exceeds")
}
