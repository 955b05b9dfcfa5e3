package command

import "github.com/spf13/cobra"

func newInspectEventsCommand(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "events ARCHIVE",
		Short: "Print the decoded events an archive yields",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return notImplemented("inspect events")
		},
	}
}
