package stack

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func minimalSpec(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("testdata/minimal.stack.json")
	require.NoError(t, err)
	return string(data)
}

// edit replaces the single occurrence of from in s (failing when from is absent or ambiguous).
func edit(t *testing.T, s, from, to string) string {
	t.Helper()
	require.Equal(t, 1, strings.Count(s, from), "edit target %q must occur exactly once", from)
	return strings.Replace(s, from, to, 1)
}

func TestSpecErrors(t *testing.T) {
	t.Parallel()
	base := minimalSpec(t)
	cases := []struct {
		name     string
		from, to string
		want     string
		is       error
	}{
		{
			name: "unsupported ast version",
			from: `"ast_version": "0.0.1",
  "stack_name"`, to: `"ast_version": "0.0.2",
  "stack_name"`,
			want: `ast_version: unsupported ast_version "0.0.2" (supported: "0.0.1")`,
			is:   ErrUnsupportedVersion,
		},
		{
			name: "unsupported entity ast version",
			from: `"ast_version": "0.0.1",
      "state_name"`, to: `"ast_version": "1.0.0",
      "state_name"`,
			want: `entities[0].ast_version: unsupported ast_version "1.0.0" (supported: "0.0.1")`,
			is:   ErrUnsupportedVersion,
		},
		{
			name: "unknown mapping source variant",
			from: `"source": {"FromSource": {"path": {"segments": ["supply"]`,
			to:   `"source": {"FromSauce": {"path": {"segments": ["supply"]`,
			want: `entities[0].handlers[0].mappings[1].source: unknown variant "FromSauce"`,
			is:   ErrUnknownVariant,
		},
		{
			name: "unknown population strategy",
			from: `"population": "Count"`, to: `"population": "LastValue"`,
			want: `entities[0].handlers[1].mappings[0].population: unknown variant "LastValue"`,
			is:   ErrUnknownVariant,
		},
		{
			name: "unknown key resolution",
			from: `{"Lookup": {"primary_field"`, to: `{"Search": {"primary_field"`,
			want: `entities[0].handlers[1].key_resolution: unknown variant "Search"`,
			is:   ErrUnknownVariant,
		},
		{
			name: "unknown expression variant",
			from: `{"ResolverComputed": {`, to: `{"Resolved": {`,
			want: `entities[0].computed_field_specs[0].expression: unknown variant "Resolved"`,
			is:   ErrUnknownVariant,
		},
		{
			name: "unknown nested expression variant",
			from: `{"FieldRef": {"path": "state.supply"}}`, to: `{"FieldRefs": {"path": "state.supply"}}`,
			want: `entities[0].computed_field_specs[0].expression.ResolverComputed.args[0]: unknown variant "FieldRefs"`,
			is:   ErrUnknownVariant,
		},
		{
			name: "unknown sort order",
			from: `"order": "desc"`, to: `"order": "down"`,
			want: `entities[0].views[0].pipeline[0].Sort.order: unknown variant "down"`,
			is:   ErrUnknownVariant,
		},
		{
			name: "unknown field in a handler",
			from: `"emit": true
        },
        {`, to: `"emit": true, "emitt": false
        },
        {`,
			want: `entities[0].handlers[0]: unknown field "emitt"`,
			is:   ErrUnknownField,
		},
		{
			name: "unknown top-level field",
			from: `"stack_name": "Mini",`, to: `"stack_name": "Mini", "stacks": [],`,
			want: `unknown field "stacks"`,
			is:   ErrUnknownField,
		},
		{
			name: "missing required field",
			from: `"state_name": "Mint",`, to: ``,
			want: `entities[0]: missing field "state_name"`,
			is:   ErrMissingField,
		},
		{
			name: "missing handler emit",
			from: `"conditions": [],
          "emit": true
        }
      ],`, to: `"conditions": []
        }
      ],`,
			want: `entities[0].handlers[1]: missing field "emit"`,
			is:   ErrMissingField,
		},
		{
			name: "duplicate field",
			from: `"stack_name": "Mini",`, to: `"stack_name": "Mini", "stack_name": "Maxi",`,
			want: `duplicate field "stack_name"`,
			is:   ErrDuplicateField,
		},
		{
			name: "wrong type",
			from: `"is_account": true`, to: `"is_account": "yes"`,
			want: `entities[0].handlers[0].source.Source.is_account: invalid type: expected boolean, found string`,
			is:   ErrInvalidType,
		},
		{
			name: "discriminator byte out of range",
			from: `"discriminator": [7]`, to: `"discriminator": [7, 300]`,
			want: `entities[0].handlers[0].source.Source.discriminator[1]: invalid value: 300 does not fit in u8`,
			is:   ErrInvalidValue,
		},
		{
			name: "fractional integer",
			from: `"discriminator": [7]`, to: `"discriminator": [7.5]`,
			want: `entities[0].handlers[0].source.Source.discriminator[0]: invalid type: expected u8, found 7.5`,
			is:   ErrInvalidType,
		},
		{
			name: "unit variant with a value",
			from: `"population": "SetOnce"`, to: `"population": {"SetOnce": 1}`,
			want: `entities[0].handlers[0].mappings[0].population.SetOnce: invalid type: unit variant "SetOnce" takes no value`,
			is:   ErrInvalidType,
		},
		{
			name: "enum object with two keys",
			from: `"output": "Collection"`, to: `"output": {"Single": null, "Collection": null}`,
			want: `entities[0].views[0].output: invalid type: expected a variant name or an object with exactly one key, found an object with 2 keys`,
			is:   ErrInvalidType,
		},
		{
			name: "field mapping key with dots",
			from: `"field_name": "mint", `, to: ``,
			want: `entities[0].field_mappings["id.mint"]: missing field "field_name"`,
			is:   ErrMissingField,
		},
		{
			name: "view of an unknown entity",
			from: `{"Entity": {"name": "Mint"}}`, to: `{"Entity": {"name": "Mnt"}}`,
			want: `entities[0].views[0].source.Entity.name: unknown reference: no entity "Mnt"`,
			is:   ErrUnknownReference,
		},
		{
			name: "computed spec not listed",
			from: `"computed_fields": ["state.ui_supply"]`, to: `"computed_fields": []`,
			want: `entities[0].computed_field_specs[0].target_path: unknown reference: "state.ui_supply" is not listed in computed_fields`,
			is:   ErrUnknownReference,
		},
		{
			name: "bad program id",
			from: `"program_ids": ["TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"]`, to: `"program_ids": ["not-base58"]`,
			want: `program_ids[0]: invalid value: "not-base58" is not a base58 public key`,
			is:   ErrInvalidValue,
		},
		{
			name: "program ids and idls disagree",
			from: `"program_ids": ["TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"]`, to: `"program_ids": []`,
			want: `program_ids: invalid value: 0 program ids for 1 IDL snapshots`,
			is:   ErrInvalidValue,
		},
		{
			name: "when is not an event type",
			from: `"population": "LastWrite"}`, to: `"population": "LastWrite", "when": "Reveal"}`,
			want: `entities[0].handlers[0].mappings[1].when: invalid value: "Reveal" is not an event type (program::Type)`,
			is:   ErrInvalidValue,
		},
		{
			name: "malformed content hash",
			from: `"stack_name": "Mini",`, to: `"stack_name": "Mini", "content_hash": "abc",`,
			want: `content_hash: invalid value: "abc" is not a lower-case hex SHA-256`,
			is:   ErrInvalidValue,
		},
		{
			name: "empty primary keys",
			from: `"primary_keys": ["id.mint"]`, to: `"primary_keys": []`,
			want: `entities[0].identity.primary_keys: invalid value: an entity needs a primary key`,
			is:   ErrInvalidValue,
		},
		{
			name: "constant number out of range",
			from: `"default": 0,`, to: `"default": 1e999,`,
			want: `entities[0].handlers[0].mappings[1].source.FromSource.default: invalid value: number 1e999 out of range`,
			is:   ErrInvalidValue,
		},
		{
			name: "top level is not an object",
			from: base, to: `[1, 2]`,
			want: `invalid type: expected object, found array`,
			is:   ErrInvalidType,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(edit(t, base, tc.from, tc.to)))
			require.Error(t, err)
			require.Equal(t, tc.want, err.Error())
			var se *SpecError
			require.ErrorAs(t, err, &se)
			require.True(t, errors.Is(err, tc.is), "errors.Is(%v)", tc.is)
		})
	}
}

