package replay

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hyperstack-go/hyperstack/fixtures"
	"github.com/hyperstack-go/hyperstack/internal/archive"
	"github.com/hyperstack-go/hyperstack/internal/sim"
	"github.com/hyperstack-go/hyperstack/internal/stack"
	"github.com/hyperstack-go/hyperstack/internal/vm"
)

// demoArchive is a fresh spl-token simulator archive of slots slots, open for writing.
func demoArchive(t *testing.T, seed, slots uint64) *archive.Archive {
	t.Helper()
	path := simArchive(t, t.TempDir(), sim.ScenarioSPLToken, seed, slots, sim.Options{})
	a, err := archive.Open(path, &archive.Options{NoSync: true})
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Close() })
	return a
}

// replayBytes runs the demo stack over a and returns the JSON lines.
func replayBytes(t *testing.T, a *archive.Archive, opts Options) ([]byte, *Result) {
	t.Helper()
	if opts.Spec == nil {
		opts.Spec, opts.Program = demoStack(t)
	}
	var out bytes.Buffer
	opts.Out = &out
	res, err := Run(context.Background(), a, opts)
	require.NoError(t, err)
	return out.Bytes(), res
}

func TestRunWritesCanonicalLines(t *testing.T) {
	a := demoArchive(t, 1, 30)
	out, res := replayBytes(t, a, Options{})
	require.NotZero(t, res.Mutations)
	require.Zero(t, res.Pipeline.BadUpdates)
	require.Zero(t, res.Pipeline.HandlerErrors)
	cp, err := a.Checkpoint()
	require.NoError(t, err)
	require.Equal(t, cp.Seq, res.Updates, "every update is fed")
	require.Equal(t, cp.Seq, res.LastSeq)

	lines, err := ParseLines(out)
	require.NoError(t, err)
	require.Len(t, lines, int(res.Mutations))
	entities := map[string]bool{}
	for i, l := range lines {
		entities[l.Entity] = true
		require.Equal(t, uint64(i+1), l.Seq, "mutation sequence numbers count from 1 without holes")
		require.NotEmpty(t, l.Handler)
		var patch map[string]any
		require.NoError(t, json.Unmarshal(l.Patch, &patch), "patch is an object")
	}
	require.True(t, entities["Mint"] && entities["TokenAccount"], "entities: %v", entities)
	// Re-encoding a parsed line gives the same bytes: the format is canonical.
	first := out[:bytes.IndexByte(out, '\n')+1]
	require.True(t, bytes.HasPrefix(first, []byte(`{"slot":`)))
	require.True(t, bytes.HasSuffix(first, []byte("}\n")))
}

func TestRunDeterministicAcrossRuns(t *testing.T) {
	a := demoArchive(t, 2, 40)
	first, _ := replayBytes(t, a, Options{})
	second, _ := replayBytes(t, a, Options{})
	require.NotEmpty(t, first)
	require.True(t, bytes.Equal(first, second), "two replays of the same archive differ")
}

// TestReplayChild is the subprocess of TestRunDeterministicAcrossGOMAXPROCS: it replays the archive
// named by HYPERSTACK_REPLAY_CHILD_ARCHIVE into HYPERSTACK_REPLAY_CHILD_OUT.
func TestReplayChild(t *testing.T) {
	path := os.Getenv("HYPERSTACK_REPLAY_CHILD_ARCHIVE")
	if path == "" {
		t.Skip("subprocess of TestRunDeterministicAcrossGOMAXPROCS")
	}
	a, err := archive.Open(path, &archive.Options{ReadOnly: true})
	require.NoError(t, err)
	defer a.Close()
	out, _ := replayBytes(t, a, Options{})
	require.NoError(t, os.WriteFile(os.Getenv("HYPERSTACK_REPLAY_CHILD_OUT"), out, 0o644))
}

