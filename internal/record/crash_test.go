//go:build unix

package record_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hyperstack-go/hyperstack/internal/archive"
	"github.com/hyperstack-go/hyperstack/internal/record"
	"github.com/hyperstack-go/hyperstack/internal/source"
	"github.com/hyperstack-go/hyperstack/internal/source/geysertest"
)

// Environment of the recording subprocess started by TestCrashResume.
const (
	envCrashChild    = "HYPERSTACK_TEST_RECORD_CHILD"
	envCrashEndpoint = "HYPERSTACK_TEST_RECORD_ENDPOINT"
	envCrashArchive  = "HYPERSTACK_TEST_RECORD_ARCHIVE"
	envCrashFileSize = "HYPERSTACK_TEST_RECORD_FSIZE"
)

func TestMain(m *testing.M) {
	if os.Getenv(envCrashChild) == "1" {
		os.Exit(crashChild())
	}
	os.Exit(m.Run())
}

// crashChild records from the endpoint into the archive until SIGTERM, printing "durable N" after
// every commit.
func crashChild() int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	path := os.Getenv(envCrashArchive)
	if v := os.Getenv(envCrashFileSize); v != "" {
		// A file size limit makes the kernel refuse writes past it (EFBIG), as a full disk would.
		n, _ := strconv.ParseUint(v, 10, 64)
		signal.Ignore(syscall.SIGXFSZ)
		if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: n, Max: n}); err != nil {
			fmt.Fprintln(os.Stderr, "setrlimit:", err)
			return 3
		}
	}
	a, _, err := archive.OpenOrCreate(path, archive.Meta{Source: archive.Source{Kind: archive.SourceYellowstone}}, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		return 3
	}
	out := bufio.NewWriter(os.Stdout)
	rec := &record.Recorder{Archive: a, Writer: archive.WriterConfig{BatchSize: 32, BatchInterval: time.Millisecond,
		OnCommit: func(cp archive.Checkpoint) {
			fmt.Fprintf(out, "durable %d\n", cp.Seq)
			_ = out.Flush()
		}}}
	src, err := source.New(source.Config{
		Endpoint:   os.Getenv(envCrashEndpoint),
		Commitment: "processed",
		Filters:    source.Filters{AccountOwners: []string{ownerA.String()}, Slots: true},
		ResumeSlot: rec.ResumeSlot,
		Seen:       rec.Seen,
		Backoff:    source.Backoff{Initial: time.Millisecond, Max: 10 * time.Millisecond},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "source:", err)
		return 3
	}
	rec.Source = src
	err = rec.Run(ctx)
	if cerr := a.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "record:", err)
		return 1
	}
	return 0
}

type child struct {
	cmd     *exec.Cmd
	durable chan uint64
	exited  chan error
	stderr  *strings.Builder // read only after exited delivered
}

func startChild(t *testing.T, endpoint, path string, env ...string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envCrashChild+"=1", envCrashEndpoint+"="+endpoint, envCrashArchive+"="+path)
	cmd.Env = append(cmd.Env, env...)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	stderr := &strings.Builder{}
	cmd.Stderr = stderr
	require.NoError(t, cmd.Start())
	c := &child{cmd: cmd, durable: make(chan uint64, 1<<16), exited: make(chan error, 1), stderr: stderr}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if n, ok := strings.CutPrefix(sc.Text(), "durable "); ok {
				v, _ := strconv.ParseUint(n, 10, 64)
				c.durable <- v
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		c.exited <- cmd.Wait()
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	return c
}

func (c *child) waitDurable(t *testing.T, n uint64) {
	t.Helper()
	for {
		select {
		case v := <-c.durable:
			if v >= n {
				return
			}
		case err := <-c.exited:
			t.Fatalf("recorder subprocess exited before seq %d: %v", n, err)
		}
	}
}

