package source

import (
	"context"
	"crypto/x509"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/charmbracelet/log"
	"google.golang.org/grpc"

	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
	"github.com/hyperstack-go/hyperstack/internal/solana"
)

// Filter names used in the SubscribeRequest built from Filters. They come back in
// SubscribeUpdate.filters.
const (
	FilterAccounts      = "accounts"
	FilterAccountOwners = "account_owners"
	FilterTransactions  = "transactions"
	FilterSlots         = "slots"
	FilterBlocksMeta    = "blocks_meta"
)

// Defaults applied by New for zero Config fields.
const (
	DefaultMaxRecvBytes     = 64 << 20
	DefaultKeepaliveTime    = 30 * time.Second
	DefaultKeepaliveTimeout = 10 * time.Second
	DefaultStallTimeout     = 60 * time.Second
	DefaultDedupSlots       = 64
	DefaultResumeMargin     = 2
)

// Config describes one Yellowstone subscription. The zero value of every field means its default.
type Config struct {
	// Endpoint is http://host[:port] (plaintext, default port 80) or https://host[:port] (TLS with the
	// system roots, default port 443). Required.
	Endpoint string
	// XToken is sent as the x-token metadata header when not empty.
	XToken string
	// RootCAs verifies an https:// endpoint's certificate instead of the system roots (a private CA
	// or a self-signed endpoint); nil means the system roots.
	RootCAs *x509.CertPool
	// Filters selects what to subscribe to.
	Filters Filters
	// Commitment is "processed", "confirmed" or "finalized"; empty means "confirmed".
	Commitment string
	// MaxRecvBytes bounds one received message; 0 means DefaultMaxRecvBytes (64 MiB).
	MaxRecvBytes int
	// Keepalive configures HTTP/2 keepalive pings.
	Keepalive Keepalive
	// Gzip asks for gzip-compressed messages (requests are compressed, so grpc servers answer in kind).
	Gzip bool
	// Backoff paces reconnect attempts.
	Backoff Backoff
	// StallTimeout ends a stream that delivered nothing (not even a server ping) for this long and
	// reconnects; 0 means DefaultStallTimeout (60 s), negative disables the check.
	StallTimeout time.Duration
	// ResumeSlot returns the slot to resume from on every (re)connect: the highest slot already
	// handled; false means "start at the live head". Nil resumes from the highest slot delivered by
	// this Run, if any. The request's from_slot is ResumeMargin slots below it.
	ResumeSlot func() (uint64, bool)
	// ResumeMargin is how many slots below the resume slot a reconnect asks the server to replay
	// (from_slot = resume slot − ResumeMargin): the updates of one slot can arrive after those of a
	// later one, so the last slots handled may be incomplete. The replayed updates already delivered,
	// or Seen, are dropped. 0 means DefaultResumeMargin (2, the margin the Yellowstone client keeps);
	// negative means none.
	ResumeMargin int
	// Seen reports whether an update with this DedupKey was already stored (for example by an earlier
	// process writing the same archive); such updates are dropped. It is consulted for replayed
	// updates up to the resume slot of the current connection (what the server replays that may
	// predate this Run), so it should know the stored updates of the ResumeMargin slots below the
	// resume slot and of the resume slot itself. Nil means "nothing seen".
	Seen func(key string) bool
	// DedupSlots caps how many recent slots of delivered DedupKeys are remembered to drop replayed
	// duplicates; 0 means DefaultDedupSlots (64). Keys of slots below the current from_slot are
	// forgotten earlier, since a reconnect never replays them.
	DedupSlots uint64
	// LendRaw lends Update.Raw instead of giving it away: the bytes are valid only until OnUpdate
	// returns, and the handler copies what it keeps. Most messages then reach the handler straight
	// from the transport's buffers, without a copy of their own (a recorder copies them into its
	// batch anyway).
	LendRaw bool
	// Logger receives connection, retry and gap messages; nil is silent.
	Logger *log.Logger
	// Clock supplies time and sleeps; nil is the system clock. Tests inject a fake one.
	Clock Clock
	// DialOptions are appended to the gRPC dial options (tests, custom transports).
	DialOptions []grpc.DialOption
}