func TestRunDeterministicAcrossGOMAXPROCS(t *testing.T) {
	dir := t.TempDir()
	path := simArchive(t, dir, sim.ScenarioSPLToken, 3, 60, sim.Options{})
	var outs [][]byte
	for _, procs := range []int{1, 2} {
		outPath := filepath.Join(dir, "out-"+strconv.Itoa(procs)+".jsonl")
		cmd := exec.Command(os.Args[0], "-test.run=^TestReplayChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), "GOMAXPROCS="+strconv.Itoa(procs),
			"HYPERSTACK_REPLAY_CHILD_ARCHIVE="+path, "HYPERSTACK_REPLAY_CHILD_OUT="+outPath)
		b, err := cmd.CombinedOutput()
		require.NoError(t, err, "child with GOMAXPROCS=%d: %s", procs, b)
		out, err := os.ReadFile(outPath)
		require.NoError(t, err)
		require.NotEmpty(t, out)
		outs = append(outs, out)
	}
	require.True(t, bytes.Equal(outs[0], outs[1]), "output differs between GOMAXPROCS 1 and 2")
}

func TestRunOREDeterministic(t *testing.T) {
	spec, prog, idls := oreStack(t)
	path := simArchive(t, t.TempDir(), sim.ScenarioOre, 5, 60, sim.Options{IDLs: idls})
	a, err := archive.Open(path, &archive.Options{ReadOnly: true})
	require.NoError(t, err)
	defer a.Close()
	first, res := replayBytes(t, a, Options{Spec: spec, Program: prog})
	require.NotZero(t, res.Mutations)
	require.Zero(t, res.Pipeline.VM.Undecodable)
	second, _ := replayBytes(t, a, Options{Spec: spec, Program: prog})
	require.True(t, bytes.Equal(first, second))
}

func TestRunSlotRange(t *testing.T) {
	a := demoArchive(t, 4, 40)
	all, _ := replayBytes(t, a, Options{})
	st, err := a.Stats()
	require.NoError(t, err)
	from, to := st.FirstSlot+10, st.FirstSlot+20
	part, res := replayBytes(t, a, Options{FromSlot: from, ToSlot: to})
	require.NotZero(t, res.Mutations)
	lines, err := ParseLines(part)
	require.NoError(t, err)
	for _, l := range lines {
		require.GreaterOrEqual(t, l.Slot, from)
		require.LessOrEqual(t, l.Slot, to)
	}
	require.Less(t, len(part), len(all))

	// ToSeq stops after that update: the output is a prefix of the full run.
	_, full := replayBytes(t, a, Options{})
	prefix, res := replayBytes(t, a, Options{ToSeq: full.LastSeq / 2})
	require.Equal(t, full.LastSeq/2, res.LastSeq)
	require.True(t, bytes.HasPrefix(all, prefix))
	require.Less(t, len(prefix), len(all))
}

func TestWriteGoldenThenVerify(t *testing.T) {
	a := demoArchive(t, 5, 40)
	spec, prog := demoStack(t)
	ctx := context.Background()

	_, err := Verify(ctx, a, VerifyOptions{Options: Options{Spec: spec, Program: prog}})
	require.ErrorIs(t, err, ErrNoGoldens)

	out, res := replayBytes(t, a, Options{Spec: spec, Program: prog, WriteGolden: true})
	require.NotNil(t, res.Golden)
	require.Equal(t, spec.ContentHash(), res.Golden.StackHash)
	require.Equal(t, res.Mutations, res.Golden.Mutations)
	require.Equal(t, res.Updates, res.Golden.Updates)
	require.NotZero(t, res.Golden.Records)

	// The golden holds exactly the replay's output, and its chain digest covers it.
	g, err := OpenGolden(a, spec.ContentHash())
	require.NoError(t, err)
	var stored []byte
	var prev [32]byte
	c := newChainer()
	require.NoError(t, g.Records(ctx, 0, 0, func(r Record) error {
		stored = append(stored, r.Lines...)
		prev = c.next(prev, r.Seq, r.Slot, r.Lines)
		require.Equal(t, prev, r.Digest)
		return nil
	}))
	require.Equal(t, out, stored)
	require.Equal(t, g.Info.Digest, res.Golden.Digest)

	vr, err := Verify(ctx, a, VerifyOptions{Options: Options{Spec: spec, Program: prog}})
	require.NoError(t, err)
	require.Nil(t, vr.Divergence)
	require.Equal(t, res.Golden.Records, vr.Compared)
	require.Equal(t, res.Golden.Digest, vr.Digest)

	// Writing the golden again replaces it with an identical one.
	_, res2 := replayBytes(t, a, Options{Spec: spec, Program: prog, WriteGolden: true})
	require.Equal(t, res.Golden.Digest, res2.Golden.Digest)
	infos, err := Goldens(a)
	require.NoError(t, err)
	require.Len(t, infos, 1)
}

