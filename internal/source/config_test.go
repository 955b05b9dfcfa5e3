package source_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
	"github.com/hyperstack-go/hyperstack/internal/source"
	"github.com/hyperstack-go/hyperstack/internal/source/geysertest"
)

func TestParseEndpoint(t *testing.T) {
	cases := []struct {
		in   string
		want source.Target
		err  string
	}{
		{in: "https://grpc.example.com", want: source.Target{Address: "grpc.example.com:443", TLS: true, ServerName: "grpc.example.com"}},
		{in: "https://grpc.example.com:10000/", want: source.Target{Address: "grpc.example.com:10000", TLS: true, ServerName: "grpc.example.com"}},
		{in: "HTTPS://Mainnet.Example.com:443", want: source.Target{Address: "Mainnet.Example.com:443", TLS: true, ServerName: "Mainnet.Example.com"}},
		{in: "http://127.0.0.1:10000", want: source.Target{Address: "127.0.0.1:10000", ServerName: "127.0.0.1"}},
		{in: "http://localhost", want: source.Target{Address: "localhost:80", ServerName: "localhost"}},
		{in: "http://[::1]:9000", want: source.Target{Address: "[::1]:9000", ServerName: "::1"}},
		{in: "grpc.example.com:443", err: "want http://host[:port] or https://host[:port]"},
		{in: "dns:///grpc.example.com", err: "want http://host[:port] or https://host[:port]"},
		{in: "https://", err: "missing host"},
		{in: "https://user:s3cr3t@grpc.example.com", err: "only scheme, host and port"},
		{in: "https://grpc.example.com/s3cr3t", err: "only scheme, host and port"},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, err := source.ParseEndpoint(tc.in)
			if tc.err != "" {
				require.ErrorIs(t, err, source.ErrBadEndpoint)
				require.Contains(t, err.Error(), tc.err)
				require.NotContains(t, err.Error(), "s3cr3t", "a token in the URL is never echoed")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestRedactEndpoint(t *testing.T) {
	require.Equal(t, "https://grpc.example.com:443", source.RedactEndpoint("https://u:secret@grpc.example.com:443/secret?x=secret"))
	require.Equal(t, "<unparsable endpoint>", source.RedactEndpoint("::"))
}

func TestNewValidates(t *testing.T) {
	good := source.Config{Endpoint: "http://127.0.0.1:1", Filters: source.Filters{Slots: true}}
	y, err := source.New(good)
	require.NoError(t, err)
	require.Equal(t, geyserpb.CommitmentLevel_CONFIRMED, y.Commitment(), "default commitment")
	require.Equal(t, "http://127.0.0.1:1", y.Endpoint())

	bad := []struct {
		name string
		mod  func(*source.Config)
		err  string
	}{
		{"no filters", func(c *source.Config) { c.Filters = source.Filters{} }, "no filters"},
		{"commitment", func(c *source.Config) { c.Commitment = "rooted" }, `commitment "rooted"`},
		{"bad owner", func(c *source.Config) { c.Filters.AccountOwners = []string{"not-base58!"} }, `account owners[0] "not-base58!"`},
		{"bad tx account", func(c *source.Config) { c.Filters.TransactionAccounts = []string{"abc"} }, `transaction accounts[0] "abc"`},
		{"negative max recv", func(c *source.Config) { c.MaxRecvBytes = -1 }, "negative"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			cfg := good
			tc.mod(&cfg)
			_, err := source.New(cfg)
			require.ErrorIs(t, err, source.ErrBadConfig)
			require.Contains(t, err.Error(), tc.err)
		})
	}
}

func TestFiltersRequest(t *testing.T) {
	owner, acct, txAcct := geysertest.Key(1).String(), geysertest.Key(2).String(), geysertest.Key(3).String()
	req, err := source.Filters{
		AccountOwners:       []string{owner},
		Accounts:            []string{acct},
		TransactionAccounts: []string{txAcct},
		Slots:               true,
		BlocksMeta:          true,
	}.Request(geyserpb.CommitmentLevel_FINALIZED)
	require.NoError(t, err)
	require.Equal(t, geyserpb.CommitmentLevel_FINALIZED, req.GetCommitment())
	require.Equal(t, []string{owner}, req.Accounts[source.FilterAccountOwners].Owner)
	require.Empty(t, req.Accounts[source.FilterAccountOwners].Account)
	require.Equal(t, []string{acct}, req.Accounts[source.FilterAccounts].Account)
	tx := req.Transactions[source.FilterTransactions]
	require.Equal(t, []string{txAcct}, tx.AccountInclude)
	require.NotNil(t, tx.Vote)
	require.False(t, *tx.Vote)
	require.NotNil(t, tx.Failed)
	require.False(t, *tx.Failed)
	require.Contains(t, req.Slots, source.FilterSlots)
	require.Contains(t, req.BlocksMeta, source.FilterBlocksMeta)
	require.Nil(t, req.FromSlot)

	req, err = source.Filters{Transactions: true, IncludeVote: true, IncludeFailed: true}.Request(geyserpb.CommitmentLevel_PROCESSED)
	require.NoError(t, err)
	tx = req.Transactions[source.FilterTransactions]
	require.Nil(t, tx.Vote)
	require.Nil(t, tx.Failed)
	require.Empty(t, tx.AccountInclude)
}

func TestBackoffCeiling(t *testing.T) {
	b := source.Backoff{Initial: 250 * time.Millisecond, Multiplier: 3, Max: 5 * time.Second}
	require.Equal(t, 250*time.Millisecond, b.Ceiling(0))
	require.Equal(t, 750*time.Millisecond, b.Ceiling(1))
	require.Equal(t, 2250*time.Millisecond, b.Ceiling(2))
	require.Equal(t, 5*time.Second, b.Ceiling(3))
	require.Equal(t, 5*time.Second, b.Ceiling(1000))
}