// Filters are the subscription filters, built into one SubscribeRequest by Request.
type Filters struct {
	// Accounts are account pubkeys (base58) to follow (filter "accounts").
	Accounts []string
	// AccountOwners are program ids (base58); accounts they own are followed (filter "account_owners").
	AccountOwners []string
	// Transactions enables the transactions filter (also enabled by a non-empty TransactionAccounts).
	Transactions bool
	// TransactionAccounts restricts transactions to those touching any of these pubkeys
	// (account_include).
	TransactionAccounts []string
	// IncludeVote and IncludeFailed lift the default vote=false / failed=false constraints.
	IncludeVote   bool
	IncludeFailed bool
	// Slots subscribes to slot status updates (filter "slots").
	Slots bool
	// BlocksMeta subscribes to block metadata (filter "blocks_meta").
	BlocksMeta bool
}

// Keepalive configures HTTP/2 keepalive. Zero Time means DefaultKeepaliveTime (30 s), zero Timeout
// DefaultKeepaliveTimeout (10 s); negative Time disables keepalive.
type Keepalive struct {
	Time    time.Duration
	Timeout time.Duration
}

// Backoff paces reconnect attempts: the n-th consecutive failure waits a uniformly random duration in
// [0, min(Max, Initial·Multiplier^n)) ("full jitter"). A stream that stayed healthy for ResetAfter resets
// the sequence. Zero fields mean Initial 100 ms, Multiplier 2, Max 30 s, ResetAfter 1 min.
type Backoff struct {
	Initial    time.Duration
	Multiplier float64
	Max        time.Duration
	ResetAfter time.Duration
	// Jitter maps the current ceiling to the actual delay; nil is full jitter (uniform in [0, ceiling)).
	Jitter func(ceiling time.Duration) time.Duration
}

// Clock is the time source used for receive timestamps, stall detection and backoff sleeps.
type Clock interface {
	Now() time.Time
	// Sleep waits for d or until ctx is done, returning ctx.Err() in the latter case.
	Sleep(ctx context.Context, d time.Duration) error
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

func (systemClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (b Backoff) withDefaults() Backoff {
	if b.Initial <= 0 {
		b.Initial = 100 * time.Millisecond
	}
	if b.Multiplier < 1 {
		b.Multiplier = 2
	}
	if b.Max <= 0 {
		b.Max = 30 * time.Second
	}
	if b.ResetAfter <= 0 {
		b.ResetAfter = time.Minute
	}
	if b.Jitter == nil {
		b.Jitter = func(c time.Duration) time.Duration {
			if c <= 0 {
				return 0
			}
			return time.Duration(rand.Int64N(int64(c)))
		}
	}
	return b
}

// Ceiling returns the upper bound of the delay before retry number attempt (0-based).
func (b Backoff) Ceiling(attempt int) time.Duration {
	b = b.withDefaults()
	d := float64(b.Initial)
	for i := 0; i < attempt && d < float64(b.Max); i++ {
		d *= b.Multiplier
	}
	if d > float64(b.Max) {
		d = float64(b.Max)
	}
	return time.Duration(d)
}

// ParseCommitment maps "processed", "confirmed" or "finalized" (case-insensitive; empty = confirmed) to
// the wire enum.
func ParseCommitment(s string) (geyserpb.CommitmentLevel, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "confirmed":
		return geyserpb.CommitmentLevel_CONFIRMED, nil
	case "processed":
		return geyserpb.CommitmentLevel_PROCESSED, nil
	case "finalized":
		return geyserpb.CommitmentLevel_FINALIZED, nil
	}
	return 0, fmt.Errorf("%w: commitment %q: want processed, confirmed or finalized", ErrBadConfig, s)
}

// Target is a parsed endpoint.
type Target struct {
	// Address is host:port as dialled.
	Address string
	// TLS is true for https:// endpoints.
	TLS bool
	// ServerName is the host name checked against the server certificate.
	ServerName string
}

// ParseEndpoint parses an http:// or https:// endpoint URL. A path, query or user info is refused.
func ParseEndpoint(endpoint string) (Target, error) {
	u, err := url.Parse(strings.TrimSpace(endpoint))
	if err != nil {
		return Target{}, fmt.Errorf("%w %q: %v", ErrBadEndpoint, RedactEndpoint(endpoint), err)
	}
	var t Target
	port := ""
	switch strings.ToLower(u.Scheme) {
	case "http":
		port = "80"
	case "https":
		port = "443"
		t.TLS = true
	default:
		return Target{}, fmt.Errorf("%w %q: want http://host[:port] or https://host[:port]",
			ErrBadEndpoint, RedactEndpoint(endpoint))
	}
	if u.Host == "" || u.Hostname() == "" {
		return Target{}, fmt.Errorf("%w %q: missing host", ErrBadEndpoint, RedactEndpoint(endpoint))
	}
	if u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return Target{}, fmt.Errorf("%w %q: only scheme, host and port are allowed (pass the token with x-token)",
			ErrBadEndpoint, RedactEndpoint(endpoint))
	}
	if p := u.Port(); p != "" {
		port = p
	}
	t.ServerName = u.Hostname()
	t.Address = net.JoinHostPort(u.Hostname(), port)
	return t, nil
}

