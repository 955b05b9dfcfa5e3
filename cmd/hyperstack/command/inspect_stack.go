package command

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/hyperstack-go/hyperstack/internal/stack"
	"github.com/hyperstack-go/hyperstack/internal/vm"
)

type inspectStackOptions struct {
	Path   string
	JSON   bool
	Disasm bool
}

func newInspectStackCommand(f *Factory) *cobra.Command {
	opts := &inspectStackOptions{}
	cmd := &cobra.Command{
		Use:   "stack FILE",
		Short: "Show a stack spec's programs, entities, views and bytecode",
		Long: `Load and compile a stack spec (*.stack.json) and show its programs (IDL name, program id,
account, instruction and event counts), its entities (primary key, lookup indexes, handlers with
their key resolution, instruction hooks, views, computed fields) and the compiler's warnings.
With --disasm the compiled bytecode of every handler follows.

Load and compile errors name the JSON path of the offending value.

With --json the result is one JSON object: stack, ast_version, content_hash, programs,
entities, warnings and, with --disasm, bytecode (the disassembly text).`,
		Example: `  hyperstack inspect stack OreStream.stack.json
  hyperstack inspect stack OreStream.stack.json --disasm
  hyperstack inspect stack spl-token.stack.json --json | jq '.entities[].name'`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Path = args[0]
			return runInspectStack(f, opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print as JSON")
	cmd.Flags().BoolVar(&opts.Disasm, "disasm", false, "also print the bytecode of every handler")
	return cmd
}

// stackSummary is what inspect stack shows (and its --json form).
type stackSummary struct {
	Stack       string           `json:"stack"`
	ASTVersion  string           `json:"ast_version"`
	ContentHash string           `json:"content_hash"`
	Programs    []programSummary `json:"programs"`
	Entities    []entitySummary  `json:"entities"`
	Warnings    []string         `json:"warnings"`
	Bytecode    string           `json:"bytecode,omitempty"`
}

type programSummary struct {
	Name         string `json:"name"`
	ProgramID    string `json:"program_id"`
	Version      string `json:"version,omitempty"`
	Accounts     int    `json:"accounts"`
	Instructions int    `json:"instructions"`
	Events       int    `json:"events"`
}

type entitySummary struct {
	Name           string           `json:"name"`
	StateID        int              `json:"state_id"`
	PrimaryKey     string           `json:"primary_key"`
	LookupIndexes  []string         `json:"lookup_indexes"`
	Handlers       []handlerSummary `json:"handlers"`
	Hooks          []string         `json:"hooks"`
	Views          []string         `json:"views"`
	ComputedFields []string         `json:"computed_fields"`
	Instructions   int              `json:"instructions"`
}

type handlerSummary struct {
	EventType     string `json:"event_type"`
	Source        string `json:"source"`
	KeyResolution string `json:"key_resolution"`
	Mappings      int    `json:"mappings"`
	Emit          bool   `json:"emit"`
	Location      string `json:"location"`
}

func runInspectStack(f *Factory, opts *inspectStackOptions) error {
	spec, prog, err := loadStack(opts.Path)
	if err != nil {
		return err
	}
	s := summarizeStack(spec, prog)
	if opts.Disasm {
		s.Bytecode = prog.Disassemble()
	}
	if opts.JSON {
		enc := json.NewEncoder(f.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(s)
	}
	return printStackSummary(f.IO.Out, s)
}

func summarizeStack(spec *stack.Spec, prog *vm.Program) stackSummary {
	s := stackSummary{
		Stack: spec.StackName, ASTVersion: spec.ASTVersion, ContentHash: spec.ContentHash(),
		Warnings: append([]string{}, prog.Warnings...),
	}
	for _, p := range prog.Programs {
		s.Programs = append(s.Programs, programSummary{
			Name: p.Name, ProgramID: p.ID.String(), Version: p.IDL.Version,
			Accounts: len(p.IDL.Accounts), Instructions: len(p.IDL.Instructions), Events: len(p.IDL.Events),
		})
	}
	for i, e := range prog.Entities {
		es := entitySummary{
			Name: e.Name, StateID: e.StateID, PrimaryKey: e.PrimaryKey,
			LookupIndexes: []string{}, Handlers: []handlerSummary{}, Hooks: []string{},
			Views: append([]string{}, e.Views...), ComputedFields: append([]string{}, e.Computed...),
		}
		for _, ix := range e.Indexes {
			es.LookupIndexes = append(es.LookupIndexes, ix.Field)
		}
		for _, h := range prog.Handlers {
			if h.Entity != i {
				continue
			}
			es.Instructions += h.End - h.Start
			if h.Kind == vm.HandlerPdaHook {
				es.Hooks = append(es.Hooks, h.EventType+" (PDA registration)")
				continue
			}
			if h.Kind == vm.HandlerHookOnly {
				es.Hooks = append(es.Hooks, h.EventType+" (field actions)")
				continue
			}
			hs := handlerSummary{EventType: h.EventType, Source: sourceKind(h), Emit: h.Emit, Location: h.Loc}
			for _, sh := range spec.Entities[i].Handlers {
				if sh.EventType() != h.EventType {
					continue
				}
				if hs.KeyResolution == "" {
					hs.KeyResolution = keyResolutionText(sh.KeyResolution)
				}
				hs.Mappings += len(sh.Mappings)
			}
			es.Handlers = append(es.Handlers, hs)
		}
		s.Entities = append(s.Entities, es)
	}
	return s
}

func sourceKind(h *vm.Handler) string {
	switch {
	case h.IsAccount:
		return "account"
	case strings.HasSuffix(h.EventType, "CpiEvent"):
		return "event"
	default:
		return "instruction"
	}
}

func keyResolutionText(kr stack.KeyResolution) string {
	switch k := kr.(type) {
	case *stack.KeyEmbedded:
		return "Embedded " + orDash(k.PrimaryField.String())
	case *stack.KeyLookup:
		return "Lookup " + orDash(k.PrimaryField.String())
	case *stack.KeyComputed:
		return "Computed " + orDash(k.PrimaryField.String())
	case *stack.KeyTemporalLookup:
		return "TemporalLookup " + k.LookupField.String()
	}
	return "-"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func printStackSummary(out io.Writer, s stackSummary) error {
	w := &errWriter{w: out}
	w.printf("stack %s (ast %s)\ncontent hash %s\n\nprograms\n", s.Stack, s.ASTVersion, s.ContentHash)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, p := range s.Programs {
		fmt.Fprintf(tw, "  %s\t%s\tv%s\t%d accounts, %d instructions, %d events\n",
			p.Name, p.ProgramID, orDash(p.Version), p.Accounts, p.Instructions, p.Events)
	}
	tw.Flush()
	for _, e := range s.Entities {
		w.printf("\nentity %s (state %d)\n", e.Name, e.StateID)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "  primary key\t%s\n", orDash(e.PrimaryKey))
		if len(e.LookupIndexes) > 0 {
			fmt.Fprintf(tw, "  lookup indexes\t%s\n", strings.Join(e.LookupIndexes, ", "))
		}
		for i, h := range e.Handlers {
			label := ""
			if i == 0 {
				label = "handlers"
			}
			emit := ""
			if !h.Emit {
				emit = ", no emit"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s, key %s, %d mappings%s\n", label, h.EventType, h.Source, h.KeyResolution, h.Mappings, emit)
		}
		if len(e.Hooks) > 0 {
			fmt.Fprintf(tw, "  hooks\t%s\n", strings.Join(e.Hooks, ", "))
		}
		if len(e.Views) > 0 {
			fmt.Fprintf(tw, "  views\t%s\n", strings.Join(e.Views, ", "))
		}
		if len(e.ComputedFields) > 0 {
			fmt.Fprintf(tw, "  computed\t%s\n", strings.Join(e.ComputedFields, ", "))
		}
		fmt.Fprintf(tw, "  bytecode\t%d instructions\n", e.Instructions)
		tw.Flush()
	}
	if len(s.Warnings) > 0 {
		w.printf("\nwarnings\n")
		for _, x := range s.Warnings {
			w.printf("  %s\n", x)
		}
	}
	if s.Bytecode != "" {
		w.printf("\n%s", s.Bytecode)
	}
	return w.err
}

// errWriter keeps the first write error.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func (e *errWriter) printf(format string, args ...any) { fmt.Fprintf(e, format, args...) }
