package command

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/hyperstack-go/hyperstack/internal/archive"
	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
	"github.com/hyperstack-go/hyperstack/internal/source/geysertest"
)

// syncBuffer is a bytes.Buffer safe for a writer goroutine and a polling reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func recordFactory(terminal bool) (*Factory, *syncBuffer, *syncBuffer) {
	out, errOut := &syncBuffer{}, &syncBuffer{}
	return &Factory{
		IO:     IOStreams{In: &bytes.Buffer{}, Out: out, ErrOut: errOut, IsTerminal: func() bool { return terminal }},
		Getenv: func(string) string { return "" },
		Now:    func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) },
	}, out, errOut
}

func inspectJSON(t *testing.T, path string) map[string]any {
	t.Helper()
	f, out, errOut := recordFactory(false)
	require.Equal(t, ExitOK, Run(context.Background(), f, []string{"inspect", "archive", path, "--json"}), errOut.String())
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(out.String()), &m))
	return m
}

func sha(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return sha256.Sum256(b)
}

func TestRecordImportAndInspectVixenSample(t *testing.T) {
	capture := eventsSharedFixture(t, "yellowstone/vixen-sample.bin")
	out := filepath.Join(t.TempDir(), "vixen.archive")
	f, stdout, errOut := recordFactory(false)
	require.Equal(t, ExitOK, Run(context.Background(), f, []string{"record", "--import", capture, "--out", out}), errOut.String())
	require.Contains(t, stdout.String(), "imported 40186 updates")

	m := inspectJSON(t, out)
	require.EqualValues(t, 40_186, m["messages"])
	require.Equal(t, map[string]any{"entry": 39_840.0, "slot": 295.0, "block_meta": 50.0, "ping": 1.0}, m["by_kind"])
	require.EqualValues(t, 398_202_741, m["first_slot"])
	require.EqualValues(t, 398_202_821, m["last_slot"])
	require.Equal(t, []any{}, m["gaps"])
	require.EqualValues(t, archive.FormatVersion, m["format_version"])
	require.Positive(t, m["file_size"])
	meta := m["metadata"].(map[string]any)
	src := meta["source"].(map[string]any)
	require.Equal(t, "import", src["kind"])
	require.Equal(t, "vixen-sample.bin", src["capture"])
	require.Equal(t, "86b81eb1f118ef638b5bd7650671918beea910c6116163f25e54c245d10f32b6", src["capture_sha256"])

	f, stdout, errOut = recordFactory(false)
	require.Equal(t, ExitOK, Run(context.Background(), f, []string{"inspect", "archive", out, "--check"}), errOut.String())
	text := stdout.String()
	for _, want := range []string{"format version  1", "messages        40186", "entry", "398202741 - 398202821", "gaps            none", "check           ok"} {
		require.Contains(t, text, want)
	}

	// Importing over an existing file is refused and leaves it alone.
	before := sha(t, out)
	f, _, errOut = recordFactory(false)
	require.Equal(t, ExitFailure, Run(context.Background(), f, []string{"record", "--import", capture, "--out", out}))
	require.Contains(t, errOut.String(), "file already exists")
	require.Equal(t, before, sha(t, out))
}

func TestRecordImportTruncatedCapture(t *testing.T) {
	dir := t.TempDir()
	var buf bytes.Buffer
	for i := range 5 {
		raw, err := proto.Marshal(geysertest.Entry(100, uint64(i)))
		require.NoError(t, err)
		buf.Write(binary.BigEndian.AppendUint32(nil, uint32(len(raw))))
		buf.Write(raw)
	}
	full := buf.Len()
	capture := filepath.Join(dir, "cut.bin")
	require.NoError(t, os.WriteFile(capture, buf.Bytes()[:full-3], 0o644))
	out := filepath.Join(dir, "cut.archive")
	f, stdout, errOut := recordFactory(false)
	require.Equal(t, ExitFailure, Run(context.Background(), f, []string{"record", "--import", capture, "--out", out}))
	require.Contains(t, errOut.String(), "capture is truncated at byte offset")
	require.Contains(t, stdout.String(), "imported 4 updates")
	require.EqualValues(t, 4, inspectJSON(t, out)["messages"])
}

