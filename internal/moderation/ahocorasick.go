package moderation

// automaton is an Aho–Corasick automaton over bytes, compiled to a full
// DFA on a compressed alphabet: one table lookup per input byte, whatever
// the number of patterns. Bytes that occur in no pattern share class 0.
type automaton struct {
	class   [256]uint16
	nclass  int
	next    []int32 // state*nclass + class → state
	out     [][]int32
	dict    []int32 // nearest proper suffix state with output, -1 if none
	lengths []int   // pattern index → length in bytes
}

func newAutomaton(patterns []string) *automaton {
	a := &automaton{lengths: make([]int, len(patterns))}
	n := 1
	for _, p := range patterns {
		for i := 0; i < len(p); i++ {
			if a.class[p[i]] == 0 {
				a.class[p[i]] = uint16(n)
				n++
			}
		}
	}
	a.nclass = n
	// Build the trie.
	goto_ := []map[uint16]int32{{}}
	a.out = [][]int32{nil}
	for pi, p := range patterns {
		a.lengths[pi] = len(p)
		st := int32(0)
		for i := 0; i < len(p); i++ {
			c := a.class[p[i]]
			nx, ok := goto_[st][c]
			if !ok {
				nx = int32(len(goto_))
				goto_ = append(goto_, map[uint16]int32{})
				a.out = append(a.out, nil)
				goto_[st][c] = nx
			}
			st = nx
		}
		a.out[st] = append(a.out[st], int32(pi))
	}
	ns := len(goto_)
	a.next = make([]int32, ns*n)
	a.dict = make([]int32, ns)
	fail := make([]int32, ns)
	// Breadth-first: complete the transition function with failure links.
	queue := make([]int32, 0, ns)
	for c := 0; c < n; c++ {
		if nx, ok := goto_[0][uint16(c)]; ok {
			a.next[c] = nx
			queue = append(queue, nx)
		}
	}
	a.dict[0] = -1
	for len(queue) > 0 {
		st := queue[0]
		queue = queue[1:]
		f := fail[st]
		if len(a.out[f]) > 0 {
			a.dict[st] = f
		} else {
			a.dict[st] = a.dict[f]
		}
		for c := 0; c < n; c++ {
			if nx, ok := goto_[st][uint16(c)]; ok {
				fail[nx] = a.next[int(f)*n+c]
				a.next[int(st)*n+c] = nx
				queue = append(queue, nx)
			} else {
				a.next[int(st)*n+c] = a.next[int(f)*n+c]
			}
		}
	}
	return a
}

// scan calls hit(pattern, end) for every occurrence of every pattern in s;
// end is the byte offset just past the occurrence.
func (a *automaton) scan(s string, hit func(p int, end int)) {
	if len(a.next) <= a.nclass { // no patterns
		return
	}
	st := int32(0)
	n := int32(a.nclass)
	for i := 0; i < len(s); i++ {
		st = a.next[st*n+int32(a.class[s[i]])]
		for o := st; o > 0; o = a.dict[o] {
			for _, p := range a.out[o] {
				hit(int(p), i+1)
			}
		}
	}
}
