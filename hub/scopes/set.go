package scopes

import (
	"fmt"
	"sort"
)

// filters is what a Set holds for one scope name: everything, or the
// entities per kind (scopes.py parse_scopes).
type filters struct {
	all bool
	by  map[Kind]map[string]bool
}

// Set is a reduced set of expanded scopes: for each scope name, either
// unfiltered access or the users, servers, groups and services it is
// restricted to. The zero Set is empty. A Set is never modified after it is
// built, so it is safe to share between goroutines.
type Set struct {
	m map[string]filters
}

// builder accumulates scopes into a Set, reducing as it goes.
type builder struct {
	m map[string]filters
}

func (b *builder) add(s Scope) {
	if b.m == nil {
		b.m = map[string]filters{}
	}
	f := b.m[s.Name]
	if f.all {
		return
	}
	if !s.Filtered() {
		b.m[s.Name] = filters{all: true}
		return
	}
	if f.by == nil {
		f.by = map[Kind]map[string]bool{}
	}
	if f.by[s.Kind] == nil {
		f.by[s.Kind] = map[string]bool{}
	}
	f.by[s.Kind][s.Value] = true
	b.m[s.Name] = f
}

func (b *builder) addSet(s Set) {
	for _, sc := range s.scopes() {
		b.add(sc)
	}
}

func (b *builder) set() Set { return Set{m: b.m} }

// parseSet reads already-expanded scope strings without expanding them
// further, as scopes.py parse_scopes does. Bare filters are rejected: only
// an owner can resolve them.
func parseSet(strs []string) (Set, error) {
	var b builder
	for _, str := range strs {
		s, err := Parse(str)
		if err != nil {
			return Set{}, err
		}
		if s.Unresolved() {
			return Set{}, fmt.Errorf("scope %q has an unresolved filter: resolve it for its owner first", str)
		}
		b.add(s)
	}
	return b.set(), nil
}

// scopes lists the Set as Scope values in no particular order.
func (s Set) scopes() []Scope {
	var out []Scope
	for name, f := range s.m {
		if f.all {
			out = append(out, Scope{Name: name})
			continue
		}
		for kind, vals := range f.by {
			for v := range vals {
				out = append(out, Scope{Name: name, Kind: kind, Value: v})
			}
		}
	}
	return out
}

// Len is the number of scope strings in s.
func (s Set) Len() int {
	n := 0
	for _, f := range s.m {
		if f.all {
			n++
			continue
		}
		for _, vals := range f.by {
			n += len(vals)
		}
	}
	return n
}

// Sorted returns the scope strings of set sorted and without duplicates:
// the exact list /hub/api/user echoes in "scopes" (Python's sorted() on the
// reduced set; UTF-8 byte order is code point order).
func Sorted(set Set) []string {
	out := []string{}
	for _, sc := range set.scopes() {
		out = append(out, sc.String())
	}
	sort.Strings(out)
	return out
}

// Strings is Sorted(s).
func (s Set) Strings() []string { return Sorted(s) }

// String formats s for logs.
func (s Set) String() string { return fmt.Sprint(Sorted(s)) }

// Contains reports whether the exact scope string str is in s, after
// reduction: "read:users!user=alice" is not contained in a set holding
// unfiltered read:users. Use Allows to ask what s permits.
func (s Set) Contains(str string) bool {
	sc, err := Parse(str)
	if err != nil {
		return false
	}
	f, ok := s.m[sc.Name]
	if !ok {
		return false
	}
	if !sc.Filtered() {
		return f.all
	}
	return !f.all && f.by[sc.Kind][sc.Value]
}

// Union returns every scope in any of sets, reduced.
func Union(sets ...Set) Set {
	var b builder
	for _, s := range sets {
		b.addSet(s)
	}
	return b.set()
}

// Intersect returns what both a and b grant, as scopes.py
// _intersect_expanded_scopes does without a database: filters of the same
// kind intersect, an unfiltered scope yields the other side's filters, and a
// server filter survives against a user filter naming the server's owner
// (access:servers!server=alice/ ∩ access:servers!user=alice =
// access:servers!server=alice/). Group filters meet only equal group names,
// since membership is not known here. Use it to cap a token at its owner.
func Intersect(a, b Set) Set {
	var out builder
	for name, fa := range a.m {
		fb, ok := b.m[name]
		if !ok {
			continue
		}
		switch {
		case fa.all && fb.all:
			out.add(Scope{Name: name})
		case fa.all:
			out.addFilters(name, fb.by)
		case fb.all:
			out.addFilters(name, fa.by)
		default:
			common := map[Kind]map[string]bool{}
			for kind, va := range fa.by {
				for v := range va {
					if fb.by[kind][v] {
						setAdd(common, kind, v)
					}
				}
			}
			// Resolve the user/server hierarchy both ways: a server of a
			// user the other side names in full is common too.
			for _, pair := range [2][2]map[Kind]map[string]bool{{fa.by, fb.by}, {fb.by, fa.by}} {
				x, y := pair[0], pair[1]
				for srv := range x[KindServer] {
					user, _ := splitServer(srv)
					if y[KindUser][user] {
						setAdd(common, KindServer, srv)
					}
				}
			}
			out.addFilters(name, common)
		}
	}
	return out.set()
}

func setAdd(m map[Kind]map[string]bool, k Kind, v string) {
	if m[k] == nil {
		m[k] = map[string]bool{}
	}
	m[k][v] = true
}

func (b *builder) addFilters(name string, by map[Kind]map[string]bool) {
	for kind, vals := range by {
		for v := range vals {
			b.add(Scope{Name: name, Kind: kind, Value: v})
		}
	}
}
