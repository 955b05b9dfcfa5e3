// Package idl reads Solana program interface descriptions (IDLs) and turns raw account, instruction
// and event bytes into plain values, and back.
//
// # Formats
//
// Parse accepts legacy Anchor IDLs (≤0.29: isMut/isSigner, publicKey, {"defined":"X"}, account
// fields inline), Anchor 0.30+ IDLs (address, metadata, explicit discriminator arrays, writable/signer,
// pubkey, {"defined":{"name":"X","generics":[…]}}, account and event fields under types), Steel IDLs
// (metadata.origin "steel", a one-byte instruction `discriminant`, 8-byte account discriminators),
// and the IDL snapshots a stack.json embeds (`idls[i]`: program_id, discriminant_size, account fields
// inline). ParseStack reads every snapshot of a stack.json.
//
// # Discriminators
//
// Explicit discriminator arrays are used as given. Otherwise instructions get their Steel
// discriminant as one byte, or Anchor's sha256("global:"+snake_case(name))[:8]; accounts get
// sha256("account:"+Name)[:8]; events sha256("event:"+Name)[:8]. Matching picks the longest
// discriminator that prefixes the data.
//
// Programs whose accounts carry no discriminator (SPL Token) declare an empty discriminator and the
// exact data length in an extra account field, `size`:
//
//	"accounts": [{"name": "Mint", "discriminator": [], "size": 82}, …]
//
// Such an account matches data of exactly that length, after every discriminator has failed to
// match. The repository's fixtures/idl/spl-token.json is written this way.
//
// # Layouts
//
// Types are Borsh-encoded unless their definition says `"serialization": "bytemuck"` (or
// "bytemuckunsafe"): then the type, and every type inside it, uses the zero-copy C layout — fields at
// offsets aligned to their natural alignment (u16 2, u32/i32/f32 4, u64/i64/f64 8, u128/i128 8 as on
// the SBF target, pubkey and byte arrays 1), the struct size rounded up to its alignment,
// `repr.packed` removing all padding and `repr.align` raising the alignment. In that layout a bool is
// a byte and decodes as the number 0 or 1, as the reference runtime does. {"coption": T} is Solana's
// COption: a u32 tag (0 None, 1 Some) followed by T, which is present (zeroed) even for None when T
// has a fixed size. Every layout is resolved once, at Parse time.
//
// # Values
//
// Decoded values are plain JSON-compatible Go trees, the model the VM consumes (design/vm.md §4.3):
//
//	struct             map[string]any, keyed by the snake_case of the IDL field name (SnakeCase)
//	tuple struct       []any
//	vec, array, set    []any
//	u8 … u64           uint64
//	i8 … i64           int64
//	f32, f64           float64
//	u128, i128, u256   decimal string
//	bool               bool (a 0/1 uint64 inside a zero-copy layout)
//	string             string
//	bytes              []any of uint64, one per byte (as the reference runtime emits them)
//	pubkey             base58 string
//	option, coption    nil for None, else the value
//	hashMap, bTreeMap  map[string]any keyed by the key's text (numbers in decimal, pubkeys base58)
//	enum               unit variant: its name as a string; struct variant: {"Name": {fields}};
//	                   tuple variant: {"Name": [values]} (serde's external tagging)
//
// Encoding accepts the same model, and for convenience any Go integer type, whole float64s,
// json.Number, []byte for byte arrays and bytes, solana.Pubkey for pubkeys and *big.Int for wide
// integers. Encoding is the exact inverse of decoding: decode(encode(v)) == v.
//
// # Errors
//
// Decoding never panics. A failure is a *DecodeError giving the dotted path of the value (e.g.
// "Account.close_authority" or "transfer.amount"), its byte offset, its type and the cause
// (ErrShortBuffer, ErrTrailingBytes, ErrInvalidValue, ErrTooLarge). Data matching no definition gives
// ErrUnknownDiscriminator. Account, instruction and event decoding tolerate trailing bytes as the
// chain does (IDL.Strict rejects them); DecodeType always requires the value to use every byte.
//
// # Performance
//
// Layouts are resolved once; matching a discriminator is an array or map lookup. A decode allocates
// the result maps plus one slab each for boxed numbers, list elements and list headers (sized from
// the layout), and takes pubkey text and short fixed byte arrays ([u8; N] up to 64 bytes) from a
// small lock-free per-IDL cache, so recurring keys (mints, owners, authorities) and recurring hashes
// or bit sets cost neither encoding nor allocation. Decoded values may therefore share storage with
// other decodes: treat them as read-only.
//
// An IDL is immutable once parsed (apart from that cache) and safe for concurrent use; so is a
// Registry.
package idl
