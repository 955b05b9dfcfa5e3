package command

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// Exit codes of the hyperstack binary.
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 2
)

// Main runs the command line and returns the process exit code. Ctrl-C and SIGTERM cancel the
// command's context, so long-running commands flush and close cleanly.
func Main() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Run(ctx, NewFactory(), os.Args[1:])
}

// Run executes the command tree with args and maps the result to an exit code. It is the single
// place where errors become exit codes and messages; tests call it in-process.
func Run(ctx context.Context, f *Factory, args []string) int {
	root := NewRootCommand(f)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	code := ExitCode(err)
	if err == nil {
		return code
	}
	var silent *SilentError
	if !errors.As(err, &silent) {
		fmt.Fprintf(f.IO.ErrOut, "Error: %v\n", err)
	}
	var flagErr *FlagError
	if errors.As(err, &flagErr) {
		if cmd, _, ferr := root.Find(args); ferr == nil && cmd != nil {
			fmt.Fprintf(f.IO.ErrOut, "\n%s", cmd.UsageString())
		}
	}
	return code
}

// ExitCode maps an error to the process exit code: 0 for nil, 2 for usage, configuration and
// not-implemented errors, 1 for everything else.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var flagErr *FlagError
	var cfgErr *ConfigError
	switch {
	case errors.As(err, &flagErr), errors.As(err, &cfgErr), errors.Is(err, ErrNotImplemented):
		return ExitUsage
	case isCobraUsageError(err):
		return ExitUsage
	}
	return ExitFailure
}

// isCobraUsageError recognises the errors cobra itself returns for unknown commands and flags.
func isCobraUsageError(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "flag needs an argument", "invalid argument", "accepts ", "requires at least", "requires at most"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}