// RedactEndpoint returns the endpoint with any user info, path and query removed, so it can be logged
// or stored without leaking a token embedded in the URL.
func RedactEndpoint(endpoint string) string {
	u, err := url.Parse(strings.TrimSpace(endpoint))
	if err != nil || u.Host == "" {
		return "<unparsable endpoint>"
	}
	return u.Scheme + "://" + u.Host
}

// Request builds the SubscribeRequest for these filters at the given commitment.
func (f Filters) Request(commitment geyserpb.CommitmentLevel) (*geyserpb.SubscribeRequest, error) {
	req := &geyserpb.SubscribeRequest{Commitment: &commitment}
	if err := checkPubkeys("accounts", f.Accounts); err != nil {
		return nil, err
	}
	if err := checkPubkeys("account owners", f.AccountOwners); err != nil {
		return nil, err
	}
	if err := checkPubkeys("transaction accounts", f.TransactionAccounts); err != nil {
		return nil, err
	}
	if len(f.Accounts) > 0 {
		req.Accounts = map[string]*geyserpb.SubscribeRequestFilterAccounts{
			FilterAccounts: {Account: append([]string(nil), f.Accounts...)},
		}
	}
	if len(f.AccountOwners) > 0 {
		if req.Accounts == nil {
			req.Accounts = map[string]*geyserpb.SubscribeRequestFilterAccounts{}
		}
		req.Accounts[FilterAccountOwners] = &geyserpb.SubscribeRequestFilterAccounts{
			Owner: append([]string(nil), f.AccountOwners...),
		}
	}
	if f.Transactions || len(f.TransactionAccounts) > 0 {
		tf := &geyserpb.SubscribeRequestFilterTransactions{
			AccountInclude: append([]string(nil), f.TransactionAccounts...),
		}
		if !f.IncludeVote {
			tf.Vote = new(false)
		}
		if !f.IncludeFailed {
			tf.Failed = new(false)
		}
		req.Transactions = map[string]*geyserpb.SubscribeRequestFilterTransactions{FilterTransactions: tf}
	}
	if f.Slots {
		req.Slots = map[string]*geyserpb.SubscribeRequestFilterSlots{FilterSlots: {}}
	}
	if f.BlocksMeta {
		req.BlocksMeta = map[string]*geyserpb.SubscribeRequestFilterBlocksMeta{FilterBlocksMeta: {}}
	}
	if len(req.Accounts)+len(req.Transactions)+len(req.Slots)+len(req.BlocksMeta) == 0 {
		return nil, fmt.Errorf("%w: no filters: subscribe to accounts, owners, transactions, slots or blocks meta",
			ErrBadConfig)
	}
	return req, nil
}

func checkPubkeys(what string, keys []string) error {
	for i, k := range keys {
		if _, err := solana.ParsePubkey(k); err != nil {
			return fmt.Errorf("%w: %s[%d] %q: %v", ErrBadConfig, what, i, k, err)
		}
	}
	return nil
}
