package idl

import (
	"encoding/binary"
	"sort"
)

// discTable finds the definition whose discriminator prefixes some data. Discriminators of 1 and 8
// bytes (the usual ones) are looked up without allocating; other lengths go through a string map.
type discTable struct {
	one     [256]int32 // index+1 by first byte, for 1-byte discriminators
	hasOne  bool
	eight   map[uint64]int32
	other   map[int]map[string]int32 // by length
	lengths []int                    // distinct lengths other than 1 and 8, longest first
}

func (t *discTable) add(disc []byte, idx int) {
	switch len(disc) {
	case 0:
		return
	case 1:
		if t.one[disc[0]] == 0 {
			t.one[disc[0]] = int32(idx + 1)
		}
		t.hasOne = true
	case 8:
		if t.eight == nil {
			t.eight = make(map[uint64]int32)
		}
		k := binary.LittleEndian.Uint64(disc)
		if _, dup := t.eight[k]; !dup {
			t.eight[k] = int32(idx)
		}
	default:
		if t.other == nil {
			t.other = make(map[int]map[string]int32)
		}
		m := t.other[len(disc)]
		if m == nil {
			m = make(map[string]int32)
			t.other[len(disc)] = m
			t.lengths = append(t.lengths, len(disc))
			sort.Sort(sort.Reverse(sort.IntSlice(t.lengths)))
		}
		if _, dup := m[string(disc)]; !dup {
			m[string(disc)] = int32(idx)
		}
	}
}

// lookup returns the index of the longest discriminator that prefixes data, or -1.
func (t *discTable) lookup(data []byte) int {
	for _, l := range t.lengths {
		if l > 8 && len(data) >= l {
			if i, ok := t.other[l][string(data[:l])]; ok {
				return int(i)
			}
		}
	}
	if t.eight != nil && len(data) >= 8 {
		if i, ok := t.eight[binary.LittleEndian.Uint64(data)]; ok {
			return int(i)
		}
	}
	for _, l := range t.lengths {
		if l < 8 && l > 1 && len(data) >= l {
			if i, ok := t.other[l][string(data[:l])]; ok {
				return int(i)
			}
		}
	}
	if t.hasOne && len(data) >= 1 {
		if i := t.one[data[0]]; i != 0 {
			return int(i - 1)
		}
	}
	return -1
}

type matchTables struct {
	accounts     discTable
	accountSizes map[int]int32 // data length -> account index, for discriminator-less accounts
	instructions discTable
	events       discTable
}

func (p *IDL) buildMatchTables() {
	for i := range p.Accounts {
		a := &p.Accounts[i]
		if len(a.Discriminator) == 0 {
			if a.Size > 0 {
				if p.match.accountSizes == nil {
					p.match.accountSizes = make(map[int]int32)
				}
				if _, dup := p.match.accountSizes[a.Size]; !dup {
					p.match.accountSizes[a.Size] = int32(i)
				}
			}
			continue
		}
		p.match.accounts.add(a.Discriminator, i)
	}
	for i := range p.Instructions {
		p.match.instructions.add(p.Instructions[i].Discriminator, i)
	}
	for i := range p.Events {
		p.match.events.add(p.Events[i].Discriminator, i)
	}
}
