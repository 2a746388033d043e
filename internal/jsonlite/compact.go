package jsonlite

// AppendCompact appends the valid JSON text src as json.Marshal writes a
// Marshaler's output (or a RawMessage): without the whitespace between
// tokens, and with <, >, &, U+2028 and U+2029 in strings escaped.
func AppendCompact(dst, src []byte) []byte {
	return appendCompact(dst, src, false)
}

// CompactTail is AppendCompact for dst[n:], a valid JSON text already
// written at the end of dst, in place. Most texts need nothing: it copies
// only from the first byte to change.
func CompactTail(dst []byte, n int) []byte {
	i, inString := firstChange(dst[n:])
	if i < 0 {
		return dst
	}
	tail := append([]byte(nil), dst[n+i:]...)
	return appendCompact(dst[:n+i], tail, inString)
}

// firstChange returns the offset of the first byte of valid JSON text b
// that appendCompact would change, or -1, and whether it is in a string.
func firstChange(b []byte) (int, bool) {
	inString := false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; c {
		case '"':
			inString = !inString
		case '\\':
			i++ // only inside strings
		case ' ', '\t', '\n', '\r':
			if !inString {
				return i, false
			}
		case '<', '>', '&':
			return i, true
		case 0xe2:
			if i+2 < len(b) && b[i+1] == 0x80 && b[i+2]&^1 == 0xa8 {
				return i, true
			}
		}
	}
	return -1, false
}

// appendCompact is AppendCompact for src starting inside a string if
// inString.
func appendCompact(dst, src []byte, inString bool) []byte {
	start := 0
	for i := 0; i < len(src); i++ {
		switch c := src[i]; c {
		case '"':
			inString = !inString
		case '\\':
			i++
		case ' ', '\t', '\n', '\r':
			if !inString {
				dst = append(dst, src[start:i]...)
				start = i + 1
			}
		case '<', '>', '&':
			dst = append(dst, src[start:i]...)
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			start = i + 1
		case 0xe2:
			if i+2 < len(src) && src[i+1] == 0x80 && src[i+2]&^1 == 0xa8 {
				dst = append(dst, src[start:i]...)
				dst = append(dst, '\\', 'u', '2', '0', '2', hex[src[i+2]&0xf])
				i += 2
				start = i + 1
			}
		}
	}
	return append(dst, src[start:]...)
}
