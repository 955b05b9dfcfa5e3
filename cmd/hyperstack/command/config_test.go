package command

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/require"
)

// probeRoot builds the real tree plus a probe command whose flag values the test reads back.
func probeRoot(t *testing.T, env map[string]string) (*Factory, *cobra.Command, *string, *[]string, *bytes.Buffer) {
	t.Helper()
	errOut := &bytes.Buffer{}
	f := &Factory{
		IO:     IOStreams{In: &bytes.Buffer{}, Out: &bytes.Buffer{}, ErrOut: errOut, IsTerminal: func() bool { return false }},
		Getenv: func(k string) string { return env[k] },
	}
	root := NewRootCommand(f)
	var endpoint string
	var owners []string
	probe := &cobra.Command{Use: "probe", RunE: func(*cobra.Command, []string) error { return nil }}
	probe.Flags().StringVar(&endpoint, "end-point", "default", "")
	probe.Flags().StringSliceVar(&owners, "owner", nil, "")
	root.AddCommand(probe)
	return f, root, &endpoint, &owners, errOut
}

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "hyperstack.yaml")
	require.NoError(t, os.WriteFile(p, []byte(body), 0o600))
	return p
}

func TestConfigPrecedence(t *testing.T) {
	cfg := writeConfig(t, "probe:\n  end_point: from-file\n  owner: [a, b]\nlog_level: debug\n")
	cases := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"default", nil, []string{"probe"}, "default"},
		{"file", nil, []string{"--config", cfg, "probe"}, "from-file"},
		{"env beats file", map[string]string{"HYPERSTACK_PROBE_END_POINT": "from-env"}, []string{"--config", cfg, "probe"}, "from-env"},
		{"flag beats env", map[string]string{"HYPERSTACK_PROBE_END_POINT": "from-env"}, []string{"--config", cfg, "probe", "--end-point", "from-flag"}, "from-flag"},
		{"config from env var", map[string]string{"HYPERSTACK_CONFIG": cfg}, []string{"probe"}, "from-file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, root, endpoint, _, _ := probeRoot(t, tc.env)
			root.SetArgs(tc.args)
			require.NoError(t, root.ExecuteContext(context.Background()))
			require.Equal(t, tc.want, *endpoint)
		})
	}
}

func TestConfigListValues(t *testing.T) {
	cfg := writeConfig(t, "probe:\n  owner: [a, b]\n")
	_, root, _, owners, _ := probeRoot(t, nil)
	root.SetArgs([]string{"--config", cfg, "probe"})
	require.NoError(t, root.ExecuteContext(context.Background()))
	require.Equal(t, []string{"a", "b"}, *owners)
}

func TestConfigUnknownKeyNamed(t *testing.T) {
	cfg := writeConfig(t, "probe:\n  end_point: x\n  endpint: typo\n")
	_, root, _, _, _ := probeRoot(t, nil)
	root.SetArgs([]string{"--config", cfg, "probe"})
	err := root.ExecuteContext(context.Background())
	require.Error(t, err)
	require.Contains(t, err.Error(), `unknown key "probe.endpint"`)
	require.Equal(t, ExitUsage, ExitCode(err))
}

func TestConfigMissingFile(t *testing.T) {
	_, root, _, _, _ := probeRoot(t, nil)
	root.SetArgs([]string{"--config", filepath.Join(t.TempDir(), "nope.yaml"), "probe"})
	err := root.ExecuteContext(context.Background())
	require.Error(t, err)
	require.Equal(t, ExitUsage, ExitCode(err))
}

func TestBadEnvValueIsConfigError(t *testing.T) {
	f, root, _, _, _ := probeRoot(t, map[string]string{"HYPERSTACK_LOG_LEVEL": "loud"})
	_ = f
	root.SetArgs([]string{"probe"})
	err := root.ExecuteContext(context.Background())
	require.Error(t, err)
	require.Equal(t, ExitUsage, ExitCode(err))
}

func TestExitCodes(t *testing.T) {
	run := func(args ...string) (int, string) {
		errOut := &bytes.Buffer{}
		f := &Factory{IO: IOStreams{In: &bytes.Buffer{}, Out: &bytes.Buffer{}, ErrOut: errOut, IsTerminal: func() bool { return false }}, Getenv: func(string) string { return "" }}
		return Run(context.Background(), f, args), errOut.String()
	}
	code, _ := run("version")
	require.Equal(t, ExitOK, code)
	code, out := run("--no-such-flag")
	require.Equal(t, ExitUsage, code)
	require.Contains(t, out, "unknown flag")
	code, _ = run("no-such-command")
	require.Equal(t, ExitUsage, code)
	code, out = run("--log-format", "xml", "version")
	require.Equal(t, ExitUsage, code)
	require.Contains(t, out, "--log-format")
}

func TestJSONLogsCarryComponent(t *testing.T) {
	errOut := &bytes.Buffer{}
	f := &Factory{IO: IOStreams{ErrOut: errOut, Out: &bytes.Buffer{}}, Getenv: func(string) string { return "" }}
	l, err := newLogger(f, "info", "json")
	require.NoError(t, err)
	f.logger = l
	f.Logger("record").Info("hello")
	require.Contains(t, errOut.String(), `"component":"record"`)
}
