package command

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hyperstack-go/hyperstack/fixtures/fixturestest"

	"github.com/stretchr/testify/require"
)

func runInspectStackCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	out, errOut := &bytes.Buffer{}, &bytes.Buffer{}
	f := &Factory{
		IO:     IOStreams{In: &bytes.Buffer{}, Out: out, ErrOut: errOut, IsTerminal: func() bool { return false }},
		Getenv: func(string) string { return "" },
		Now:    time.Now,
	}
	code := Run(context.Background(), f, append([]string{"inspect", "stack"}, args...))
	return code, out.String(), errOut.String()
}

// splStackFile is the repository's demo stack, found from the module root.
func splStackFile(t *testing.T) string {
	return fixturestest.RepoFile(t, "fixtures/stacks/spl-token.stack.json")
}

func TestInspectStackText(t *testing.T) {
	code, out, errOut := runInspectStackCmd(t, splStackFile(t))
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "stack SplTokenStream (ast 0.0.1)\n")
	require.Contains(t, out, "  spl_token  TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA  v3.5.0  3 accounts, 25 instructions, 0 events\n")
	require.Contains(t, out, "entity Mint (state 0)\n")
	require.Contains(t, out, "spl_token::TransferIxState         instruction, key Lookup accounts.source, 4 mappings\n")
	require.Contains(t, out, "  views           Mint/by_volume, Mint/by_supply\n")
	require.Contains(t, out, "  computed        state.ui_supply, transfers.ui_volume\n")
	require.Contains(t, out, "entity TokenAccount (state 1)\n")
	require.NotContains(t, out, "LoadEvent", "no bytecode without --disasm")
}

func TestInspectStackDisasm(t *testing.T) {
	code, out, errOut := runInspectStackCmd(t, splStackFile(t), "--disasm")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "program SplTokenStream: 2 entities, 5 handlers")
	require.Contains(t, out, "  handler spl_token::TransferIxState  [entities[0].handlers[2]]\n")
	require.Contains(t, out, "LookupIndex     r0, last_token_account_lookup_index, r2\n")
	require.Contains(t, out, "Append          transfers.recent_transfers, r4\n")
}

func TestInspectStackJSON(t *testing.T) {
	code, out, errOut := runInspectStackCmd(t, splStackFile(t), "--json", "--disasm")
	require.Equal(t, 0, code, errOut)
	var s stackSummary
	require.NoError(t, json.Unmarshal([]byte(out), &s))
	require.Equal(t, "SplTokenStream", s.Stack)
	require.Len(t, s.Programs, 1)
	require.Equal(t, "spl_token", s.Programs[0].Name)
	require.Len(t, s.Entities, 2)
	mint := s.Entities[0]
	require.Equal(t, "Mint", mint.Name)
	require.Equal(t, "id.mint", mint.PrimaryKey)
	require.Equal(t, []string{"holders.last_token_account"}, mint.LookupIndexes)
	require.Equal(t, []string{"state.ui_supply", "transfers.ui_volume"}, mint.ComputedFields)
	var events []string
	for _, h := range mint.Handlers {
		events = append(events, h.EventType)
	}
	require.Equal(t, []string{"spl_token::AccountState", "spl_token::MintState", "spl_token::TransferCheckedIxState", "spl_token::TransferIxState"}, events)
	require.Contains(t, s.Bytecode, "handler spl_token::MintState")
}

func TestInspectStackErrorsNamePaths(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.stack.json")
	require.NoError(t, os.WriteFile(bad, []byte(`{"ast_version": "9.9.9", "stack_name": "x"}`), 0o600))
	code, _, errOut := runInspectStackCmd(t, bad)
	require.NotEqual(t, 0, code)
	require.Contains(t, errOut, "ast_version")
	require.Contains(t, errOut, "unsupported ast_version")

	code, _, errOut = runInspectStackCmd(t, filepath.Join(dir, "missing.json"))
	require.NotEqual(t, 0, code)
	require.Contains(t, errOut, "missing.json")

	code, _, _ = runInspectStackCmd(t)
	require.Equal(t, 2, code, "a missing FILE is a usage error")
}
