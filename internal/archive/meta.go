package archive

import (
	"encoding/binary"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
)

// Meta describes where an archive's updates came from. It is written once, when the archive is created.
type Meta struct {
	// FormatVersion is filled in when reading; Create always writes FormatVersion.
	FormatVersion uint32 `json:"format_version"`
	// CreatedAt is when the archive was created (UTC). Zero means now.
	CreatedAt time.Time `json:"created_at"`
	// CreatedBy names the program version that created the archive (informational).
	CreatedBy string `json:"created_by,omitempty"`
	// Source describes the stream.
	Source Source `json:"source"`
}

// Source kinds.
const (
	SourceYellowstone = "yellowstone"
	SourceImport      = "import"
)

// Source describes the stream recorded into an archive.
type Source struct {
	// Kind is SourceYellowstone or SourceImport.
	Kind string `json:"kind"`
	// Endpoint is the gRPC endpoint with credentials removed (see SanitizeEndpoint).
	Endpoint string `json:"endpoint,omitempty"`
	// Commitment is processed, confirmed or finalized.
	Commitment string `json:"commitment,omitempty"`
	// Filters are the subscription filters.
	Filters Filters `json:"filters"`
	// Capture is the base name of the imported capture file (imports only).
	Capture string `json:"capture,omitempty"`
	// CaptureSHA256 is the hex SHA-256 of the imported capture file (imports only).
	CaptureSHA256 string `json:"capture_sha256,omitempty"`
}

// Filters are the subscription filters a recording used.
type Filters struct {
	// Owners are account owner program ids (base58).
	Owners []string `json:"owners,omitempty"`
	// Accounts are account pubkeys (base58).
	Accounts []string `json:"accounts,omitempty"`
	// TxAccounts are transaction account_include pubkeys (base58).
	TxAccounts []string `json:"tx_accounts,omitempty"`
	// Slots subscribes to slot status updates.
	Slots bool `json:"slots,omitempty"`
	// BlocksMeta subscribes to block meta updates.
	BlocksMeta bool `json:"blocks_meta,omitempty"`
}

// Empty reports whether no filter is set.
func (f Filters) Empty() bool {
	return len(f.Owners) == 0 && len(f.Accounts) == 0 && len(f.TxAccounts) == 0 && !f.Slots && !f.BlocksMeta
}

// Equal reports whether f and g select the same updates (list order is ignored).
func (f Filters) Equal(g Filters) bool {
	return sameSet(f.Owners, g.Owners) && sameSet(f.Accounts, g.Accounts) && sameSet(f.TxAccounts, g.TxAccounts) &&
		f.Slots == g.Slots && f.BlocksMeta == g.BlocksMeta
}

func sameSet(a, b []string) bool {
	m := make(map[string]int, len(a))
	for _, s := range a {
		m[s]++
	}
	for _, s := range b {
		if m[s] == 0 {
			return false
		}
		m[s]--
	}
	for _, n := range m {
		if n != 0 {
			return false
		}
	}
	return true
}

// SanitizeEndpoint removes credentials from an endpoint URL before it is stored: user info, the query
// string, the fragment, and any path segment equal to token (providers that put the token in the path).
// A string that does not parse as a URL is reduced to "<unparseable endpoint>" unless it contains no
// token at all.
func SanitizeEndpoint(endpoint, token string) string {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		if token != "" && strings.Contains(endpoint, token) {
			return "<unparseable endpoint>"
		}
		if err != nil {
			return "<unparseable endpoint>"
		}
		return endpoint
	}
	u.User = nil
	u.RawQuery = ""
	u.ForceQuery = false
	u.Fragment = ""
	u.RawFragment = ""
	if token != "" && strings.Contains(u.Path, token) {
		segs := strings.Split(u.Path, "/")
		for i, s := range segs {
			if strings.Contains(s, token) {
				segs[i] = "REDACTED"
			}
		}
		u.Path = strings.Join(segs, "/")
		u.RawPath = ""
	}
	return u.String()
}

// Checkpoint is the durable position of an archive: it moves in the same transaction as the batch it
// describes, so after a crash it names exactly the last update on disk.
type Checkpoint struct {
	// Seq is the sequence number of the last durable update (0: none yet).
	Seq uint64 `json:"seq"`
	// Slot is the slot of the last durable update that carries a slot.
	Slot uint64 `json:"slot"`
	// MaxSlot is the highest slot of any durable update.
	MaxSlot uint64 `json:"max_slot"`
	// CommittedAt is when the batch was committed.
	CommittedAt time.Time `json:"committed_at"`
}

const checkpointLen = 32

func (c Checkpoint) encode() []byte {
	b := make([]byte, 0, checkpointLen)
	b = binary.BigEndian.AppendUint64(b, c.Seq)
	b = binary.BigEndian.AppendUint64(b, c.Slot)
	b = binary.BigEndian.AppendUint64(b, c.MaxSlot)
	var ns int64
	if !c.CommittedAt.IsZero() {
		ns = c.CommittedAt.UnixNano()
	}
	return binary.BigEndian.AppendUint64(b, uint64(ns))
}

func decodeCheckpoint(v []byte) (Checkpoint, error) {
	if len(v) < checkpointLen {
		return Checkpoint{}, fmt.Errorf("%w: checkpoint has %d bytes, want %d", ErrCorrupt, len(v), checkpointLen)
	}
	c := Checkpoint{
		Seq:     binary.BigEndian.Uint64(v[0:8]),
		Slot:    binary.BigEndian.Uint64(v[8:16]),
		MaxSlot: binary.BigEndian.Uint64(v[16:24]),
	}
	if ns := int64(binary.BigEndian.Uint64(v[24:32])); ns != 0 {
		c.CommittedAt = time.Unix(0, ns).UTC()
	}
	return c, nil
}

// counters are running totals kept in meta/counters and moved with each batch, so Stats is O(1).
type counters struct {
	messages uint64
	bytes    uint64 // raw SubscribeUpdate bytes
	byKind   [256]uint64
}

func (c *counters) encode() []byte {
	n := len(geyserpb.AllKinds())
	for k := len(c.byKind) - 1; k >= n; k-- {
		if c.byKind[k] != 0 {
			n = k + 1
			break
		}
	}
	b := make([]byte, 0, 16+8*n)
	b = binary.BigEndian.AppendUint64(b, c.messages)
	b = binary.BigEndian.AppendUint64(b, c.bytes)
	for k := 0; k < n; k++ {
		b = binary.BigEndian.AppendUint64(b, c.byKind[k])
	}
	return b
}

func decodeCounters(v []byte) (counters, error) {
	var c counters
	if len(v) < 16 || (len(v)-16)%8 != 0 || (len(v)-16)/8 > len(c.byKind) {
		return c, fmt.Errorf("%w: counters have %d bytes", ErrCorrupt, len(v))
	}
	c.messages = binary.BigEndian.Uint64(v[0:8])
	c.bytes = binary.BigEndian.Uint64(v[8:16])
	for k := 0; 16+8*k < len(v); k++ {
		c.byKind[k] = binary.BigEndian.Uint64(v[16+8*k:])
	}
	return c, nil
}
