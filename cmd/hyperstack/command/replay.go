package command

import "github.com/spf13/cobra"

func newReplayCommand(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "replay ARCHIVE",
		Short: "Run an archive through a stack deterministically",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return notImplemented("replay")
		},
	}
}
