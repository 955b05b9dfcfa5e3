package command

import "github.com/spf13/cobra"

func newRecordCommand(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "record",
		Short: "Record a Yellowstone gRPC stream into an archive",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return notImplemented("record")
		},
	}
}
