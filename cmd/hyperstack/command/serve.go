package command

import "github.com/spf13/cobra"

func newServeCommand(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Serve live entity state over the HyperStack WebSocket protocol",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return notImplemented("serve")
		},
	}
}