// TestCrashResume kills a recording subprocess with SIGKILL at random points and checks after each
// kill that the archive opens, passes bbolt's consistency check and holds a clean prefix of the
// stream; the final run must complete it with no duplicate and no missing sequence number.
func TestCrashResume(t *testing.T) {
	if testing.Short() {
		t.Skip("subprocess crash test skipped in -short mode")
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed>>1))

	const slots = 400
	feed := streamFor(1, slots+1, 6)
	want := dedupKeys(t, wanted(feed))
	ts := geysertest.Start(t, geysertest.Options{PingInterval: -1, RingSize: 1 << 16, ReplaySlots: 100_000})
	path := filepath.Join(t.TempDir(), "crash.archive")

	fed := 0
	feedSome := func(n int) <-chan struct{} {
		end := min(fed+n, len(feed))
		chunk := feed[fed:end]
		fed = end
		done := make(chan struct{})
		go func() {
			defer close(done)
			for _, u := range chunk {
				if err := ts.Publish(u, nil); err != nil {
					return
				}
			}
		}()
		return done
	}

	const kills = 6
	for round := range kills {
		c := startChild(t, ts.Endpoint, path)
		require.NoError(t, ts.WaitApplied(context.Background(), round+1))
		done := feedSome(200 + rng.IntN(300))
		if round == 0 {
			c.waitDurable(t, 1) // a new recording starts at the live head: let it hold something first
		}
		time.Sleep(time.Duration(rng.IntN(40_000)) * time.Microsecond)
		require.NoError(t, c.cmd.Process.Signal(syscall.SIGKILL))
		<-c.exited
		<-done

		a, err := archive.Open(path, &archive.Options{ReadOnly: true})
		require.NoError(t, err, "round %d: the archive opens after SIGKILL", round)
		require.NoError(t, a.Check(), "round %d", round)
		cp, err := a.Checkpoint()
		require.NoError(t, err)
		require.NoError(t, a.Close())
		got := archivedKeys(t, path)
		require.Equal(t, int(cp.Seq), len(got))
		require.Equal(t, want[:len(got)], got, "round %d: the archive holds a clean prefix of the stream", round)
		t.Logf("round %d: killed with %d of %d updates durable", round, len(got), len(want))
	}

	c := startChild(t, ts.Endpoint, path)
	require.NoError(t, ts.WaitApplied(context.Background(), kills+1))
	<-feedSome(len(feed))
	c.waitDurable(t, uint64(len(want)))
	require.NoError(t, c.cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, <-c.exited, "SIGTERM stops the recorder cleanly")
	require.Equal(t, want, archivedKeys(t, path), "no duplicate and no missing update after %d crashes", kills)
}

// TestDiskFullStopsWithErrorArchiveIntact records in a subprocess whose file size limit stands in for a
// full disk: the recorder must stop with an error, and the archive must open with a clean prefix.
func TestDiskFullStopsWithErrorArchiveIntact(t *testing.T) {
	if testing.Short() {
		t.Skip("subprocess test skipped in -short mode")
	}
	feed := streamFor(1, 3000, 6)
	want := dedupKeys(t, wanted(feed))
	ts := geysertest.Start(t, geysertest.Options{PingInterval: -1, RingSize: 1 << 15})
	path := filepath.Join(t.TempDir(), "full.archive")
	a, err := archive.Create(path, archive.Meta{}, nil)
	require.NoError(t, err)
	require.NoError(t, a.Close())

	c := startChild(t, ts.Endpoint, path, envCrashFileSize+"=300000")
	require.NoError(t, ts.WaitApplied(context.Background(), 1))
	go func() {
		for _, u := range feed {
			if ts.Publish(u, nil) != nil {
				return
			}
		}
	}()
	err = <-c.exited
	var exitErr *exec.ExitError
	require.ErrorAs(t, err, &exitErr, "the recorder must stop with an error")
	require.Equal(t, 1, exitErr.ExitCode())
	require.Contains(t, c.stderr.String(), "file too large")
	t.Logf("recorder stderr: %s", strings.TrimSpace(c.stderr.String()))

	a, err = archive.Open(path, &archive.Options{ReadOnly: true})
	require.NoError(t, err)
	require.NoError(t, a.Check())
	require.NoError(t, a.Close())
	got := archivedKeys(t, path)
	require.NotEmpty(t, got)
	require.Less(t, len(got), len(want))
	require.Equal(t, want[:len(got)], got)
}
