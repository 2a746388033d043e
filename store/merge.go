package store

// mergePatch merges patch into target the way deep-merge-triple does, which
// is JSON Merge Patch (RFC 7386) and what InstantDB's jsonb_deep_merge does:
// when patch is an object, each of its keys is merged recursively into
// target (taken as an empty object if it is not one), and a null in patch
// deletes the key; any other patch (array, scalar) replaces target whole.
//
// target must be freshly decoded (from [Value.Any]): it is modified in
// place. patch is only read.
func mergePatch(target, patch any) any {
	p, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	t, ok := target.(map[string]any)
	if !ok {
		t = make(map[string]any, len(p))
	}
	for k, v := range p {
		if v == nil {
			delete(t, k)
			continue
		}
		t[k] = mergePatch(t[k], v)
	}
	return t
}

// MergeValues returns the value deep-merge-triple leaves when patch is
// merged into current; current is the zero Value (null) when the entity has
// no value yet. See [Step] and [Snapshot.Apply].
func MergeValues(current, patch Value) (Value, error) {
	var base any
	if current.Kind() == KindJSON {
		base = current.Any()
	}
	return FromAny(mergePatch(base, patch.Any()))
}
