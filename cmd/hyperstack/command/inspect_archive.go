package command

import "github.com/spf13/cobra"

func newInspectArchiveCommand(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "archive FILE",
		Short: "Show an archive's metadata, slot range and message counts",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return notImplemented("inspect archive")
		},
	}
}
