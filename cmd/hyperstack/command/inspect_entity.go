package command

import "github.com/spf13/cobra"

func newInspectEntityCommand(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "entity ENTITY KEY",
		Short: "Show an entity's state at a slot, with its history",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return notImplemented("inspect entity")
		},
	}
}
