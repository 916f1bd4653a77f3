package limit

// MakeRoom bounds a cache m to most entries before one more goes in: when
// it is full, the entries expired says are dropped, and when none is, all
// of them (each is only a saving: it is made again when next needed). A
// cache keyed by what anyone may send, such as tokens, cannot then grow
// without end.
func MakeRoom[K comparable, V any](m map[K]V, most int, expired func(V) bool) {
	if len(m) < most {
		return
	}
	for k, v := range m {
		if expired(v) {
			delete(m, k)
		}
	}
	if len(m) >= most {
		clear(m)
	}
}
