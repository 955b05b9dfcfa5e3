package command

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/hyperstack-go/hyperstack/fixtures"
	"github.com/hyperstack-go/hyperstack/internal/archive"
	"github.com/hyperstack-go/hyperstack/internal/event"
	"github.com/hyperstack-go/hyperstack/internal/extract"
	"github.com/hyperstack-go/hyperstack/internal/idl"
	"github.com/hyperstack-go/hyperstack/internal/solana"
	"github.com/hyperstack-go/hyperstack/internal/stack"
)

type inspectEventsOptions struct {
	Archive  string
	IDLs     []string
	Stack    string
	FromSlot uint64
	Limit    int
	JSON     bool
}

func newInspectEventsCommand(f *Factory) *cobra.Command {
	opts := &inspectEventsOptions{}
	cmd := &cobra.Command{
		Use:   "events ARCHIVE",
		Short: "Print the decoded events an archive yields",
		Long: `Print the events an archive yields: one per account update and one per top-level or
inner (CPI) instruction of every transaction, in archive order, with instruction accounts
resolved through the transactions' address lookup tables.

Account data, instructions and Anchor events (self-CPI and "Program data:" logs) are decoded
when an IDL is known for the program: the built-in SPL Token IDL, the IDLs embedded in the
stack given with --stack, and the IDL files given with --idl (later ones win for the same
program). An IDL file must name its program (address, or metadata.address).

With --json, each line is one JSON object: slot, seq, kind ("account" or "instruction"), and
for instructions signature, path ([outer] or [outer, inner]), program, accounts, data (base64),
type (e.g. "spl_token::Transfer", or null) and decoded ({"data": {...}, "accounts": {...}} as
the VM sees it, or null); for accounts pubkey, owner, lamports, write_version, data, type and
decoded. Instructions also carry failed, and cpi_event and events (decoded "Program data:"
events) when present.`,
		Example: `  # Every event of an archive, as a table
  hyperstack inspect events tokens.db

  # The first 100 events from slot 300000000, as JSON lines, decoded with an Anchor IDL
  hyperstack inspect events tokens.db --from-slot 300000000 --limit 100 --idl jupiter.json --json`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Archive = args[0]
			return runInspectEvents(cmd.Context(), f, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringSliceVar(&opts.IDLs, "idl", nil, "IDL file to decode its program with (repeatable)")
	fl.StringVar(&opts.Stack, "stack", "", "stack spec whose embedded IDLs decode events")
	fl.Uint64Var(&opts.FromSlot, "from-slot", 0, "start at this slot")
	fl.IntVar(&opts.Limit, "limit", 0, "stop after this many events (0 = all)")
	fl.BoolVar(&opts.JSON, "json", false, "print one JSON object per line")
	return cmd
}

// errLimitReached stops the archive scan once --limit events are printed.
var errLimitReached = errors.New("limit reached")

func runInspectEvents(ctx context.Context, f *Factory, opts *inspectEventsOptions) error {
	if opts.Limit < 0 {
		return flagErrorf("--limit %d: must not be negative", opts.Limit)
	}
	logger := f.Logger("inspect")
	reg, err := eventsRegistry(opts)
	if err != nil {
		return err
	}
	a, err := archive.Open(opts.Archive, &archive.Options{ReadOnly: true, Logger: logger})
	if err != nil {
		return fmt.Errorf("open archive: %w", err)
	}
	defer a.Close()

	x := extract.New(extract.Config{Logger: logger, IDLs: reg})
	var out eventPrinter
	if opts.JSON {
		out = newJSONEventPrinter(f.IO.Out)
	} else {
		out = newTableEventPrinter(f.IO.Out)
	}
	var (
		evs     []event.Event
		printed int
		bad     int
	)
	err = a.Scan(ctx, opts.FromSlot, math.MaxUint64, func(u archive.Update) error {
		var err error
		evs, err = x.UpdateBytes(u.Raw, u.Seq, evs[:0])
		if err != nil {
			bad++
			logger.Warn("update skipped", "seq", u.Seq, "err", err)
			return nil
		}
		for i := range evs {
			if opts.Limit > 0 && printed == opts.Limit {
				return errLimitReached
			}
			if err := out.print(&evs[i]); err != nil {
				return err
			}
			printed++
		}
		return nil
	})
	if err != nil && !errors.Is(err, errLimitReached) {
		return err
	}
	if err := out.flush(); err != nil {
		return err
	}
	if bad > 0 {
		return fmt.Errorf("%d update(s) could not be turned into events (see the warnings above)", bad)
	}
	return nil
}

// eventsRegistry builds the IDL registry: the built-in SPL Token IDL, then the stack's embedded
// IDLs, then the --idl files, later ones replacing earlier ones for the same program.
func eventsRegistry(opts *inspectEventsOptions) (*idl.Registry, error) {
	token, err := idl.Parse(fixtures.SPLTokenIDL)
	if err != nil {
		return nil, fmt.Errorf("built-in SPL Token IDL: %w", err)
	}
	reg := idl.NewRegistry(token)
	if opts.Stack != "" {
		spec, err := stack.Load(opts.Stack)
		if err != nil {
			return nil, err
		}
		for i, ref := range spec.IDLRefs() {
			p, err := idl.Parse(ref.Raw)
			if err != nil {
				return nil, fmt.Errorf("stack %s: idls[%d]: %w", opts.Stack, i, err)
			}
			if p.Address.IsZero() && ref.ProgramID != "" {
				if p.Address, err = solana.ParsePubkey(ref.ProgramID); err != nil {
					return nil, fmt.Errorf("stack %s: program id of idls[%d]: %w", opts.Stack, i, err)
				}
			}
			if p.Address.IsZero() {
				return nil, fmt.Errorf("stack %s: idls[%d] (%s) names no program id", opts.Stack, i, p.Name)
			}
			reg.Add(p)
		}
	}
	for _, path := range opts.IDLs {
		p, err := idl.ParseFile(path)
		if err != nil {
			return nil, err
		}
		if p.Address.IsZero() {
			return nil, flagErrorf("--idl %s: the IDL names no program address, so its events cannot be matched", path)
		}
		reg.Add(p)
	}
	return reg, nil
}

type eventPrinter interface {
	print(ev *event.Event) error
	flush() error
}

// jsonInstruction and jsonAccount are the lines of `inspect events --json`.
type jsonInstruction struct {
	Slot      uint64           `json:"slot"`
	Seq       uint64           `json:"seq"`
	Kind      string           `json:"kind"`
	Signature solana.Signature `json:"signature"`
	Path      []int            `json:"path"`
	Program   solana.Pubkey    `json:"program"`
	Accounts  []solana.Pubkey  `json:"accounts"`
	Data      string           `json:"data"`
	Type      *string          `json:"type"`
	Decoded   any              `json:"decoded"`
	Failed    bool             `json:"failed"`
	CPIEvent  bool             `json:"cpi_event,omitempty"`
	Events    []jsonLogEvent   `json:"events,omitempty"`
}

type jsonAccount struct {
	Slot         uint64        `json:"slot"`
	Seq          uint64        `json:"seq"`
	Kind         string        `json:"kind"`
	Pubkey       solana.Pubkey `json:"pubkey"`
	Owner        solana.Pubkey `json:"owner"`
	Lamports     uint64        `json:"lamports"`
	WriteVersion uint64        `json:"write_version"`
	Data         string        `json:"data"`
	Type         *string       `json:"type"`
	Decoded      any           `json:"decoded"`
}

type jsonLogEvent struct {
	Data    string  `json:"data"`
	Type    *string `json:"type"`
	Decoded any     `json:"decoded"`
}

type jsonEventPrinter struct {
	enc *json.Encoder
}

func newJSONEventPrinter(w io.Writer) *jsonEventPrinter {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return &jsonEventPrinter{enc: enc}
}

func (p *jsonEventPrinter) print(ev *event.Event) error {
	return p.enc.Encode(toJSONEvent(ev))
}

func (p *jsonEventPrinter) flush() error { return nil }

func toJSONEvent(ev *event.Event) any {
	switch {
	case ev.Instruction != nil:
		in := ev.Instruction
		j := &jsonInstruction{Slot: ev.Slot, Seq: ev.Seq, Kind: ev.Kind.String(), Signature: in.Signature,
			Path: in.Path, Program: in.ProgramID, Accounts: in.Accounts, Failed: in.Failed, CPIEvent: in.CPIEvent,
			Data: base64.StdEncoding.EncodeToString(in.Data)}
		if j.Accounts == nil {
			j.Accounts = []solana.Pubkey{}
		}
		j.Type, j.Decoded = decodedJSON(in.Decoded, in)
		for _, le := range in.LogEvents {
			t, d := decodedJSON(le.Decoded, nil)
			j.Events = append(j.Events, jsonLogEvent{Data: base64.StdEncoding.EncodeToString(le.Data), Type: t, Decoded: d})
		}
		return j
	case ev.Account != nil:
		a := ev.Account
		j := &jsonAccount{Slot: ev.Slot, Seq: ev.Seq, Kind: ev.Kind.String(), Pubkey: a.Pubkey, Owner: a.Owner,
			Lamports: a.Lamports, WriteVersion: a.WriteVersion, Data: base64.StdEncoding.EncodeToString(a.Data)}
		j.Type, j.Decoded = decodedJSON(a.Decoded, nil)
		return j
	default:
		return map[string]any{"slot": ev.Slot, "seq": ev.Seq, "kind": ev.Kind.String()}
	}
}

// decodedJSON returns the type and the decoded value as printed: account fields as they are, an
// instruction as {"data": args, "accounts": {IDL name: address}} and an event as {"data": fields},
// the shapes the VM's handlers see.
func decodedJSON(d *event.Decoded, in *event.Instruction) (*string, any) {
	if d == nil {
		return nil, nil
	}
	t := d.Type
	switch d.Kind {
	case event.DecodedInstruction:
		return &t, map[string]any{"data": d.Fields, "accounts": extract.AccountsObject(in)}
	case event.DecodedEvent:
		return &t, map[string]any{"data": d.Fields}
	default:
		return &t, d.Fields
	}
}

// tableFlushRows bounds the rows the table buffers: columns are aligned within blocks of this many
// rows, so output streams on large archives.
const tableFlushRows = 256

// tableDetailWidth bounds the DETAIL column.
const tableDetailWidth = 100

type tableEventPrinter struct {
	w    io.Writer
	tw   *tabwriter.Writer
	rows int
}

func newTableEventPrinter(w io.Writer) *tableEventPrinter {
	return &tableEventPrinter{w: w}
}

func (p *tableEventPrinter) print(ev *event.Event) error {
	if p.tw == nil {
		p.tw = tabwriter.NewWriter(p.w, 0, 8, 2, ' ', 0)
		if _, err := fmt.Fprintln(p.tw, "SLOT\tSEQ\tKIND\tWHERE\tPROGRAM\tTYPE\tDETAIL"); err != nil {
			return err
		}
	}
	var where, program, typ, detail string
	typ = "-"
	switch {
	case ev.Instruction != nil:
		in := ev.Instruction
		where = shortID(in.Signature.String()) + " " + pathString(in.Path)
		program = in.ProgramID.String()
		if d := in.Decoded; d != nil {
			typ = d.Type
			detail = compactJSON(d.Fields)
			for _, a := range extract.NamedAccounts(in) {
				detail += " " + a.Name + "=" + shortID(a.Pubkey.String())
			}
		} else {
			detail = strconv.Itoa(len(in.Data)) + " bytes, " + strconv.Itoa(len(in.Accounts)) + " accounts"
		}
		if in.CPIEvent {
			detail = "cpi event " + detail
		}
		if len(in.LogEvents) > 0 {
			detail += " +" + strconv.Itoa(len(in.LogEvents)) + " log event(s)"
		}
		if in.Failed {
			detail = "FAILED " + detail
		}
	case ev.Account != nil:
		a := ev.Account
		where = a.Pubkey.String()
		program = a.Owner.String()
		detail = "lamports=" + strconv.FormatUint(a.Lamports, 10) + " wv=" + strconv.FormatUint(a.WriteVersion, 10)
		if d := a.Decoded; d != nil {
			typ = d.Type
			detail += " " + compactJSON(d.Fields)
		} else {
			detail += " " + strconv.Itoa(len(a.Data)) + " bytes"
		}
	}
	_, err := fmt.Fprintf(p.tw, "%d\t%d\t%s\t%s\t%s\t%s\t%s\n", ev.Slot, ev.Seq, ev.Kind, where, program, typ,
		truncateRunes(detail, tableDetailWidth))
	if err != nil {
		return err
	}
	p.rows++
	if p.rows%tableFlushRows == 0 {
		return p.tw.Flush()
	}
	return nil
}

func (p *tableEventPrinter) flush() error {
	if p.tw == nil {
		_, err := fmt.Fprintln(p.w, "no events")
		return err
	}
	return p.tw.Flush()
}

// shortID abbreviates a base58 signature or pubkey to its first 8 characters.
func shortID(s string) string {
	if len(s) <= 12 {
		return s
	}
	return s[:8] + "…"
}

func pathString(p []int) string {
	parts := make([]string, len(p))
	for i, v := range p {
		parts[i] = strconv.Itoa(v)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

func compactJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
