package command

import "github.com/spf13/cobra"

func newInspectStackCommand(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "stack FILE",
		Short: "Show a stack spec's programs, entities, views and bytecode",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return notImplemented("inspect stack")
		},
	}
}
