package command

import (
	"encoding/json"
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/hyperstack-go/hyperstack/internal/buildinfo"
)

type versionOptions struct {
	JSON bool
}

func newVersionCommand(f *Factory) *cobra.Command {
	opts := &versionOptions{}
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the hyperstack version",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runVersion(f, opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print as JSON")
	return cmd
}

func runVersion(f *Factory, opts *versionOptions) error {
	info := map[string]string{
		"version": buildinfo.Version(),
		"commit":  buildinfo.Commit(),
		"go":      runtime.Version(),
		"os_arch": runtime.GOOS + "/" + runtime.GOARCH,
	}
	if opts.JSON {
		enc := json.NewEncoder(f.IO.Out)
		return enc.Encode(info)
	}
	_, err := fmt.Fprintf(f.IO.Out, "hyperstack %s (%s, %s)\n", info["version"], info["go"], info["os_arch"])
	return err
}