func TestDuplicateNames(t *testing.T) {
	t.Parallel()
	base := minimalSpec(t)
	// Two entities with the same name: append a copy of the first.
	start := strings.Index(base, `    {
      "ast_version": "0.0.1",
      "state_name": "Mint"`)
	end := strings.LastIndex(base, "\n  ]\n}")
	require.Positive(t, start)
	entity := base[start:end]
	doubled := base[:end] + ",\n" + entity + base[end:]
	_, err := Parse([]byte(doubled))
	require.EqualError(t, err, `entities[1].state_name: duplicate name: entity "Mint" is already defined at entities[0]`)
	require.ErrorIs(t, err, ErrDuplicateName)

	renamed := base[:end] + ",\n" + strings.Replace(entity, `"state_name": "Mint"`, `"state_name": "Mint2"`, 1) + base[end:]
	_, err = Parse([]byte(renamed))
	require.EqualError(t, err, `entities[1].views[0].id: duplicate name: view "Mint/by_supply" is already defined at entities[0].views[0]`)
}

func TestSyntaxErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, input, want string
		line, col         int
	}{
		{"empty", "", "invalid JSON at line 1, column 1: unexpected end of JSON input", 1, 1},
		{"truncated", "{\n  \"stack_name\": \"x\",\n  \"entities\": [", "invalid JSON at line 3, column 16: unexpected end of JSON input", 3, 16},
		{"bad character", "{\n  \"stack_name\": x\n}", "invalid JSON at line 2, column 17: invalid character 'x' looking for beginning of value", 2, 17},
		{"missing comma", "{\"a\": 1\n \"b\": 2}", "invalid JSON at line 2, column 2: invalid character '\"' after object key:value pair", 2, 2},
		{"trailing data", "{}\n\n  }", "invalid JSON at line 3, column 3: invalid character '}' after top-level value", 3, 3},
		{"second value", "{} {}", "invalid JSON at line 1, column 4: invalid character '{' after top-level value", 1, 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.input))
			require.EqualError(t, err, tc.want)
			var se *SyntaxError
			require.ErrorAs(t, err, &se)
			require.Equal(t, tc.line, se.Line)
			require.Equal(t, tc.col, se.Column)
			require.ErrorIs(t, err, ErrInvalidJSON)
			var spe *SpecError
			require.ErrorAs(t, err, &spe)
			require.Empty(t, spe.Path)
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	t.Parallel()
	_, err := Load("testdata/does-not-exist.stack.json")
	require.ErrorIs(t, err, os.ErrNotExist)
	require.Contains(t, err.Error(), "load stack testdata/does-not-exist.stack.json")
}
