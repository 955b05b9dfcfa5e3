package command

import "github.com/spf13/cobra"

func newSimCommand(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "sim",
		Short: "Serve simulated Solana program traffic as a Yellowstone endpoint",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return notImplemented("sim")
		},
	}
}
