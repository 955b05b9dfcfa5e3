package projection

import (
	"slices"
	"strings"
)

// sortedIndex keeps the keys of a view in sort order. Not safe for concurrent use: the Store's lock
// guards it.
type sortedIndex struct {
	sort  Sort
	items []indexItem
	vals  map[string]sortVal
}

type indexItem struct {
	key string
	v   sortVal
}

func newSortedIndex(s Sort) *sortedIndex {
	return &sortedIndex{sort: s, vals: make(map[string]sortVal)}
}

func (ix *sortedIndex) compare(a, b indexItem) int {
	c := compareVals(a.v, b.v)
	if ix.sort.Desc {
		c = -c
	}
	if c != 0 {
		return c
	}
	return strings.Compare(a.key, b.key)
}

func (ix *sortedIndex) find(it indexItem) (int, bool) {
	return slices.BinarySearchFunc(ix.items, it, ix.compare)
}

// set places key at the position its sort value gives it.
func (ix *sortedIndex) set(key string, v sortVal) {
	if old, ok := ix.vals[key]; ok {
		if compareVals(old, v) == 0 && old.kind == v.kind {
			return
		}
		if i, found := ix.find(indexItem{key, old}); found {
			ix.items = slices.Delete(ix.items, i, i+1)
		}
	}
	it := indexItem{key, v}
	i, _ := ix.find(it)
	ix.items = slices.Insert(ix.items, i, it)
	ix.vals[key] = v
}

func (ix *sortedIndex) remove(key string) {
	old, ok := ix.vals[key]
	if !ok {
		return
	}
	if i, found := ix.find(indexItem{key, old}); found {
		ix.items = slices.Delete(ix.items, i, i+1)
	}
	delete(ix.vals, key)
}

func (ix *sortedIndex) len() int { return len(ix.items) }

// sortValue is the value an entity sorts by in an index with sort s.
func sortValue(s Sort, e *entity) sortVal {
	if s.isSeq() {
		return sortVal{kind: kindSeq, slot: e.slot, seq: e.seq}
	}
	v, ok := lookup(e.data, s.Field)
	if !ok {
		return sortVal{kind: kindNull}
	}
	return toSortVal(v)
}
