package command

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hyperstack-go/hyperstack/internal/archive"
	"github.com/hyperstack-go/hyperstack/internal/buildinfo"
	"github.com/hyperstack-go/hyperstack/internal/record"
	"github.com/hyperstack-go/hyperstack/internal/source"
)

type recordOptions struct {
	Endpoint      string
	XToken        string
	CACert        string
	Owners        []string
	Accounts      []string
	TxAccounts    []string
	Slots         bool
	BlocksMeta    bool
	Commitment    string
	Out           string
	Import        string
	BatchSize     int
	BatchInterval time.Duration
	ResumeMargin  int
	Gzip          bool
	Stack         string

	commitmentSet bool
}

func newRecordCommand(f *Factory) *cobra.Command {
	opts := &recordOptions{}
	cmd := &cobra.Command{
		Use:   "record --endpoint URL [filters] --out FILE | record --import CAPTURE --out FILE",
		Short: "Record a Yellowstone gRPC stream into an archive",
		Long: `Record a Yellowstone gRPC (Geyser) stream, byte-exact, into a crash-safe archive file.

Updates are committed in durable batches (--batch-size updates or --batch-interval, whichever
comes first). Ctrl-C or SIGTERM flushes and closes the archive. Running record again on an
existing archive resumes from its checkpoint: the subscription asks the server to replay from
--resume-margin slots (2) before the archive's last slot (from_slot; updates of one slot may
arrive after those of a later one), and updates already stored are dropped, so even after a
crash (kill -9) the archive continues with no duplicate and no missing update. Without filter
flags a resumed recording uses the filters stored in the archive. When the server cannot
replay that far back, a gap record names the missing slot range and recording continues live.

The endpoint stored in the archive has credentials removed; pass the token with --x-token (or
HYPERSTACK_RECORD_X_TOKEN).

--stack FILE runs the stack over every update as it is recorded and stores its golden (the
digest chain of the mutations, see "hyperstack replay") in the archive, committed together with
the updates: "hyperstack replay FILE --stack FILE --verify" later proves that replay reproduces
exactly what was computed live.

--import reads a length-prefixed capture ([u32 big-endian length][SubscribeUpdate]...) into a
new archive instead. A truncated capture imports its complete records and reports the byte
offset where it stopped.`,
		Example: `  # Accounts owned by the ORE program, plus slot statuses, at confirmed commitment
  hyperstack record --endpoint https://grpc.example.com --x-token $TOKEN \
    --owner oreV3EG1i9BEgiAJ8b177Z2S2rMarzak4NMv1kULvWv --slots --out ore.db

  # Resume after a stop or crash (filters come from the archive)
  hyperstack record --endpoint https://grpc.example.com --x-token $TOKEN --out ore.db

  # Import a capture file
  hyperstack record --import sample.bin --out sample.db`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.commitmentSet = cmd.Flags().Changed("commitment")
			if opts.Import != "" {
				return runRecordImport(cmd, f, opts)
			}
			return runRecord(cmd, f, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Endpoint, "endpoint", "", "Yellowstone gRPC endpoint, http://host:port or https://host[:port]")
	fl.StringVar(&opts.XToken, "x-token", "", "access token sent as the x-token header")
	fl.StringVar(&opts.CACert, "ca-cert", "", caCertUsage)
	fl.StringSliceVar(&opts.Owners, "owner", nil, "record accounts owned by this program id (repeatable)")
	fl.StringSliceVar(&opts.Accounts, "account", nil, "record this account (repeatable)")
	fl.StringSliceVar(&opts.TxAccounts, "tx-account", nil, "record non-vote, successful transactions touching this account (repeatable)")
	fl.BoolVar(&opts.Slots, "slots", false, "record slot status updates")
	fl.BoolVar(&opts.BlocksMeta, "blocks-meta", false, "record block meta updates")
	fl.StringVar(&opts.Commitment, "commitment", "confirmed", "commitment: processed, confirmed or finalized")
	fl.StringVar(&opts.Out, "out", "", "archive file to create or resume (required)")
	fl.StringVar(&opts.Import, "import", "", "import this length-prefixed capture file instead of connecting")
	fl.IntVar(&opts.BatchSize, "batch-size", archive.DefaultBatchSize, "updates per durable batch")
	fl.DurationVar(&opts.BatchInterval, "batch-interval", archive.DefaultBatchInterval, "longest wait before a batch is committed")
	fl.IntVar(&opts.ResumeMargin, "resume-margin", source.DefaultResumeMargin, "on resume, also replay this many slots before the archive's last slot (updates of a slot may arrive after later ones)")
	fl.BoolVar(&opts.Gzip, "gzip", false, "ask the server for gzip-compressed messages")
	fl.StringVar(&opts.Stack, "stack", "", "compute this stack's golden digests live while recording (*.stack.json)")
	return cmd
}

func (o *recordOptions) filters() archive.Filters {
	return archive.Filters{Owners: o.Owners, Accounts: o.Accounts, TxAccounts: o.TxAccounts, Slots: o.Slots, BlocksMeta: o.BlocksMeta}
}

func (o *recordOptions) writerConfig() (archive.WriterConfig, error) {
	if o.BatchSize <= 0 {
		return archive.WriterConfig{}, flagErrorf("--batch-size must be positive, got %d", o.BatchSize)
	}
	if o.BatchInterval <= 0 {
		return archive.WriterConfig{}, flagErrorf("--batch-interval must be positive, got %s", o.BatchInterval)
	}
	return archive.WriterConfig{BatchSize: o.BatchSize, BatchInterval: o.BatchInterval}, nil
}

func describeFilters(fl archive.Filters) string {
	var parts []string
	add := func(name string, vs []string) {
		if len(vs) > 0 {
			parts = append(parts, name+"="+strings.Join(vs, ","))
		}
	}
	add("owner", fl.Owners)
	add("account", fl.Accounts)
	add("tx-account", fl.TxAccounts)
	if fl.Slots {
		parts = append(parts, "slots")
	}
	if fl.BlocksMeta {
		parts = append(parts, "blocks-meta")
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " ")
}

func runRecord(cmd *cobra.Command, f *Factory, opts *recordOptions) error {
	if opts.Out == "" {
		return flagErrorf("--out FILE is required")
	}
	wcfg, err := opts.writerConfig()
	if err != nil {
		return err
	}
	if opts.ResumeMargin < 0 {
		return flagErrorf("--resume-margin must be 0 or more, got %d", opts.ResumeMargin)
	}
	logger := f.Logger("record")
	stk, err := opts.loadStack()
	if err != nil {
		return err
	}

	// An existing archive decides the filters, commitment and (when not given) the endpoint.
	var existing *archive.Meta
	if _, err := os.Lstat(opts.Out); err == nil {
		a, err := archive.Open(opts.Out, &archive.Options{ReadOnly: true})
		if err != nil {
			return err
		}
		m := a.Meta()
		_ = a.Close()
		existing = &m
		if m.Source.Kind != archive.SourceYellowstone {
			return fmt.Errorf("%s holds an imported capture (%s); record into a new file", opts.Out, m.Source.Capture)
		}
		flt := opts.filters()
		switch {
		case flt.Empty():
			opts.Owners, opts.Accounts, opts.TxAccounts = m.Source.Filters.Owners, m.Source.Filters.Accounts, m.Source.Filters.TxAccounts
			opts.Slots, opts.BlocksMeta = m.Source.Filters.Slots, m.Source.Filters.BlocksMeta
		case !flt.Equal(m.Source.Filters):
			return flagErrorf("%s was recorded with filters %q; resume it with the same filters (or none), or record into a new file",
				opts.Out, describeFilters(m.Source.Filters))
		}
		if !opts.commitmentSet && m.Source.Commitment != "" {
			opts.Commitment = m.Source.Commitment
		} else if m.Source.Commitment != "" && !strings.EqualFold(opts.Commitment, m.Source.Commitment) {
			return flagErrorf("%s was recorded at commitment %s; resume it at the same commitment", opts.Out, m.Source.Commitment)
		}
		if opts.Endpoint == "" {
			opts.Endpoint = m.Source.Endpoint
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if opts.Endpoint == "" {
		return flagErrorf("--endpoint URL is required (or --import CAPTURE)")
	}

	roots, err := loadCACert(opts.CACert)
	if err != nil {
		return err
	}
	// Duplicate detection reads back the slots a resume replays (0 keeps the recorder's default,
	// which reads back more than needed).
	rec := &record.Recorder{Logger: logger, Writer: wcfg, SeenSlots: uint64(opts.ResumeMargin)}
	margin := opts.ResumeMargin
	if margin == 0 {
		margin = -1 // source.Config: none (0 there means its default)
	}
	src, err := source.New(source.Config{
		Endpoint:   opts.Endpoint,
		XToken:     opts.XToken,
		RootCAs:    roots,
		Commitment: opts.Commitment,
		Gzip:       opts.Gzip,
		Filters: source.Filters{
			Accounts:            opts.Accounts,
			AccountOwners:       opts.Owners,
			TransactionAccounts: opts.TxAccounts,
			Slots:               opts.Slots,
			BlocksMeta:          opts.BlocksMeta,
		},
		ResumeSlot:   rec.ResumeSlot,
		ResumeMargin: margin,
		Seen:         rec.Seen,
		// The archive copies each update into its batch; a live golden (--stack) keeps the bytes.
		LendRaw: stk.spec == nil,
		Logger:  f.Logger("source"),
	})
	if err != nil {
		if errors.Is(err, source.ErrBadEndpoint) || errors.Is(err, source.ErrBadConfig) {
			return &FlagError{Err: err}
		}
		return err
	}
	rec.Source = src

	var a *archive.Archive
	if existing != nil {
		a, err = archive.Open(opts.Out, &archive.Options{Logger: logger})
	} else {
		a, err = archive.Create(opts.Out, archive.Meta{
			CreatedAt: f.Now(),
			CreatedBy: "hyperstack " + buildinfo.Version(),
			Source: archive.Source{
				Kind:       archive.SourceYellowstone,
				Endpoint:   archive.SanitizeEndpoint(src.Endpoint(), opts.XToken),
				Commitment: strings.ToLower(src.Commitment().String()),
				Filters:    opts.filters(),
			},
		}, &archive.Options{Logger: logger})
	}
	if err != nil {
		return err
	}
	rec.Archive = a
	live, err := stk.startLive(cmd.Context(), a, rec, logger)
	if err != nil {
		_ = a.Close()
		return err
	}
	if f.IO.IsTerminal != nil && f.IO.IsTerminal() {
		rec.Progress = &record.Progress{Terminal: true, Out: f.IO.ErrOut}
	} else {
		rec.Progress = &record.Progress{}
	}
	runErr := rec.Run(cmd.Context())
	if err := stk.closeLive(live, logger); err != nil && runErr == nil {
		runErr = err
	}
	if err := a.Close(); err != nil && runErr == nil {
		runErr = err
	}
	return runErr
}

func runRecordImport(cmd *cobra.Command, f *Factory, opts *recordOptions) error {
	if opts.Out == "" {
		return flagErrorf("--out FILE is required")
	}
	if opts.Endpoint != "" {
		return flagErrorf("--import and --endpoint are mutually exclusive")
	}
	wcfg, err := opts.writerConfig()
	if err != nil {
		return err
	}
	in, err := os.Open(opts.Import)
	if err != nil {
		return fmt.Errorf("open capture: %w", err)
	}
	defer in.Close()
	h := sha256.New()
	if _, err := io.Copy(h, in); err != nil {
		return fmt.Errorf("read capture %s: %w", opts.Import, err)
	}
	if _, err := in.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("read capture %s: %w", opts.Import, err)
	}
	logger := f.Logger("record")
	stk, err := opts.loadStack()
	if err != nil {
		return err
	}
	a, err := archive.Create(opts.Out, archive.Meta{
		CreatedAt: f.Now(),
		CreatedBy: "hyperstack " + buildinfo.Version(),
		Source: archive.Source{Kind: archive.SourceImport, Capture: filepath.Base(opts.Import),
			CaptureSHA256: hex.EncodeToString(h.Sum(nil))},
	}, &archive.Options{Logger: logger})
	if err != nil {
		if errors.Is(err, archive.ErrExists) {
			return fmt.Errorf("%w; --import writes a new archive", err)
		}
		return err
	}
	res, importErr := record.Import(cmd.Context(), in, a, record.ImportOptions{Writer: wcfg, Now: f.Now})
	if importErr == nil {
		importErr = stk.importGolden(cmd.Context(), a, logger)
	}
	if err := a.Close(); err != nil && importErr == nil {
		importErr = err
	}
	fmt.Fprintf(f.IO.Out, "imported %d updates (%d bytes) from %s into %s\n", res.Records, res.Offset, opts.Import, opts.Out)
	return importErr
}
