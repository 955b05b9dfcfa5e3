package command

import (
	"io"
	"os"
	"time"

	"github.com/charmbracelet/log"
	"github.com/spf13/viper"
	"golang.org/x/term"
)

// IOStreams are the command's standard streams; tests replace them with buffers.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// IsTerminal reports whether ErrOut is an interactive terminal (live progress lines).
	IsTerminal func() bool
}

// Factory carries what every command needs, built lazily so tests can override each piece.
type Factory struct {
	IO IOStreams
	// Getenv reads the environment (HYPERSTACK_* variables); tests replace it.
	Getenv func(string) string
	// Now is the wall clock for progress output and metadata.
	Now func() time.Time

	// viper and logger are set by the root command's pre-run, once per invocation.
	viper  *viper.Viper
	logger *log.Logger
}

// NewFactory returns a Factory wired to the process's streams and environment.
func NewFactory() *Factory {
	return &Factory{
		IO: IOStreams{
			In:     os.Stdin,
			Out:    os.Stdout,
			ErrOut: os.Stderr,
			IsTerminal: func() bool {
				return term.IsTerminal(int(os.Stderr.Fd()))
			},
		},
		Getenv: os.Getenv,
		Now:    time.Now,
	}
}

// Logger returns the logger for a component ("record", "serve", ...). JSON logs carry the component
// in a field of that name. It never returns nil.
func (f *Factory) Logger(component string) *log.Logger {
	if f.logger == nil {
		f.logger = log.NewWithOptions(io.Discard, log.Options{})
	}
	if component == "" {
		return f.logger
	}
	return f.logger.With("component", component)
}