func TestInspectArchiveRefusesNonArchives(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.txt")
	require.NoError(t, os.WriteFile(text, []byte("not an archive"), 0o644))
	before := sha(t, text)
	for _, args := range [][]string{
		{"inspect", "archive", text},
		{"record", "--endpoint", "http://127.0.0.1:1", "--slots", "--out", text},
		{"record", "--import", text, "--out", text},
	} {
		f, _, errOut := recordFactory(false)
		require.Equal(t, ExitFailure, Run(context.Background(), f, args), args)
		require.NotEmpty(t, errOut.String())
		require.Equal(t, before, sha(t, text), "%v must leave the file byte-identical", args)
	}
	f, _, errOut := recordFactory(false)
	require.Equal(t, ExitFailure, Run(context.Background(), f, []string{"inspect", "archive", text}))
	require.Contains(t, errOut.String(), "not a hyperstack archive")

	f, _, errOut = recordFactory(false)
	require.Equal(t, ExitUsage, Run(context.Background(), f, []string{"record", "--slots"}))
	require.Contains(t, errOut.String(), "--out FILE is required")
	f, _, errOut = recordFactory(false)
	require.Equal(t, ExitUsage, Run(context.Background(), f, []string{"record", "--endpoint", "ftp://x", "--slots", "--out", filepath.Join(dir, "new.archive")}))
	require.Contains(t, errOut.String(), "bad endpoint")
	_, err := os.Stat(filepath.Join(dir, "new.archive"))
	require.ErrorIs(t, err, os.ErrNotExist, "a usage error creates no archive")
}

// durableRe finds the durable count in record's progress output.
var durableRe = regexp.MustCompile(`durable #(\d+)`)