func TestVerifyUnknownHashListsGoldens(t *testing.T) {
	a := demoArchive(t, 6, 10)
	spec, prog := demoStack(t)
	_, _ = replayBytes(t, a, Options{Spec: spec, Program: prog, WriteGolden: true})
	_, err := Verify(context.Background(), a, VerifyOptions{Options: Options{Spec: spec, Program: prog}, GoldenHash: "feedface"})
	var ng *NoGoldenError
	require.ErrorAs(t, err, &ng)
	require.Equal(t, []string{spec.ContentHash()}, ng.Hashes())
	require.Contains(t, err.Error(), spec.ContentHash())
	require.Contains(t, err.Error(), spec.StackName)
}

// changedDemoStack is the demo stack with TokenAccount's token.delegated_amount written to
// token.delegated instead, re-hashed.
func changedDemoStack(t testing.TB) (*stack.Spec, *vm.Program) {
	t.Helper()
	old := []byte(`"target_path": "token.delegated_amount"`)
	require.Equal(t, 1, bytes.Count(fixtures.SPLTokenStack, old))
	data := bytes.Replace(fixtures.SPLTokenStack, old, []byte(`"target_path": "token.delegated"`), 1)
	spec, err := stack.Decode(data)
	require.NoError(t, err)
	spec.SetContentHashes()
	spec, err = stack.Parse(spec.MarshalPretty())
	require.NoError(t, err)
	prog, err := vm.Compile(spec)
	require.NoError(t, err)
	return spec, prog
}

func TestVerifyChangedStackReportsFirstDivergence(t *testing.T) {
	a := demoArchive(t, 7, 40)
	spec, prog := demoStack(t)
	out, _ := replayBytes(t, a, Options{Spec: spec, Program: prog, WriteGolden: true})

	// Independently: the first mutation of the original output that writes token.delegated_amount.
	lines, err := ParseLines(out)
	require.NoError(t, err)
	var want *Line
	for i := range lines {
		var p struct {
			Token map[string]json.RawMessage `json:"token"`
		}
		require.NoError(t, json.Unmarshal(lines[i].Patch, &p))
		if _, ok := p.Token["delegated_amount"]; ok {
			want = &lines[i]
			break
		}
	}
	require.NotNil(t, want, "the demo output writes token.delegated_amount")

	cspec, cprog := changedDemoStack(t)
	require.NotEqual(t, spec.ContentHash(), cspec.ContentHash())
	vr, err := Verify(context.Background(), a, VerifyOptions{Options: Options{Spec: cspec, Program: cprog},
		GoldenHash: spec.ContentHash()})
	require.NoError(t, err)
	d := vr.Divergence
	require.NotNil(t, d)
	require.Equal(t, want.Slot, d.Slot)
	require.Equal(t, "TokenAccount", d.Entity)
	require.Equal(t, string(want.Key), string(d.Key))
	report := d.Report()
	require.Contains(t, report, "slot "+strconv.FormatUint(want.Slot, 10))
	require.Contains(t, report, "- token.delegated_amount: ")
	require.Contains(t, report, "+ token.delegated: ")

	// Without --golden the changed stack has no golden of its own.
	_, err = Verify(context.Background(), a, VerifyOptions{Options: Options{Spec: cspec, Program: cprog}})
	var ng *NoGoldenError
	require.ErrorAs(t, err, &ng)
}

