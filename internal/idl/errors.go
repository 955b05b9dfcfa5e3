package idl

import (
	"errors"
	"fmt"
)

var (
	// ErrUnknownDiscriminator is returned when data matches no account, instruction or event of the IDL.
	ErrUnknownDiscriminator = errors.New("unknown discriminator")
	// ErrShortBuffer is returned (inside a DecodeError) when the data ends before a value is complete.
	ErrShortBuffer = errors.New("short buffer")
	// ErrTrailingBytes is returned (inside a DecodeError) when bytes are left after a complete value
	// by a decoder that must consume its whole input.
	ErrTrailingBytes = errors.New("trailing bytes")
	// ErrInvalidValue is returned (inside a DecodeError) for bytes no value of the type encodes to:
	// a bool other than 0/1, an option tag other than 0/1, an enum tag past the last variant, a string
	// that is not UTF-8.
	ErrInvalidValue = errors.New("invalid value")
	// ErrUnknownName is returned when an account, instruction, event or type name is not in the IDL.
	ErrUnknownName = errors.New("unknown name")
	// ErrEncode is returned (wrapped with the path) when a value cannot be encoded as its IDL type.
	ErrEncode = errors.New("cannot encode value")
	// ErrBadIDL is returned (wrapped with the JSON location) when an IDL document cannot be understood.
	ErrBadIDL = errors.New("invalid idl")
	// ErrTooLarge is returned (inside a DecodeError) when a length prefix asks for more elements than
	// the remaining data could possibly hold.
	ErrTooLarge = errors.New("length prefix too large")
	// ErrNotStruct is returned by DecodeAccountFields and DecodeInstructionFields for an account or
	// instruction whose data is not a struct with named fields.
	ErrNotStruct = errors.New("account is not a struct with named fields")
)

// DecodeError reports where decoding failed: Path is the dotted location of the value being decoded
// (e.g. "Mint.freeze_authority" or "transfer.args.amount", array elements as "[i]"), Offset the byte
// offset in the input where the failing value starts, Type the IDL type being decoded, Err the cause
// (one of ErrShortBuffer, ErrTrailingBytes, ErrInvalidValue, ErrTooLarge).
type DecodeError struct {
	Path   string
	Offset int
	Type   string
	Err    error
}

func (e *DecodeError) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("decode %s at offset %d: %v", e.Type, e.Offset, e.Err)
	}
	return fmt.Sprintf("decode %s (%s) at offset %d: %v", e.Path, e.Type, e.Offset, e.Err)
}

// Unwrap returns the cause.
func (e *DecodeError) Unwrap() error { return e.Err }

// EncodeError reports which value could not be encoded: Path as in DecodeError, Type the IDL type,
// Err the cause (wraps ErrEncode).
type EncodeError struct {
	Path string
	Type string
	Err  error
}

func (e *EncodeError) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("encode %s: %v", e.Type, e.Err)
	}
	return fmt.Sprintf("encode %s (%s): %v", e.Path, e.Type, e.Err)
}

// Unwrap returns the cause.
func (e *EncodeError) Unwrap() error { return e.Err }

// prefixPath prepends seg to the path of a DecodeError or EncodeError; other errors pass through.
func prefixPath(err error, seg string) error {
	switch e := err.(type) {
	case *DecodeError:
		e.Path = joinPath(seg, e.Path)
	case *EncodeError:
		e.Path = joinPath(seg, e.Path)
	}
	return err
}

func joinPath(seg, rest string) string {
	switch {
	case rest == "":
		return seg
	case seg == "":
		return rest
	case rest[0] == '[':
		return seg + rest
	default:
		return seg + "." + rest
	}
}
