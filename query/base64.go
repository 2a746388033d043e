package query

// The cursor's base64: base64.RawURLEncoding written out, for the browser
// client, where encoding/base64 costs some 12 KB of wasm for these two
// calls. FuzzBase64URL holds them to encoding/base64.

const base64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// encodeBase64URL is base64.RawURLEncoding.EncodeToString(src).
func encodeBase64URL(src []byte) string {
	dst := make([]byte, 0, (len(src)*8+5)/6)
	for len(src) >= 3 {
		v := uint(src[0])<<16 | uint(src[1])<<8 | uint(src[2])
		dst = append(dst, base64URL[v>>18&0x3f], base64URL[v>>12&0x3f], base64URL[v>>6&0x3f], base64URL[v&0x3f])
		src = src[3:]
	}
	switch len(src) {
	case 1:
		v := uint(src[0]) << 16
		dst = append(dst, base64URL[v>>18&0x3f], base64URL[v>>12&0x3f])
	case 2:
		v := uint(src[0])<<16 | uint(src[1])<<8
		dst = append(dst, base64URL[v>>18&0x3f], base64URL[v>>12&0x3f], base64URL[v>>6&0x3f])
	}
	return string(dst)
}

// decodeBase64URL is base64.RawURLEncoding.DecodeString(s), ok where that
// gives no error: unpadded, newlines and carriage returns skipped, the
// unused bits of a last partial group ignored.
func decodeBase64URL(s string) ([]byte, bool) {
	dst := make([]byte, 0, len(s)*6/8)
	var v uint
	n := 0 // sextets in v
	for i := 0; i < len(s); i++ {
		c := s[i]
		var d byte
		switch {
		case 'A' <= c && c <= 'Z':
			d = c - 'A'
		case 'a' <= c && c <= 'z':
			d = c - 'a' + 26
		case '0' <= c && c <= '9':
			d = c - '0' + 52
		case c == '-':
			d = 62
		case c == '_':
			d = 63
		case c == '\n' || c == '\r':
			continue
		default:
			return nil, false
		}
		v = v<<6 | uint(d)
		if n++; n == 4 {
			dst = append(dst, byte(v>>16), byte(v>>8), byte(v))
			v, n = 0, 0
		}
	}
	switch n {
	case 1:
		return nil, false
	case 2:
		dst = append(dst, byte(v>>4))
	case 3:
		dst = append(dst, byte(v>>10), byte(v>>2))
	}
	return dst, true
}
