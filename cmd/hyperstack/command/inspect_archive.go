package command

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/hyperstack-go/hyperstack/internal/archive"
)

type inspectArchiveOptions struct {
	Path  string
	JSON  bool
	Check bool
}

func newInspectArchiveCommand(f *Factory) *cobra.Command {
	opts := &inspectArchiveOptions{}
	cmd := &cobra.Command{
		Use:   "archive FILE",
		Short: "Show an archive's metadata, slot range and message counts",
		Long: `Show an archive's format version, metadata (created-at, source endpoint, filters,
commitment), first and last slot, message count in total and by kind, gaps, checkpoint and
file size. The archive is opened read-only and never modified.

With --json the summary is one JSON object with snake_case keys: format_version, metadata,
messages, by_kind, raw_bytes, first_slot, last_slot, has_slots, slots, gaps, checkpoint,
file_size, derived.`,
		Example: `  hyperstack inspect archive tokens.db
  hyperstack inspect archive tokens.db --json | jq .by_kind`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Path = args[0]
			return runInspectArchive(f, opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print as JSON")
	cmd.Flags().BoolVar(&opts.Check, "check", false, "also verify every page of the file (reads the whole file)")
	return cmd
}

func runInspectArchive(f *Factory, opts *inspectArchiveOptions) error {
	a, err := archive.Open(opts.Path, &archive.Options{ReadOnly: true})
	if err != nil {
		return err
	}
	defer a.Close()
	st, err := a.Stats()
	if err != nil {
		return err
	}
	if opts.Check {
		if err := a.Check(); err != nil {
			return err
		}
	}
	if opts.JSON {
		enc := json.NewEncoder(f.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	}
	return printArchiveStats(f.IO.Out, st, opts.Check)
}

func printArchiveStats(out io.Writer, st archive.Stats, checked bool) error {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	row := func(k, format string, args ...any) { fmt.Fprintf(tw, "%s\t%s\n", k, fmt.Sprintf(format, args...)) }
	m := st.Meta
	row("archive", "%s", st.Path)
	row("format version", "%d", st.FormatVersion)
	created := m.CreatedAt.Format(time.RFC3339)
	if m.CreatedBy != "" {
		created += " by " + m.CreatedBy
	}
	row("created", "%s", created)
	switch m.Source.Kind {
	case archive.SourceImport:
		row("source", "import of %s (sha256 %s)", m.Source.Capture, m.Source.CaptureSHA256)
	default:
		row("source", "%s %s", m.Source.Kind, m.Source.Endpoint)
		row("commitment", "%s", m.Source.Commitment)
		row("filters", "%s", describeFilters(m.Source.Filters))
	}
	row("messages", "%d", st.Messages)
	kinds := make([]string, 0, len(st.ByKind))
	for k := range st.ByKind {
		kinds = append(kinds, k)
	}
	sort.Slice(kinds, func(i, j int) bool {
		if st.ByKind[kinds[i]] != st.ByKind[kinds[j]] {
			return st.ByKind[kinds[i]] > st.ByKind[kinds[j]]
		}
		return kinds[i] < kinds[j]
	})
	for _, k := range kinds {
		row("  "+k, "%d", st.ByKind[k])
	}
	if st.HasSlots {
		row("slots", "%d - %d (%d distinct)", st.FirstSlot, st.LastSlot, st.Slots)
	} else {
		row("slots", "none")
	}
	row("raw bytes", "%d", st.RawBytes)
	row("file size", "%d", st.FileSize)
	cp := st.Checkpoint
	if cp.Seq > 0 {
		row("checkpoint", "seq %d, slot %d, committed %s", cp.Seq, cp.MaxSlot, cp.CommittedAt.Format(time.RFC3339))
	} else {
		row("checkpoint", "empty")
	}
	if len(st.Gaps) == 0 {
		row("gaps", "none")
	} else {
		row("gaps", "%d", len(st.Gaps))
		for _, g := range st.Gaps {
			row("", "slots %d - %d after seq %d: %s", g.FromSlot, g.ToSlot, g.AfterSeq, g.Reason)
		}
	}
	var derived []string
	for _, ns := range archive.Namespaces() {
		derived = append(derived, fmt.Sprintf("%s %d", ns, st.Derived[ns]))
	}
	row("derived", "%s", strings.Join(derived, ", "))
	if checked {
		row("check", "ok")
	}
	return tw.Flush()
}
