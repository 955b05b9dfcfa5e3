package extract

import (
	"errors"

	"github.com/hyperstack-go/hyperstack/internal/event"
	"github.com/hyperstack-go/hyperstack/internal/idl"
	"github.com/hyperstack-go/hyperstack/internal/solana"
)

// typeKey identifies a decoded item for the cache of type strings and account-name lists.
type typeKey struct {
	p    *idl.IDL
	kind event.DecodedKind
	name string
}

// typeInfo is what the Extractor caches per decoded item: the "<idl>::<Name>" string and, for
// instructions, the IDL's account names.
type typeInfo struct {
	typ   string
	names []string
}

// maxTypeCache bounds the cache of type strings (IDLs can be replaced at run time).
const maxTypeCache = 1 << 14

func (x *Extractor) info(p *idl.IDL, kind event.DecodedKind, name string, def *idl.InstructionDef) typeInfo {
	k := typeKey{p, kind, name}
	if ti, ok := x.types[k]; ok {
		return ti
	}
	ti := typeInfo{typ: TypeName(p, name)}
	if def != nil {
		ti.names = AccountNames(def)
	}
	if x.types == nil || len(x.types) >= maxTypeCache {
		x.types = make(map[typeKey]typeInfo, 64)
	}
	x.types[k] = ti
	return ti
}

// TypeName returns the display name of an IDL item: "<idl name>::<Name>" with the item name in
// PascalCase, e.g. "spl_token::Transfer" for the instruction "transfer".
func TypeName(p *idl.IDL, name string) string {
	return p.Name + "::" + idl.PascalCase(name)
}

// AccountNames returns the names the IDL gives an instruction's accounts, in order.
func AccountNames(def *idl.InstructionDef) []string {
	names := make([]string, len(def.Accounts))
	for i := range def.Accounts {
		names[i] = def.Accounts[i].Name
	}
	return names
}

// NamedAccount is an instruction account with the name its IDL gives it.
type NamedAccount struct {
	Name   string
	Pubkey solana.Pubkey
}

// NamedAccounts pairs an instruction's resolved accounts with the names of its IDL decoding
// (Decoded.AccountNames), by position. Accounts past the IDL's list (such as the signers of a
// multisig authority) are dropped; names past the instruction's accounts are unused. It returns nil
// for an instruction that was not decoded as an instruction.
func NamedAccounts(in *event.Instruction) []NamedAccount {
	d := in.Decoded
	if d == nil || d.Kind != event.DecodedInstruction {
		return nil
	}
	n := min(len(d.AccountNames), len(in.Accounts))
	out := make([]NamedAccount, n)
	for i := range n {
		out[i] = NamedAccount{Name: d.AccountNames[i], Pubkey: in.Accounts[i]}
	}
	return out
}

// AccountsObject returns NamedAccounts as a JSON-ready object: IDL account name → base58 address
// (the "accounts" object of the instruction events the VM consumes). Nil when not decoded.
func AccountsObject(in *event.Instruction) map[string]any {
	named := NamedAccounts(in)
	if named == nil {
		return nil
	}
	out := make(map[string]any, len(named))
	for _, a := range named {
		out[a.Name] = a.Pubkey.String()
	}
	return out
}

func (x *Extractor) decodeAccount(a *event.Account) {
	p, ok := x.idls.Lookup(a.Owner)
	if !ok {
		return
	}
	name, v, err := p.DecodeAccount(a.Data)
	if err != nil {
		x.decodeFailed("account", p, err, "pubkey", a.Pubkey)
		return
	}
	a.Decoded = &event.Decoded{Kind: event.DecodedAccount, Program: p.Name, Name: name,
		Type: x.info(p, event.DecodedAccount, name, nil).typ, Fields: v}
}

func (x *Extractor) decodeInstruction(in *event.Instruction) {
	p, ok := x.idls.Lookup(in.ProgramID)
	if !ok {
		return
	}
	if in.CPIEvent {
		in.Decoded = x.decodeEvent(p, in.Data, in)
	} else {
		def, v, err := p.DecodeInstruction(in.Data)
		if err != nil {
			x.decodeFailed("instruction", p, err, "signature", in.Signature, "path", in.Path)
		} else {
			ti := x.info(p, event.DecodedInstruction, def.Name, def)
			in.Decoded = &event.Decoded{Kind: event.DecodedInstruction, Program: p.Name, Name: def.Name,
				Type: ti.typ, Fields: v, AccountNames: ti.names}
		}
	}
	for i := range in.LogEvents {
		in.LogEvents[i].Decoded = x.decodeEvent(p, in.LogEvents[i].Data, in)
	}
}

func (x *Extractor) decodeEvent(p *idl.IDL, data []byte, in *event.Instruction) *event.Decoded {
	name, v, err := p.DecodeEvent(data)
	if err != nil {
		x.decodeFailed("event", p, err, "signature", in.Signature, "path", in.Path)
		return nil
	}
	return &event.Decoded{Kind: event.DecodedEvent, Program: p.Name, Name: name,
		Type: x.info(p, event.DecodedEvent, name, nil).typ, Fields: v}
}

func (x *Extractor) decodeFailed(what string, p *idl.IDL, err error, kv ...any) {
	if x.logger == nil {
		return
	}
	msg := what + " does not decode"
	if errors.Is(err, idl.ErrUnknownDiscriminator) {
		msg = what + " has an unknown discriminator"
	}
	x.logger.Debug(msg, append([]any{"idl", p.Name, "err", err}, kv...)...)
}
