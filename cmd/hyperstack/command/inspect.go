package command

import "github.com/spf13/cobra"

func newInspectCommand(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "inspect",
		Short: "Show archives, stack specs, events and entity state",
		Long: `Inspect the things hyperstack works with. Every subcommand takes --json for
machine-readable output.`,
	}
	cmd.AddCommand(
		newInspectArchiveCommand(f),
		newInspectEventsCommand(f),
		newInspectStackCommand(f),
		newInspectEntityCommand(f),
	)
	return cmd
}
