package jsonlite

// SortStrings sorts a in increasing order, as slices.Sort does: an
// insertion sort for the few keys of an object, a heapsort beyond. The
// packages of the browser client sort strings with it, not slices.Sort,
// whose instantiation for strings costs the wasm some 20 KB; what they
// sort is object keys and ids, seldom more than a few dozen.
func SortStrings(a []string) {
	if len(a) <= 12 {
		for i := 1; i < len(a); i++ {
			x := a[i]
			j := i
			for j > 0 && a[j-1] > x {
				a[j] = a[j-1]
				j--
			}
			a[j] = x
		}
		return
	}
	for i := len(a)/2 - 1; i >= 0; i-- {
		siftDown(a, i)
	}
	for i := len(a) - 1; i > 0; i-- {
		a[0], a[i] = a[i], a[0]
		siftDown(a[:i], 0)
	}
}

// siftDown moves a[i] down the max-heap a to its place.
func siftDown(a []string, i int) {
	for {
		c := 2*i + 1
		if c >= len(a) {
			return
		}
		if c+1 < len(a) && a[c] < a[c+1] {
			c++
		}
		if a[i] >= a[c] {
			return
		}
		a[i], a[c] = a[c], a[i]
		i = c
	}
}

// SortedKeys returns m's keys in increasing order, nil when it has none:
// slices.Sorted(maps.Keys(m)), by way of SortStrings.
func SortedKeys[V any](m map[string]V) []string {
	if len(m) == 0 {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	SortStrings(keys)
	return keys
}