func TestVerifyDetectsChangedGoldenRecord(t *testing.T) {
	a := demoArchive(t, 8, 20)
	spec, prog := demoStack(t)
	_, res := replayBytes(t, a, Options{Spec: spec, Program: prog, WriteGolden: true})
	g, err := OpenGolden(a, spec.ContentHash())
	require.NoError(t, err)
	var victim Record
	n := 0
	require.NoError(t, g.Records(context.Background(), 0, 0, func(r Record) error {
		n++
		if n == int(res.Golden.Records/2) {
			victim = r
		}
		return nil
	}))
	ctx := context.Background()
	opts := VerifyOptions{Options: Options{Spec: spec, Program: prog}}

	// A stored digest that does not match its lines is corruption.
	bad := victim
	bad.Digest[0] ^= 1
	require.NoError(t, a.Put(namesOf(spec.ContentHash()).records, seqKey(bad.Seq), appendRecordValue(nil, bad.Digest, bad.Slot, bad.Lines)))
	_, err = Verify(ctx, a, opts)
	require.ErrorIs(t, err, ErrCorruptGolden)

	// Different lines are a divergence at that update.
	changed := bytes.Replace(victim.Lines, []byte(`"patch":{`), []byte(`"patch":{"x":1,`), 1)
	require.NoError(t, a.Put(namesOf(spec.ContentHash()).records, seqKey(victim.Seq), appendRecordValue(nil, victim.Digest, victim.Slot, changed)))
	vr, err := Verify(ctx, a, opts)
	require.NoError(t, err)
	require.NotNil(t, vr.Divergence)
	require.Equal(t, victim.Seq, vr.Divergence.Seq)
	require.Equal(t, victim.Slot, vr.Divergence.Slot)
	require.Contains(t, vr.Divergence.Report(), "- x: 1")

	// A record the replay does not produce.
	require.NoError(t, a.Put(namesOf(spec.ContentHash()).records, seqKey(victim.Seq), appendRecordValue(nil, victim.Digest, victim.Slot, victim.Lines)))
	extra := res.Golden.LastSeq - 1
	if _, err := g.Record(extra); err == nil {
		extra = 0
	}
	if extra != 0 {
		require.NoError(t, a.Put(namesOf(spec.ContentHash()).records, seqKey(extra), appendRecordValue(nil, victim.Digest, 1, victim.Lines)))
		vr, err = Verify(ctx, a, opts)
		require.NoError(t, err)
		require.NotNil(t, vr.Divergence)
		require.Equal(t, extra, vr.Divergence.Seq)
		require.Empty(t, vr.Divergence.Actual)
		require.Contains(t, vr.Divergence.Report(), "actual: no mutation")
	}
}

func TestResolverAnswersAreRecordedAndReplayed(t *testing.T) {
	spec, prog, idls := oreStack(t)
	path := simArchive(t, t.TempDir(), sim.ScenarioOre, 11, 40, sim.Options{IDLs: idls})
	a, err := archive.Open(path, &archive.Options{NoSync: true})
	require.NoError(t, err)
	defer a.Close()
	// The ORE stack asks the token resolver for the ORE mint's metadata; a static resolver answers
	// the first run.
	calls := 0
	static := resolverFunc(func(kind vm.ResolverKind, key string) ([]byte, bool) {
		if kind != vm.ResolveToken {
			return nil, false
		}
		calls++
		return vm.TokenAnswer(key, vm.TokenMetadata{Name: "Ore", Symbol: "ORE", Decimals: 11}), true
	})
	opts := Options{Spec: spec, Program: prog}
	withAnswers, _ := replayBytes(t, a, Options{Spec: spec, Program: prog, WriteGolden: true, VM: &vm.Config{Resolvers: static}})
	require.NotZero(t, calls, "the ORE stack asks the token resolver")
	require.Contains(t, string(withAnswers), `"symbol":"ORE"`)
	answers, err := Answers(context.Background(), a, spec.ContentHash())
	require.NoError(t, err)
	require.NotEmpty(t, answers)
	for k := range answers {
		require.True(t, strings.HasPrefix(k, "token\x00"), k)
	}
	// A later replay without any resolver gets the recorded answers: same bytes, and verify passes.
	again, _ := replayBytes(t, a, opts)
	require.Equal(t, withAnswers, again)
	vr, err := Verify(context.Background(), a, VerifyOptions{Options: opts})
	require.NoError(t, err)
	require.Nil(t, vr.Divergence)

	// Without the recorded answers the output differs (the proof that they are used).
	_, err = Run(context.Background(), a, Options{Spec: spec, Program: prog, WriteGolden: true})
	require.NoError(t, err) // re-records: the answers are fed again and kept
	kept, err := Answers(context.Background(), a, spec.ContentHash())
	require.NoError(t, err)
	require.Equal(t, answers, kept)
	bare, _ := replayBytes(t, a, Options{Spec: spec, Program: prog, AnswersFrom: "none"})
	require.NotEqual(t, withAnswers, bare)
}

