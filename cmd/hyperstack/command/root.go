package command

import (
	"strings"

	"github.com/charmbracelet/log"
	"github.com/spf13/cobra"
)

// NewRootCommand builds the whole command tree.
func NewRootCommand(f *Factory) *cobra.Command {
	var configPath, logLevel, logFormat string
	root := &cobra.Command{
		Use:   "hyperstack",
		Short: "Live, typed Solana application state from Yellowstone gRPC streams",
		Long: `hyperstack turns the Solana blockchain into live, typed application state.

It records Yellowstone gRPC (Geyser) streams byte-exact into archives, runs them through a
HyperStack stack spec (*.stack.json) compiled to bytecode, and serves the resulting entities
over the HyperStack WebSocket protocol to the official TypeScript and React clients.

Every flag can also be set in the YAML file given with --config or with a HYPERSTACK_*
environment variable: "hyperstack record --x-token" is the key record.x_token and the
variable HYPERSTACK_RECORD_X_TOKEN. Flags win over the environment, which wins over the file.`,
		Example: `  # Serve the built-in demo (simulated SPL Token traffic) on ws://localhost:8877
  hyperstack serve

  # Record a Yellowstone stream into an archive
  hyperstack record --endpoint https://grpc.example.com --x-token $TOKEN --owner TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA --out tokens.db

  # Look inside an archive
  hyperstack inspect archive tokens.db --json`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			v, err := loadConfig(cmd.Root(), configPath, f.Getenv)
			if err != nil {
				return err
			}
			if err := applyConfig(cmd, v, f.Getenv); err != nil {
				return err
			}
			f.viper = v
			logger, err := newLogger(f, logLevel, logFormat)
			if err != nil {
				return err
			}
			f.logger = logger
			return nil
		},
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &FlagError{Err: err} })
	root.SetOut(f.IO.Out)
	root.SetErr(f.IO.ErrOut)
	root.PersistentFlags().StringVar(&configPath, "config", "", "YAML configuration file (also HYPERSTACK_CONFIG)")
	root.PersistentFlags().StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn, error")
	root.PersistentFlags().StringVar(&logFormat, "log-format", "text", "log format: text or json")

	root.AddCommand(
		newRecordCommand(f),
		newReplayCommand(f),
		newServeCommand(f),
		newInspectCommand(f),
		newSimCommand(f),
		newVersionCommand(f),
	)
	return root
}

// newLogger builds the process logger on stderr.
func newLogger(f *Factory, level, format string) (*log.Logger, error) {
	lvl, err := log.ParseLevel(strings.ToLower(level))
	if err != nil {
		return nil, flagErrorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := log.Options{Level: lvl, ReportTimestamp: true}
	switch format {
	case "text":
	case "json":
		opts.Formatter = log.JSONFormatter
	default:
		return nil, flagErrorf("--log-format %q: want text or json", format)
	}
	return log.NewWithOptions(f.IO.ErrOut, opts), nil
}

// exactArgs is cobra.ExactArgs returning a FlagError (exit code 2, usage shown).
func exactArgs(n int) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != n {
			return flagErrorf("accepts %d arg(s), received %d", n, len(args))
		}
		return nil
	}
}

// rangeArgs is cobra.RangeArgs returning a FlagError.
func rangeArgs(lo, hi int) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) < lo || len(args) > hi {
			return flagErrorf("accepts between %d and %d arg(s), received %d", lo, hi, len(args))
		}
		return nil
	}
}

// noArgs rejects positional arguments with a FlagError.
func noArgs(_ *cobra.Command, args []string) error {
	if len(args) > 0 {
		return flagErrorf("unexpected argument %q", args[0])
	}
	return nil
}