// recordUntil runs the record command (args), calls feed once ts has applied `applied`
// subscriptions, waits until the progress line shows `durable` durable updates or more (duplicates
// would overshoot; the caller's checks then fail instead of this waiting forever), then stops the
// command, which must exit 0.
func recordUntil(t *testing.T, ts *geysertest.Server, applied, durable int, feed func(), args ...string) {
	t.Helper()
	f, _, errOut := recordFactory(true)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	code := make(chan int, 1)
	go func() { code <- Run(ctx, f, args) }()
	require.NoError(t, ts.WaitApplied(context.Background(), applied))
	feed()
	reached := func() bool {
		for _, m := range durableRe.FindAllStringSubmatch(errOut.String(), -1) {
			if n, _ := strconv.Atoi(m[1]); n >= durable {
				return true
			}
		}
		return false
	}
	for !reached() {
		select {
		case c := <-code:
			t.Fatalf("record exited with %d before %d durable updates: %s", c, durable, errOut.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel()
	require.Equal(t, ExitOK, <-code, errOut.String())
}

func TestRecordCommandRecordsAndResumes(t *testing.T) {
	ts := geysertest.Start(t, geysertest.Options{XToken: "secret-token", PingInterval: -1})
	out := filepath.Join(t.TempDir(), "live.archive")
	owner := geysertest.Key(77)

	feed := func(from, to uint64) int {
		n := 0
		for s := from; s < to; s++ {
			ts.Feed(geysertest.Account(s, geysertest.Key(int(s)), owner, 5, []byte{1, 2, 3}, s),
				geysertest.Slot(s, geyserpb.SlotStatus_SLOT_PROCESSED))
			n += 2
		}
		return n
	}
	// record runs the command, feeding slots [from, to), until `want` updates are durable.
	record := func(want int, applied int, from, to uint64, args ...string) {
		recordUntil(t, ts, applied, want, func() { feed(from, to) }, args...)
	}
	record(20, 1, 1, 11, "record", "--endpoint", ts.Endpoint, "--x-token", "secret-token", "--owner", owner.String(),
		"--slots", "--commitment", "processed", "--batch-interval", "5ms", "--out", out)
	m := inspectJSON(t, out)
	require.EqualValues(t, 20, m["messages"])
	src := m["metadata"].(map[string]any)["source"].(map[string]any)
	require.Equal(t, ts.Endpoint, src["endpoint"])
	require.Equal(t, "processed", src["commitment"])
	require.NotContains(t, strings.Join([]string{out, string(mustJSON(t, m))}, ""), "secret-token")

	// Resume with no filters: endpoint, filters and commitment come from the archive.
	feed(11, 16) // recorded while stopped, replayed through from_slot
	record(40, 2, 16, 21, "record", "--x-token", "secret-token", "--batch-interval", "5ms", "--out", out)
	m = inspectJSON(t, out)
	require.EqualValues(t, 40, m["messages"])
	require.EqualValues(t, 1, m["first_slot"])
	require.EqualValues(t, 20, m["last_slot"])
	require.Equal(t, map[string]any{"account": 20.0, "slot": 20.0}, m["by_kind"])
	reqs := ts.Requests()
	require.Equal(t, uint64(8), reqs[len(reqs)-1].Msg.GetFromSlot(), "two slots before the last stored, 10")

	// A wider resume margin replays more slots; what is already stored is still dropped.
	feed(21, 26) // recorded while stopped
	record(60, 3, 26, 31, "record", "--x-token", "secret-token", "--batch-interval", "5ms", "--resume-margin", "6", "--out", out)
	m = inspectJSON(t, out)
	require.EqualValues(t, 60, m["messages"])
	require.EqualValues(t, 30, m["last_slot"])
	require.Equal(t, map[string]any{"account": 30.0, "slot": 30.0}, m["by_kind"])
	reqs = ts.Requests()
	require.Equal(t, uint64(14), reqs[len(reqs)-1].Msg.GetFromSlot(), "six slots before the last stored, 20")
	f, _, errOut := recordFactory(false)
	require.Equal(t, ExitUsage, Run(context.Background(), f, []string{"record", "--resume-margin", "-1", "--out", out}))
	require.Contains(t, errOut.String(), "--resume-margin must be 0 or more")

	// Different filters on resume are a usage error.
	f, _, errOut = recordFactory(false)
	require.Equal(t, ExitUsage, Run(context.Background(), f, []string{"record", "--x-token", "secret-token", "--blocks-meta", "--out", out}))
	require.Contains(t, errOut.String(), "resume it with the same filters")

	// A bad token stops at once.
	f, _, errOut = recordFactory(false)
	require.Equal(t, ExitFailure, Run(context.Background(), f, []string{"record", "--x-token", "wrong", "--out", out}))
	require.Contains(t, errOut.String(), "unauthenticated")
	require.EqualValues(t, 60, inspectJSON(t, out)["messages"], "nothing lost")
}

func TestRecordCommandOverTLSWithCACert(t *testing.T) {
	srvTLS, _, certPEM := geysertest.SelfSigned(t)
	ts := geysertest.Start(t, geysertest.Options{TLS: srvTLS, PingInterval: -1})
	dir := t.TempDir()
	ca := filepath.Join(dir, "endpoint.pem")
	require.NoError(t, os.WriteFile(ca, certPEM, 0o600))
	out := filepath.Join(dir, "tls.archive")

	recordUntil(t, ts, 1, 2, func() {
		ts.Feed(geysertest.Slot(3, geyserpb.SlotStatus_SLOT_PROCESSED), geysertest.Slot(4, geyserpb.SlotStatus_SLOT_PROCESSED))
	}, "record", "--endpoint", ts.Endpoint, "--ca-cert", ca, "--slots", "--commitment", "processed",
		"--batch-interval", "5ms", "--out", out)
	require.EqualValues(t, 2, inspectJSON(t, out)["messages"])

	// A file without a certificate is a usage error that creates nothing.
	bad := filepath.Join(dir, "empty.pem")
	require.NoError(t, os.WriteFile(bad, []byte("not a certificate\n"), 0o600))
	f, _, errOut := recordFactory(false)
	require.Equal(t, ExitUsage, Run(context.Background(), f, []string{"record", "--endpoint", ts.Endpoint, "--ca-cert", bad,
		"--slots", "--out", filepath.Join(dir, "never.archive")}))
	require.Contains(t, errOut.String(), "no PEM certificate")
	_, err := os.Stat(filepath.Join(dir, "never.archive"))
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestInspectArchiveLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "busy.archive")
	a, err := archive.Create(path, archive.Meta{}, nil)
	require.NoError(t, err)
	defer a.Close()
	f, _, errOut := recordFactory(false)
	require.Equal(t, ExitFailure, Run(context.Background(), f, []string{"inspect", "archive", path}))
	require.Contains(t, errOut.String(), "archive is locked by another process")
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}