type resolverFunc func(kind vm.ResolverKind, key string) ([]byte, bool)

func (f resolverFunc) Resolve(kind vm.ResolverKind, key string) ([]byte, bool) { return f(kind, key) }

func TestWriteGoldenNeedsWritableArchive(t *testing.T) {
	path := simArchive(t, t.TempDir(), sim.ScenarioSPLToken, 1, 5, sim.Options{})
	a, err := archive.Open(path, &archive.Options{ReadOnly: true})
	require.NoError(t, err)
	defer a.Close()
	spec, prog := demoStack(t)
	_, err = Run(context.Background(), a, Options{Spec: spec, Program: prog, WriteGolden: true})
	require.ErrorIs(t, err, archive.ErrReadOnly)
}

func TestDiffPatches(t *testing.T) {
	got := DiffPatches(json.RawMessage(`{"a":{"b":1,"c":"x"},"d":[1]}`), json.RawMessage(`{"a":{"b":2,"c":"x"},"e":null}`))
	require.Equal(t, []string{"- a.b: 1", "+ a.b: 2", "- d: [1]", "+ e: null"}, got)
	require.Empty(t, DiffPatches(json.RawMessage(`{"a":1}`), json.RawMessage(`{"a":1}`)))
}

func TestMergePatch(t *testing.T) {
	st := map[string]any{}
	require.NoError(t, MergePatch(st, json.RawMessage(`{"a":{"n":18446744073709551615,"s":"x"},"l":[1,2]}`), []string{"l"}, 3))
	require.NoError(t, MergePatch(st, json.RawMessage(`{"a":{"s":null},"l":[3,4]}`), []string{"l"}, 3))
	b, err := json.Marshal(st)
	require.NoError(t, err)
	require.JSONEq(t, `{"a":{"n":18446744073709551615,"s":null},"l":[2,3,4]}`, string(b))
	require.Contains(t, string(b), "18446744073709551615", "big integers keep their precision")
	// Without the append path an array is replaced.
	require.NoError(t, MergePatch(st, json.RawMessage(`{"l":[9]}`), nil, 0))
	require.Equal(t, []any{json.Number("9")}, st["l"])
	require.Error(t, MergePatch(st, json.RawMessage(`[1]`), nil, 0))
	require.Error(t, MergePatch(st, json.RawMessage(`null`), nil, 0))
}

func TestKeyCandidates(t *testing.T) {
	require.Equal(t, [][]byte{[]byte("42"), []byte(`"42"`)}, KeyCandidates("42"))
	require.Equal(t, [][]byte{[]byte(`"abc"`)}, KeyCandidates("abc"))
	require.Equal(t, [][]byte{[]byte(`"abc"`)}, KeyCandidates(`"abc"`))
	require.Equal(t, [][]byte{[]byte(`[1,"a"]`)}, KeyCandidates(`[1, "a"]`))
}

func TestParseLinesReportsLine(t *testing.T) {
	_, err := ParseLines([]byte("{\"slot\":1}\nnot json\n"))
	require.Error(t, err)
	require.Contains(t, err.Error(), "line 2")
}

// An update whose bytes are no SubscribeUpdate is counted and skipped; the rest replays as before.
func TestRunSkipsUndecodableUpdate(t *testing.T) {
	a := demoArchive(t, 1, 10)
	want, before := replayBytes(t, a, Options{})
	w, err := a.NewWriter(archive.WriterConfig{})
	require.NoError(t, err)
	_, err = w.Append(archive.Incoming{Raw: []byte{0xff, 0xff, 0xff}})
	require.NoError(t, err)
	require.NoError(t, w.Close())

	got, res := replayBytes(t, a, Options{})
	require.Equal(t, uint64(1), res.Pipeline.BadUpdates)
	require.Equal(t, before.Updates+1, res.Updates, "the bad update is fed and counted")
	require.Equal(t, string(want), string(got), "it changes no mutation")
}
